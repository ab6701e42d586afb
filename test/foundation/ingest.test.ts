import crypto from 'node:crypto';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';

let db: Database;
let app: App;
let userId: string;
let productId: string;
beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db);
  [{ id: userId }] = await db.dataSource.query(`SELECT id FROM users ORDER BY id LIMIT 1`);
  [{ id: productId }] = await db.dataSource.query(`SELECT id FROM products ORDER BY id LIMIT 1`);
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

const INGEST = `mutation($events:[EventInput!]!){ ingestEvents(events:$events){ accepted duplicates duplicateKeys } }`;
const run = crypto.randomBytes(4).toString('hex');
let n = 0;
function event(over: Record<string, unknown> = {}) {
  return {
    idempotencyKey: `t-${run}-${++n}`,
    userId,
    productId,
    type: 'VIEW',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    location: { latitude: -23.55, longitude: -46.63 },
    ...over,
  };
}
async function stored(keys: string[]): Promise<number> {
  const [{ c }] = await db.dataSource.query(`SELECT count(*)::int AS c FROM events WHERE idempotency_key = ANY($1)`, [keys]);
  return c;
}

describe('ingestEvents', () => {
  it('stores a batch and computes the H3 cell and price', async () => {
    const batch = [event(), event({ type: 'PURCHASE', quantity: 2 }), event({ type: 'SEARCH', productId: null, query: 'headphones' })];
    const r = await gql(app, INGEST, { events: batch });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.ingestEvents).toEqual({ accepted: 3, duplicates: 0, duplicateKeys: [] });
    const rows = await db.dataSource.query(
      `SELECT type, h3_r9::text AS h3, price::float AS price, ST_X(location) AS lng FROM events WHERE idempotency_key = ANY($1) ORDER BY id`,
      [batch.map((e) => e.idempotencyKey)],
    );
    expect(rows.map((x: { type: string }) => x.type)).toEqual(['view', 'purchase', 'search']);
    expect(rows[0].h3).toMatch(/^\d+$/);
    expect(rows[0].lng).toBeCloseTo(-46.63, 6);
    const [{ price }] = await db.dataSource.query(`SELECT price::float AS price FROM products WHERE id = $1`, [productId]);
    expect(rows[1].price).toBeCloseTo(price, 2);
  });

  it('is idempotent: re-sending a batch inserts nothing and reports the duplicates', async () => {
    const batch = [event(), event()];
    const first = await gql(app, INGEST, { events: batch });
    expect(first.body.data!.ingestEvents.accepted).toBe(2);
    const again = await gql(app, INGEST, { events: [...batch, event()] });
    expect(again.body.data!.ingestEvents.accepted).toBe(1);
    expect(again.body.data!.ingestEvents.duplicates).toBe(2);
    expect(again.body.data!.ingestEvents.duplicateKeys.sort()).toEqual(batch.map((e) => e.idempotencyKey).sort());
    expect(await stored(batch.map((e) => e.idempotencyKey))).toBe(2);
  });

  it('counts a key repeated within one batch once', async () => {
    const e = event();
    const r = await gql(app, INGEST, { events: [e, e] });
    expect(r.body.data!.ingestEvents).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('is all-or-nothing: one bad event stores none, and the error names index and field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ userId: '999999999' }, /events\[2\]\.userId: unknown user/],
      [{ productId: '999999999' }, /events\[2\]\.productId: unknown product/],
      [{ location: { latitude: 91, longitude: 0 } }, /events\[2\]\.location\.latitude/],
      [{ location: { latitude: 0, longitude: -181 } }, /events\[2\]\.location\.longitude/],
      [{ occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, /events\[2\]\.occurredAt: is in the future/],
      [{ productId: null }, /events\[2\]\.productId: is required for view events/],
      [{ quantity: 0 }, /events\[2\]\.quantity/],
      [{ idempotencyKey: '' }, /events\[2\]\.idempotencyKey/],
    ];
    for (const [bad, message] of cases) {
      const batch = [event(), event(), event(bad)];
      const r = await gql(app, INGEST, { events: batch });
      expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.body.errors?.[0]?.message).toMatch(message);
      expect(await stored(batch.map((e) => e.idempotencyKey))).toBe(0);
    }
  });

  it('rejects an unknown event type at the GraphQL layer with BAD_USER_INPUT', async () => {
    const r = await gql(app, INGEST, { events: [event({ type: 'TELEPORT' })] });
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/type/);
  });

  it('refuses more than 5,000 events per call', async () => {
    const r = await gql(app, INGEST, { events: Array.from({ length: 5001 }, () => event()) });
    expect(r.body.errors?.[0]?.message).toMatch(/\$events has more than 5000 items|at most 5000/);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('accepts a full 5,000-event batch', async () => {
    const batch = Array.from({ length: 5000 }, () => event());
    const r = await gql(app, INGEST, { events: batch });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.ingestEvents.accepted).toBe(5000);
  });

  it('keeps serving after bad input', async () => {
    await gql(app, INGEST, { events: [event({ userId: 'not-a-number' })] });
    const r = await gql(app, `{ users(first: 1) { edges { node { id } } } }`);
    expect(r.body.data!.users.edges).toHaveLength(1);
  });

  it('stays consistent when the same batch races itself', async () => {
    const batch = Array.from({ length: 50 }, () => event());
    const results = await Promise.all([1, 2, 3].map(() => gql(app, INGEST, { events: batch })));
    const accepted = results.reduce((a, r) => a + r.body.data!.ingestEvents.accepted, 0);
    expect(accepted).toBe(50);
    expect(await stored(batch.map((e) => e.idempotencyKey))).toBe(50);
  });
});
