/**
 * Rollups are maintained by the ingestion statement itself: after seeding and after new batches
 * (duplicates and races included), every rollup table equals the same aggregation computed
 * directly from raw events, and the H3 cell directory agrees with h3-js.
 */
import crypto from 'node:crypto';
import { cellToParent } from 'h3-js';
import type { Database } from '../../src/db/database';
import { type EventInputData, EventService } from '../../src/events/event.service';
import { intToH3 } from '../../src/analytics/cells';
import { RegionRollups } from '../../src/analytics/region-rollups';
import { eraseUserFromRollups, rollupFold } from '../../src/analytics/rollup';
import { rebuildRollups } from '../../src/analytics/rollup-rebuild';
import { UserService } from '../../src/catalog/user.service';
import { openTestDatabase } from '../helpers/db';

let db: Database;
let events: EventService;
let userId: string;
let productId: string;

beforeAll(async () => {
  db = await openTestDatabase();
  events = new EventService(db.dataSource, { maxBatch: 5000, futureSkewSeconds: 300 }, rollupFold);
  const regions = new RegionRollups(db.dataSource);
  await regions.ensureFresh(await regions.ids('city'));
  [{ id: userId }] = await db.dataSource.query(`SELECT id FROM users ORDER BY id LIMIT 1`);
  [{ id: productId }] = await db.dataSource.query(`SELECT id FROM products ORDER BY id LIMIT 1`);
}, 180_000); // the first use builds the region rollups, and test files share one embedded backend
afterAll(async () => {
  await db.close();
});

/** Written out independently of src/analytics/rollup.ts on purpose. */
const REF_SUMS = `count(*) FILTER (WHERE e.type = 'view') AS views, count(*) FILTER (WHERE e.type = 'search') AS searches,
  count(*) FILTER (WHERE e.type = 'cart') AS carts, count(*) FILTER (WHERE e.type = 'purchase') AS purchases,
  count(*) FILTER (WHERE e.type = 'favorite') AS favorites,
  coalesce(sum(e.quantity) FILTER (WHERE e.type = 'purchase'), 0) AS units,
  coalesce(sum((e.price * 100)::bigint * e.quantity) FILTER (WHERE e.type = 'purchase'), 0) AS revenue_cents`;
const COLS = 'views, searches, carts, purchases, favorites, units, revenue_cents';

/** Rows in either set but not the other (symmetric difference), in one statement (one snapshot). */
async function differences(reference: string, table: string, keys: string): Promise<number> {
  const [{ n }] = await db.dataSource.query(`
    WITH ref AS (${reference}), roll AS (SELECT ${keys}, ${COLS} FROM ${table})
    SELECT ((SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT * FROM roll) a)
          + (SELECT count(*) FROM (SELECT * FROM roll EXCEPT SELECT * FROM ref) b))::int AS n`);
  return n;
}

