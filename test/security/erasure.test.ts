/**
 * Right to erasure across every derived store. On the seeded test data, the user with the most
 * events inside built city regions is erased through the public `deleteUser` mutation; then:
 * (a) no table holds the user's id, except what the erasure registry retains with a reason;
 * (b) every rollup equals a fresh computation over the remaining events: the aggregates answered
 *     from them equal the raw-event reference (test/analytics/reference.ts), and each rollup table
 *     equals what the bulk rebuild (checked against raw SQL by test/analytics/rollup.test.ts)
 *     recomputes from the remaining events;
 * (c) every table with a user column is covered by the registry (a new one cannot be forgotten);
 * and caches holding aggregates over the user's events are dropped when the erasure commits.
 */
import type { DataSource } from 'typeorm';
import type { AggregateInputData } from '../../src/analytics/analytics.model';
import { AggregateService } from '../../src/analytics/aggregate.service';
import { RegionRollups } from '../../src/analytics/region-rollups';
import { REGION_USER_TABLES } from '../../src/analytics/region-users';
import { COUNT_COLUMNS, COUNT_ROLLUPS } from '../../src/analytics/rollup';
import { rebuildRollups } from '../../src/analytics/rollup-rebuild';
import { PopularityRepository } from '../../src/recommend/popularity.repository';
import { referenceAggregate, type RefQuery } from '../analytics/reference';
import { gql, useTestApp } from '../helpers/app';
import { createKey } from '../helpers/keys';

// A long cache TTL, so a cache that is not dropped on erasure would still answer afterwards.
const t = useTestApp({ MERIDIAN_SERVING_CACHE_TTL_MS: '10000' });

/** Every derived table the erasure must keep exact: count rollups, per-user rows, region user counters. */
const ROLLUP_TABLES = [...COUNT_ROLLUPS.map((r) => r.table), 'analytics_user_hourly', ...REGION_USER_TABLES];
/** The test demo's whole span (TEST_DEMO: 90 days up to 2026-06-01), in whole days. */
const FROM = new Date('2026-03-01T00:00:00Z');
const TO = new Date('2026-06-02T00:00:00Z');

let ds: DataSource;
let victim: string;
let cities: string[];

beforeAll(async () => {
  ds = t.db.dataSource;
  const regions = new RegionRollups(ds);
  cities = await regions.ids('city');
  await regions.ensureFresh(cities); // built before the erasure, so it must maintain them
  [{ user_id: victim }] = await ds.query(
    `SELECT e.user_id::text AS user_id FROM events e JOIN regions r ON r.kind = 'city' AND ST_Intersects(r.geom, e.location)
     GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
  );
  // A key for the user, so the audit log mentions them (createApiKey's input.userId).
  await createKey(t.app, 'FRONTEND', victim);
}, 180_000); // the first use builds the region rollups

/** Rows naming `id` in each table with a user column (information_schema), by table. */
async function rowsNaming(id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await userColumns(ds)) {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM ${c.table} WHERE ${c.column} = $1`, [id]);
    if (n > 0) out[`${c.table}.${c.column}`] = n;
  }
  return out;
}

/** Audit rows that name `id` (as target, or as a string anywhere in details), by action. */
async function auditRowsNaming(id: string): Promise<Record<string, number>> {
  const rows: { action: string; n: number }[] = await ds.query(
    `SELECT action, count(*)::int AS n FROM audit_log
     WHERE target = $1 OR jsonb_path_exists(details, '$.** ? (@ == $id)', jsonb_build_object('id', $1::text))
     GROUP BY 1`,
    [id],
  );
  return Object.fromEntries(rows.map((r) => [r.action, r.n]));
}

