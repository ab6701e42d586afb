/**
 * Issue 16, privacy: the attacks an outside auditor used to single out one person through
 * trending and partner analytics, replayed. A lone shopper in a place nobody else goes views four
 * products; restricted keys must not learn which, nor that somebody was there.
 */
import { gql, useTestApp } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const t = useTestApp({ PARTNER_ALLOWLIST_ONLY: 'false', MERIDIAN_DP_BUDGET_PER_DAY: '20' });

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
    const day = Math.floor(when.getTime() / 86_400_000) * 86_400_000;
    const input = { productId: products[0], metric: 'EVENTS', from: new Date(day).toISOString(), to: new Date(day + 86_400_000).toISOString() };
    const admin = await gql(t.app, q, { i: input });
    expect(admin.body.data!.spatialDistribution).toEqual({ total: 1, users: 1 });
    const r = await gql(t.app, q, { i: input }, partner);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.spatialDistribution).toEqual({ total: null, users: null });
  });
});

describe('differencing partner answers', () => {
  const Q = `query($i: AggregateInput!) { aggregates(input: $i) { bucketStart value users } }`;
  const CENTRE = { latitude: -23.55, longitude: -46.63 }; // São Paulo: many shoppers in the demo data
  let week: number;
  let day: number;

  beforeAll(async () => {
    // The week with the most shoppers within 10 km, and one person's hour at 21:30 on its Wednesday.
    const [{ w }] = await t.db.dataSource.query(
      `SELECT (extract(epoch FROM date_trunc('week', occurred_at, 'UTC')) * 1000)::float8 AS w FROM events
       WHERE ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 10000)
       GROUP BY 1 ORDER BY count(DISTINCT user_id) DESC LIMIT 1`,
      [CENTRE.longitude, CENTRE.latitude],
    );
    week = Number(w);
    day = week + 2 * 86_400_000;
    const [{ id: userId }] = await t.db.dataSource.query(`SELECT id::text AS id FROM users ORDER BY id DESC LIMIT 1`);
    const at = new Date(day + 21.5 * 3_600_000).toISOString();
    const events = products.map((productId, i) => ({ idempotencyKey: `hour-${stamp}-${i}`, userId, productId, type: 'VIEW', occurredAt: at, location: CENTRE }));
    expect((await gql(t.app, `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }`, { e: events })).body.data!.ingestEvents.accepted).toBe(4);
  });

  const input = (toHour: number) => ({
    metric: 'EVENTS', bucket: 'WEEK', where: { near: CENTRE, radiusKm: 10 },
    from: new Date(week - 4 * 7 * 86_400_000).toISOString(), to: new Date(day + toHour * 3_600_000).toISOString(),
  });
  const total = (cells: { value: number }[]) => cells.reduce((a, c) => a + c.value, 0);

  it('lets an admin see the hour (the attack works on exact answers)', async () => {
    const diff = total((await gql(t.app, Q, { i: input(22) })).body.data!.aggregates) - total((await gql(t.app, Q, { i: input(21) })).body.data!.aggregates);
    expect(diff).toBeGreaterThanOrEqual(4);
  });

  it('gives a partner the same answer for both cut times and for a nudged circle: the hour cannot be isolated', async () => {
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    const a = await gql(t.app, Q, { i: input(22) }, partner);
    const b = await gql(t.app, Q, { i: input(21) }, partner);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data!.aggregates.length).toBeGreaterThan(0);
    expect(b.body.data).toEqual(a.body.data);
    // a sliver more radius or a nudged centre is the same aligned area, so the same answer
    const nudged = { ...input(22), where: { near: { latitude: CENTRE.latitude + 0.002, longitude: CENTRE.longitude - 0.003 }, radiusKm: 10.3 } };
    expect((await gql(t.app, Q, { i: nudged }, partner)).body.data).toEqual(a.body.data);
    // whole weeks only: the last published bucket is the week before the cut
    const last = Math.max(...(a.body.data!.aggregates as { bucketStart: string }[]).map((c) => Date.parse(c.bucketStart)));
    expect(last).toBe(week - 7 * 86_400_000);
  });

  it('publishes noisy values, the same for every key and every repeat (no averaging)', async () => {
    const whole = { ...input(0), to: new Date(week + 7 * 86_400_000).toISOString() };
    const exact = (await gql(t.app, Q, { i: whole })).body.data!.aggregates as { bucketStart: string; value: number }[];
    const p1 = bearer(await createKey(t.app, 'PARTNER'));
    const p2 = bearer(await createKey(t.app, 'PARTNER'));
    const one = (await gql(t.app, Q, { i: whole }, p1)).body.data!.aggregates as { bucketStart: string; value: number }[];
    expect((await gql(t.app, Q, { i: whole }, p2)).body.data!.aggregates).toEqual(one);
    expect((await gql(t.app, Q, { i: whole }, p1)).body.data!.aggregates).toEqual(one);
    const byDay = new Map(exact.map((c) => [c.bucketStart, c.value]));
    const errors = one.map((c) => c.value - byDay.get(c.bucketStart)!);
    expect(errors.some((e) => e !== 0)).toBe(true); // noise is there
    for (const e of errors) expect(Math.abs(e)).toBeLessThan(25); // and calibrated (Laplace(1): |x| > 25 has p ~ 1e-11)
  });

  it('refuses answers once a key has spent its daily budget', async () => {
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 21; i++) codes.push((await gql(t.app, Q, { i: input(22) }, partner)).body.errors?.[0]?.extensions?.code);
    expect(codes.slice(0, 20)).toEqual(Array(20).fill(undefined));
    expect(codes[20]).toBe('PRIVACY_BUDGET_EXHAUSTED');
  });
});
