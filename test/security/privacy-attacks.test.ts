/**
 * Issue 16, privacy: the attacks an outside auditor used to single out one person through
 * trending and partner analytics, replayed. A lone shopper in a place nobody else goes views four
 * products; restricted keys must not learn which, nor that somebody was there.
 */
import { gql, useTestApp } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const t = useTestApp({ PARTNER_ALLOWLIST_ONLY: 'false' });

const SPOT = { latitude: 4.123, longitude: 12.345 }; // nobody else in the seeded data is near it
const stamp = Date.now();
let products: string[] = [];
let when: Date;

beforeAll(async () => {
  const u = await gql(t.app, `mutation($u: [UserInput!]!) { upsertUsers(users: $u) { id } }`, {
    u: [{ externalId: `lone-${stamp}`, name: 'Lone Shopper', homeLocation: SPOT }],
  });
  const userId = u.body.data!.upsertUsers[0].id as string;
  const p = await gql(t.app, `mutation($p: [ProductInput!]!) { upsertProducts(products: $p) { id } }`, {
    p: [0, 1, 2, 3].map((i) => ({ externalId: `rare-${stamp}-${i}`, name: `Rare item ${i}`, price: 10 + i, category: 'Rare' })),
  });
  products = (p.body.data!.upsertProducts as { id: string }[]).map((x) => x.id);
  when = new Date(Date.now() - 30 * 60_000);
  const events = products.map((productId, i) => ({
    idempotencyKey: `lone-${stamp}-${i}`, userId, productId, type: 'VIEW', occurredAt: when.toISOString(), location: SPOT,
  }));
  const r = await gql(t.app, `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }`, { e: events });
  expect(r.body.data!.ingestEvents.accepted).toBe(4);
});

const TRENDING = (radiusKm: number) =>
  `{ trending(near: { latitude: ${SPOT.latitude}, longitude: ${SPOT.longitude} }, radiusKm: ${radiusKm}, window: DAY) { product { id } users } }`;

describe('trending', () => {
  it('shows admins the lone shopper\'s products (the data is there)', async () => {
    const r = await gql(t.app, TRENDING(0.001));
    expect((r.body.data!.trending as { product: { id: string } }[]).map((x) => x.product.id).sort()).toEqual([...products].sort());
  });

  it.each(['FRONTEND', 'PARTNER'] as const)('refuses a radius below the floor to %s keys, naming the argument', async (role) => {
    const key = bearer(await createKey(t.app, role));
    const r = await gql(t.app, TRENDING(0.001), {}, key);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toContain('radiusKm: must be at least 2');
  });

  it.each(['FRONTEND', 'PARTNER'] as const)('hides products behind fewer than k users from %s keys', async (role) => {
    const key = bearer(await createKey(t.app, role));
    const r = await gql(t.app, TRENDING(2), {}, key);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.trending).toEqual([]);
  });
});

describe('partner analytics', () => {
  const range = () => ({ from: new Date(when.getTime() - 2 * 3_600_000).toISOString(), to: new Date(when.getTime() + 2 * 3_600_000).toISOString() });

  it('publishes no user count for a suppressed timeSeries point', async () => {
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    const q = `query($i: TimeSeriesInput!) { timeSeries(input: $i) { points { bucketStart value users } } }`;
    const input = { metric: 'EVENTS', bucket: 'HOUR', where: { near: SPOT, radiusKm: 5 }, ...range() };
    const admin = await gql(t.app, q, { i: input });
    const busy = (admin.body.data!.timeSeries.points as { value: number | null; users: number | null }[]).filter((p) => (p.value ?? 0) > 0);
    expect(busy).toEqual([expect.objectContaining({ value: 4 })]);
    const r = await gql(t.app, q, { i: input }, partner);
    expect(r.body.errors).toBeUndefined();
    for (const p of r.body.data!.timeSeries.points as { value: number | null; users: number | null }[]) {
      expect(p.value).toBeNull();
      expect(p.users).toBeNull();
    }
  });

  it('suppresses spatialDistribution.total below k', async () => {
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    const q = `query($i: DistributionInput!) { spatialDistribution(input: $i) { total users } }`;
    const input = { productId: products[0], metric: 'EVENTS', ...range() };
    const admin = await gql(t.app, q, { i: input });
    expect(admin.body.data!.spatialDistribution).toEqual({ total: 1, users: 1 });
    const r = await gql(t.app, q, { i: input }, partner);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.spatialDistribution).toEqual({ total: null, users: null });
  });
});