/** Per rollup table: row count, counter sums and a digest of the rows (kinds arrays sorted). */
async function fingerprint(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of ROLLUP_TABLES) {
    const cols: { column_name: string }[] = await ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY column_name`,
      [table],
    );
    const names = cols.map((c) => c.column_name);
    const norm = names.map((c) => (c === 'kinds' ? `ARRAY(SELECT k FROM unnest(kinds) AS k ORDER BY k)` : c)).join(', ');
    const sums = names.filter((c) => (COUNT_COLUMNS as readonly string[]).includes(c) || c === 'users').map((c) => `, sum(${c})::text AS ${c}`).join('');
    const [row] = await ds.query(
      `SELECT count(*)::int AS rows${sums}, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
       FROM (SELECT ${norm} FROM ${table}) AS x`,
    );
    out[table] = row;
  }
  return out;
}

describe('deleteUser erases the user from every derived store', () => {
  /** Read before the erasure. */
  let before: { rows: Record<string, number>; audit: Record<string, number>; eventsInBuiltRegions: number; trending: unknown[] };
  let deleted: { events: number };
  let spies: jest.SpyInstance[];
  let trendingAfter: { cached: unknown[]; fresh: unknown[] };

  beforeAll(async () => {
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM events e JOIN regions r ON ST_Intersects(r.geom, e.location)
       JOIN analytics_region_state s ON s.region_id = r.id WHERE e.user_id = $1`,
      [victim],
    );
    const { trending, recommendations, text } = t.app.services;
    spies = [jest.spyOn(recommendations, 'clearCaches'), jest.spyOn(text, 'clearCaches')];
    // Trending around the user's latest located event: cached now, read again after the erasure.
    const [last] = await ds.query(
      `SELECT ST_Y(location) AS lat, ST_X(location) AS lng, occurred_at FROM events
       WHERE user_id = $1 AND location IS NOT NULL AND product_id IS NOT NULL ORDER BY occurred_at DESC LIMIT 1`,
      [victim],
    );
    const args = { near: { latitude: last.lat, longitude: last.lng }, radiusKm: 3, window: 'MONTH' as const, first: 50, at: new Date(last.occurred_at.getTime() + 1000) };
    const summary = (rows: { product: { id: string }; events: number; users: number }[]) => rows.map((r) => [r.product.id, r.events, r.users]);
    before = { rows: await rowsNaming(victim), audit: await auditRowsNaming(victim), eventsInBuiltRegions: n, trending: summary(await trending.trending(args)) };

    const r = await gql(t.app, `mutation($id: ID!){ deleteUser(id: $id) { userId events reviews apiKeys } }`, { id: victim });
    expect(r.body.errors).toBeUndefined();
    deleted = r.body.data!.deleteUser;

    const fresh = await new PopularityRepository(ds).trending(args.near, args.radiusKm, args.at, 30 * 86_400_000, args.first);
    trendingAfter = { cached: summary(await trending.trending(args)), fresh: fresh.map((f) => [f.productId, f.events, f.users]) };
  });

  it('precondition: the user had events in built regions, rows in every per-user rollup, and audit mentions', () => {
    expect(before.eventsInBuiltRegions).toBeGreaterThan(50);
    for (const table of ['events', 'analytics_user_hourly', ...REGION_USER_TABLES.filter((x) => x !== 'analytics_region_user_counts')]) {
      expect({ table, has: (before.rows[`${table}.user_id`] ?? 0) > 0 }).toEqual({ table, has: true });
    }
    expect(before.audit.createApiKey).toBeGreaterThan(0);
    expect(deleted.events).toBe(before.rows['events.user_id']);
  });

  it('drops caches holding aggregates over the user, when the erasure commits', () => {
    expect(trendingAfter.cached).toEqual(trendingAfter.fresh);
    expect(trendingAfter.cached).not.toEqual(before.trending); // the user's events were in the window
    for (const spy of spies) expect(spy).toHaveBeenCalled();
  });

  it('(a) leaves the user id in no table, except the audit record that the erasure happened', async () => {
    expect(await rowsNaming(victim)).toEqual({});
    expect(await auditRowsNaming(victim)).toEqual({ deleteUser: 1 });
  });

  it('(b) leaves every rollup equal to a fresh computation over the remaining events', async () => {
    // Counters: the global hourly rollup sums to the number of events left.
    const [{ events, rolled }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM events) AS events,
              (SELECT sum(views + searches + carts + purchases + favorites)::int FROM analytics_hourly) AS rolled`,
    );
    expect(rolled).toBe(events);

    // Aggregates answered from the maintained rollups (region counters and user counts included) equal the raw reference.
    const service = new AggregateService(ds, new RegionRollups(ds));
    const cases: [AggregateInputData, RefQuery][] = [
      [{ metric: 'USERS', bucket: 'DAY', grid: { regions: true, regionKind: 'city' }, from: FROM, to: TO }, { metric: 'USERS', bucket: 'DAY', grid: { regions: cities }, from: FROM, to: TO }],
      [{ metric: 'USERS', bucket: 'MONTH', grid: { regions: true, regionKind: 'city' }, from: FROM, to: TO }, { metric: 'USERS', bucket: 'MONTH', grid: { regions: cities }, from: FROM, to: TO }],
      [{ metric: 'REVENUE', bucket: 'WEEK', grid: { regions: true, regionKind: 'city' }, from: FROM, to: TO }, { metric: 'REVENUE', bucket: 'WEEK', grid: { regions: cities }, from: FROM, to: TO }],
      [{ metric: 'EVENTS', bucket: 'DAY', grid: { h3Resolution: 7 }, from: FROM, to: TO }, { metric: 'EVENTS', bucket: 'DAY', grid: { h3: 7 }, from: FROM, to: TO }],
      [{ metric: 'USERS', bucket: 'WEEK', grid: { h3Resolution: 7 }, from: FROM, to: TO }, { metric: 'USERS', bucket: 'WEEK', grid: { h3: 7 }, from: FROM, to: TO }],
    ];
    for (const [input, ref] of cases) {
      const got = new Map((await service.aggregates(input, null)).map((g) => [`${g.cellId}|${g.bucketStart.toISOString()}`, g.value]));
      const want = await referenceAggregate(ds, ref);
      expect(want.size).toBeGreaterThan(0);
      const wrong = [...new Set([...got.keys(), ...want.keys()])]
        .filter((k) => got.get(k) !== want.get(k)?.value)
        .sort()
        .map((k) => `${k}: ${got.get(k)} (reference ${want.get(k)?.value})`);
      const name = `${input.metric} by ${input.bucket} on ${ref.grid && 'h3' in ref.grid ? 'H3 cells' : 'city regions'}`;
      expect({ name, wrong: wrong.length, first: wrong.slice(0, 3) }).toEqual({ name, wrong: 0, first: [] });
    }

    // Every row of every rollup table equals a bulk recomputation from the remaining events.
    const maintained = await fingerprint();
    await rebuildRollups(ds);
    expect(await new RegionRollups(ds).ensureFresh(cities)).toBe(cities.length);
    expect(maintained).toEqual(await fingerprint());
  }, 180_000);

  it('(c) covers every table with a user column in the erasure registry', async () => {
    const columns = await userColumns(ds);
    expect(columns.length).toBeGreaterThan(4);
    // The registry as composed at the root (src/services.ts): privacy's own rows plus every domain's part.
    const ERASURE_REGISTRY = t.app.services.privacy.registry.stores;
    const covered = new Set(ERASURE_REGISTRY.map((e) => `${e.table}.${e.userColumn}`));
    expect(columns.map((c) => `${c.table}.${c.column}`).filter((k) => !covered.has(k))).toEqual([]);
    // and names no table that does not exist (a stale entry would hide a renamed one)
    const [{ tables }] = await ds.query(`SELECT array_agg(table_name::text) AS tables FROM information_schema.tables WHERE table_schema = current_schema()`);
    expect(ERASURE_REGISTRY.map((e) => e.table).filter((x) => !(tables as string[]).includes(x))).toEqual([]);
  });
});

/** Columns naming a user: user_id, *_user_id, and users.id. */
async function userColumns(db: DataSource): Promise<{ table: string; column: string }[]> {
  return db.query(
    `SELECT c.table_name::text AS table, c.column_name::text AS column
     FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
       AND (c.column_name = 'user_id' OR c.column_name LIKE '%\\_user\\_id' OR (c.table_name = 'users' AND c.column_name = 'id'))
     ORDER BY 1, 2`,
  );
}