async function expectRollupsMatchRaw(): Promise<void> {
  expect(
    await differences(
      `SELECT date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, coalesce(e.h3_r9, 0) AS h3_r9,
              coalesce(p.category_id, 0) AS category_id, ${REF_SUMS}
       FROM events e LEFT JOIN products p ON p.id = e.product_id GROUP BY 1, 2, 3`,
      'analytics_hourly',
      'bucket, h3_r9, category_id',
    ),
  ).toBe(0);
  expect(
    await differences(
      `SELECT date_trunc('day', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, coalesce(e.h3_r9, 0) AS h3_r9, ${REF_SUMS}
       FROM events e GROUP BY 1, 2`,
      'analytics_daily',
      'bucket, h3_r9',
    ),
  ).toBe(0);
  expect(
    await differences(
      `SELECT date_trunc('day', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, coalesce(c.r7, 0) AS h3_r7, ${REF_SUMS}
       FROM events e LEFT JOIN analytics_cells c ON c.h3_r9 = e.h3_r9 GROUP BY 1, 2`,
      'analytics_daily_r7',
      'bucket, h3_r7',
    ),
  ).toBe(0);
  const regional = `FROM events e JOIN regions r ON ST_Intersects(r.geom, e.location)
       JOIN analytics_region_state s ON s.region_id = r.id LEFT JOIN products p ON p.id = e.product_id`;
  for (const [table, unit] of [['analytics_region_hourly', 'hour'], ['analytics_region_daily', 'day']] as const) {
    expect(
      await differences(
        `SELECT r.id AS region_id, date_trunc('${unit}', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                coalesce(p.category_id, 0) AS category_id, ${REF_SUMS} ${regional} GROUP BY 1, 2, 3`,
        table,
        'region_id, bucket, category_id',
      ),
    ).toBe(0);
  }
  for (const [table, unit] of [['analytics_region_r8_hourly', 'hour'], ['analytics_region_r8_daily', 'day'], ['analytics_region_r8_weekly', 'week']] as const) {
    expect(
      await differences(
        `SELECT r.id AS region_id, date_trunc('${unit}', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                c.r8 AS h3_r8, ${REF_SUMS} ${regional} JOIN analytics_cells c ON c.h3_r9 = e.h3_r9 GROUP BY 1, 2, 3`,
        table,
        'region_id, bucket, h3_r8',
      ),
    ).toBe(0);
  }
  for (const [grain, unit] of [['DAY', 'day'], ['WEEK', 'week'], ['MONTH', 'month']] as const) {
    const table = `analytics_region_users_${{ DAY: 'daily', WEEK: 'weekly', MONTH: 'monthly' }[grain]}`;
    const bucket = `date_trunc('${unit}', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
    const [{ members, counts }] = await db.dataSource.query(`
      WITH ref AS (
        SELECT DISTINCT r.id AS region_id, ${bucket} AS bucket, e.user_id,
               coalesce(p.category_id, 0) * 8 + array_position(ARRAY['view','search','cart','purchase','favorite'], e.type) AS kind
        ${regional}),
      roll AS (SELECT region_id, bucket, user_id, unnest(kinds) AS kind FROM ${table}),
      ref_n AS (SELECT r.id AS region_id, ${bucket} AS bucket, count(DISTINCT e.user_id) AS users ${regional} GROUP BY 1, 2),
      roll_n AS (SELECT region_id, bucket, users FROM analytics_region_user_counts WHERE grain = '${grain}')
      SELECT ((SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT * FROM roll) a)
            + (SELECT count(*) FROM (SELECT * FROM roll EXCEPT SELECT * FROM ref) b))::int AS members,
             ((SELECT count(*) FROM (SELECT * FROM ref_n EXCEPT SELECT * FROM roll_n) a)
            + (SELECT count(*) FROM (SELECT * FROM roll_n EXCEPT SELECT * FROM ref_n) b))::int AS counts`);
    expect({ grain, members, counts }).toEqual({ grain, members: 0, counts: 0 });
  }
  const [{ missing }] = await db.dataSource.query(`
    WITH ref AS (
      SELECT DISTINCT date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, coalesce(e.h3_r9, 0) AS h3_r9, e.user_id,
             coalesce(p.category_id, 0) * 8 + array_position(ARRAY['view','search','cart','purchase','favorite'], e.type) AS kind
      FROM events e LEFT JOIN products p ON p.id = e.product_id),
    roll AS (SELECT bucket, h3_r9, user_id, unnest(kinds) AS kind FROM analytics_user_hourly)
    SELECT ((SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT * FROM roll) a)
          + (SELECT count(*) FROM (SELECT * FROM roll EXCEPT SELECT * FROM ref) b))::int AS missing`);
  expect(missing).toBe(0);
}

describe('rollups', () => {
  it('equal raw-event aggregations after seeding', async () => {
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM analytics_hourly`);
    expect(n).toBeGreaterThan(1000);
    await expectRollupsMatchRaw();
  });

  it('keep a directory row for every located cell, with h3-js parents and an outline around its events', async () => {
    const [{ orphans }] = await db.dataSource.query(
      `SELECT count(*)::int AS orphans FROM (SELECT DISTINCT h3_r9 FROM events WHERE h3_r9 IS NOT NULL) e
       WHERE NOT EXISTS (SELECT 1 FROM analytics_cells c WHERE c.h3_r9 = e.h3_r9)`,
    );
    expect(orphans).toBe(0);
    const sample: { h: string; r3: string; r5: string; r7: string; r8: string }[] = await db.dataSource.query(
      `SELECT h3_r9::text AS h, r3::text, r5::text, r7::text, r8::text FROM analytics_cells ORDER BY h3_r9 LIMIT 200`,
    );
    for (const c of sample) {
      const hex = intToH3(c.h);
      expect(intToH3(c.r3)).toBe(cellToParent(hex, 3));
      expect(intToH3(c.r5)).toBe(cellToParent(hex, 5));
      expect(intToH3(c.r7)).toBe(cellToParent(hex, 7));
      expect(intToH3(c.r8)).toBe(cellToParent(hex, 8));
    }
    // The outline is what classifies cells as inside an area: every event must lie on or within a
    // hair (1e-5°, ~1 m, the classification margin) of its cell's outline.
    const [{ worst }] = await db.dataSource.query(
      `SELECT max(ST_Distance(c.geom, e.location)) AS worst FROM events e JOIN analytics_cells c ON c.h3_r9 = e.h3_r9`,
    );
    expect(worst).toBeLessThan(1e-7);
  });

  it('count a new batch once, ignore re-sent duplicates, and stay exact under a race', async () => {
    const run = crypto.randomBytes(4).toString('hex');
    const at = new Date(Date.now() - 3_600_000);
    const batch = Array.from({ length: 40 }, (_, i): EventInputData => ({
      idempotencyKey: `rollup-${run}-${i}`,
      userId,
      productId: i % 5 === 0 ? null : productId,
      type: i % 5 === 0 ? 'search' : i % 3 === 0 ? 'purchase' : 'view',
      occurredAt: new Date(at.getTime() + i * 60_000),
      location: i % 7 === 0 ? null : { latitude: -23.55 + i * 0.001, longitude: -46.63 },
      quantity: i % 3 === 0 ? 2 : 1,
      query: i % 5 === 0 ? 'lamp' : null,
    }));
    const first = await events.ingest(batch);
    expect(first.accepted).toBe(40);
    const again = await events.ingest(batch);
    expect(again.accepted).toBe(0);
    const race = batch.map((e) => ({ ...e, idempotencyKey: `${e.idempotencyKey}-race` }));
    const results = await Promise.all([1, 2, 3].map(() => events.ingest(race)));
    expect(results.reduce((a, r) => a + r.accepted, 0)).toBe(40);
    await expectRollupsMatchRaw();
  });

  it('take an erased user out of every rollup (the privacy erasure hook)', async () => {
    const run = crypto.randomBytes(4).toString('hex');
    const [user] = await new UserService(db.dataSource).upsert([{ externalId: `erase-${run}`, name: 'To be erased' }]);
    const at = Date.now() - 7_200_000;
    await events.ingest(
      Array.from({ length: 12 }, (_, i): EventInputData => ({
        idempotencyKey: `erase-${run}-${i}`,
        userId: user!.id,
        productId,
        type: i % 4 === 0 ? 'purchase' : 'view',
        occurredAt: new Date(at + i * 600_000),
        location: { latitude: -23.55 + i * 0.002, longitude: -46.63 },
      })),
    );
    await db.dataSource.transaction(async (em) => {
      await eraseUserFromRollups(em, user!.id);
      await em.query(`DELETE FROM events WHERE user_id = $1`, [user!.id]);
    });
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM analytics_user_hourly WHERE user_id = $1`, [user!.id]);
    expect(n).toBe(0);
    await expectRollupsMatchRaw();
  });

  it('are rebuilt whole by the bulk path (rebuildRollups) to the same values', async () => {
    await rebuildRollups(db.dataSource);
    const regions = new RegionRollups(db.dataSource);
    expect(await regions.ensureFresh(await regions.ids('city'))).toBeGreaterThan(0);
    await expectRollupsMatchRaw();
  }, 180_000);
});
