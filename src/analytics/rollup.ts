/**
 * Rollup maintenance. Event ingestion appends `rollupCtes` to its INSERT statement, so the events
 * and every rollup row they touch are written by one statement: atomic, and a duplicate event
 * (skipped by ON CONFLICT on the idempotency key) never reaches the rollups because they read
 * only the rows the INSERT returned. Tables and their keys: migrations/1764700000000-analytics.ts.
 *
 * Each upsert feeds its rows sorted by key, so concurrent batches lock shared rows in the same
 * order and do not deadlock each other.
 */
import type { EventTypeName } from '../events/event.entity';
import { bucketSql } from './buckets';
import type { Queryable } from '../db/queryable';
import { directoryRow } from './cells';
import { kindCode, MERGE_KINDS } from './kinds';
import { eraseUserFromRegionUsers, regionUserCtes } from './region-users';

/** Count columns shared by every count rollup, in order. */
/** revenue_cents: Σ price × quantity of purchases in integer cents (prices have 2 decimals): exact and cheap to sum. */
export const COUNT_COLUMNS = ['views', 'searches', 'carts', 'purchases', 'favorites', 'units', 'revenue_cents'] as const;
export type CountColumn = (typeof COUNT_COLUMNS)[number];

/** Column holding the count of each event type. */
export const TYPE_COLUMN: Readonly<Record<EventTypeName, CountColumn>> = {
  view: 'views',
  search: 'searches',
  cart: 'carts',
  purchase: 'purchases',
  favorite: 'favorites',
};

/** SQL aggregates over raw event rows aliased `alias`, in COUNT_COLUMNS order. */
export function countSums(alias: string): string {
  const t = `${alias}.type`;
  return [
    `count(*) FILTER (WHERE ${t} = 'view')`,
    `count(*) FILTER (WHERE ${t} = 'search')`,
    `count(*) FILTER (WHERE ${t} = 'cart')`,
    `count(*) FILTER (WHERE ${t} = 'purchase')`,
    `count(*) FILTER (WHERE ${t} = 'favorite')`,
    `coalesce(sum(${alias}.quantity) FILTER (WHERE ${t} = 'purchase'), 0)`,
    `coalesce(sum(round(${alias}.price * 100)::bigint * ${alias}.quantity) FILTER (WHERE ${t} = 'purchase'), 0)`,
  ].join(', ');
}

const COLS = COUNT_COLUMNS.join(', ');
const R8_PARENTS = 'r3, r4, r5, r6, r7';
const R8_PARENT_EXPRS = 'ev.r3, ev.r4, ev.r5, ev.r6, ev.r7';
const ADD = COUNT_COLUMNS.map((c) => `${c} = t.${c} + EXCLUDED.${c}`).join(', ');

/** Upsert of summed counts keyed by `keyCols`; `extraCols` are functions of the key (e.g. parent cells). */
export function upsert(table: string, keyCols: string, keyExprs: string, from: string, extraCols = '', extraExprs = ''): string {
  const n = keyCols.split(',').length + (extraCols ? extraCols.split(',').length : 0);
  const order = Array.from({ length: n }, (_, i) => i + 1).join(', ');
  const cols = extraCols ? `${keyCols}, ${extraCols}` : keyCols;
  const exprs = extraExprs ? `${keyExprs}, ${extraExprs}` : keyExprs;
  return `INSERT INTO ${table} AS t (${cols}, ${COLS})
    SELECT ${exprs}, ${countSums('ev')} FROM ${from} GROUP BY ${order} ORDER BY ${order}
    ON CONFLICT (${keyCols}) DO UPDATE SET ${ADD}`;
}

/** Extra statement parameters: the directory rows of the batch's distinct res-9 cells. */
export function rollupParams(h3r9: readonly (string | null)[]): unknown[] {
  const rows = [...new Set(h3r9.filter((h): h is string => h !== null))].map(directoryRow);
  return [
    rows.map((r) => r.h3),
    ...[0, 1, 2, 3, 4, 5].map((i) => rows.map((r) => r.parents[i])),
    rows.map((r) => r.wkt),
  ];
}

export const HOUR = bucketSql('HOUR', 'ev.occurred_at');
const DAY = bucketSql('DAY', 'ev.occurred_at');
const WEEK = bucketSql('WEEK', 'ev.occurred_at');

/** The count rollups: key columns, how a row of `ev` (or `ev_region` for regional ones) maps to them. */
export const COUNT_ROLLUPS: readonly {
  readonly table: string;
  readonly keyCols: string;
  readonly keyExprs: string;
  readonly regional: boolean;
  readonly extraCols?: string;
  readonly extraExprs?: string;
}[] = [
  {
    table: 'analytics_hourly', keyCols: 'bucket, h3_r9, category_id', keyExprs: `${HOUR}, ev.cell, ev.cat`, regional: false,
    extraCols: 'r8', extraExprs: 'ev.r8',
  },
  { table: 'analytics_daily', keyCols: 'bucket, h3_r9', keyExprs: `${DAY}, ev.cell`, regional: false, extraCols: 'r8', extraExprs: 'ev.r8' },
  {
    table: 'analytics_daily_r7', keyCols: 'bucket, h3_r7', keyExprs: `${DAY}, ev.r7`, regional: false,
    extraCols: 'r3, r4, r5, r6', extraExprs: 'ev.r3, ev.r4, ev.r5, ev.r6',
  },
  { table: 'analytics_region_hourly', keyCols: 'region_id, bucket, category_id', keyExprs: `ev.region_id, ${HOUR}, ev.cat`, regional: true },
  { table: 'analytics_region_daily', keyCols: 'region_id, bucket, category_id', keyExprs: `ev.region_id, ${DAY}, ev.cat`, regional: true },
  {
    table: 'analytics_region_r8_hourly', keyCols: 'region_id, bucket, h3_r8', keyExprs: `ev.region_id, ${HOUR}, ev.r8`, regional: true,
    extraCols: R8_PARENTS, extraExprs: R8_PARENT_EXPRS,
  },
  {
    table: 'analytics_region_r8_daily', keyCols: 'region_id, bucket, h3_r8', keyExprs: `ev.region_id, ${DAY}, ev.r8`, regional: true,
    extraCols: R8_PARENTS, extraExprs: R8_PARENT_EXPRS,
  },
  {
    table: 'analytics_region_r8_weekly', keyCols: 'region_id, bucket, h3_r8', keyExprs: `ev.region_id, ${WEEK}, ev.r8`, regional: true,
    extraCols: R8_PARENTS, extraExprs: R8_PARENT_EXPRS,
  },
];

/** Columns every event row `ev` carries, from events `i`, products `p` and directory row `c`. */
export const EV_COLUMNS = `i.user_id, i.type, i.occurred_at, i.location, i.quantity, i.price,
           coalesce(i.h3_r9, 0) AS cell, coalesce(c.r8, 0) AS r8, coalesce(c.r7, 0) AS r7, coalesce(c.r6, 0) AS r6,
           coalesce(c.r5, 0) AS r5, coalesce(c.r4, 0) AS r4, coalesce(c.r3, 0) AS r3, coalesce(p.category_id, 0) AS cat`;
/** Rows of `ev` inside built regions (the regional rollups are maintained only for those). */
const EV_REGION = `ev_region AS (
    SELECT ev.*, r.id AS region_id FROM ev JOIN regions r ON ST_Intersects(r.geom, ev.location)
    JOIN analytics_region_state s ON s.region_id = r.id)`;

/**
 * CTEs (to follow `WITH ins AS (INSERT INTO events … RETURNING user_id, product_id, type,
 * occurred_at, location, h3_r9, quantity, price), `) that fold the inserted rows into every rollup.
 * `p` is the number of the first of the 8 parameters made by rollupParams.
 */
export function rollupCtes(p: number): string {
  return `
  cellp AS (
    SELECT * FROM unnest($${p}::bigint[], $${p + 1}::bigint[], $${p + 2}::bigint[], $${p + 3}::bigint[],
                         $${p + 4}::bigint[], $${p + 5}::bigint[], $${p + 6}::bigint[], $${p + 7}::text[])
      AS c(h, r3, r4, r5, r6, r7, r8, wkt)),
  new_cells AS (
    INSERT INTO analytics_cells (h3_r9, r3, r4, r5, r6, r7, r8, geom)
    SELECT h, r3, r4, r5, r6, r7, r8, ST_GeomFromText(wkt, 4326) FROM cellp
    WHERE h IN (SELECT h3_r9 FROM ins) ORDER BY h
    ON CONFLICT (h3_r9) DO NOTHING
    RETURNING h3_r9, geom),
  new_region_cells AS (
    INSERT INTO analytics_region_cells (region_id, h3_r9, interior)
    SELECT s.region_id, n.h3_r9, ST_Within(n.geom, s.inner_geom)
    FROM new_cells n JOIN analytics_region_state s ON ST_Intersects(n.geom, s.outer_geom)
    ORDER BY 1, 2 ON CONFLICT DO NOTHING),
  ev AS (
    SELECT ${EV_COLUMNS}
    FROM ins i LEFT JOIN products p ON p.id = i.product_id LEFT JOIN cellp c ON c.h = i.h3_r9),
  ${EV_REGION},
  ${COUNT_ROLLUPS.map(
    (r, k) => `up_${k} AS (${upsert(r.table, r.keyCols, r.keyExprs, r.regional ? 'ev_region AS ev' : 'ev', r.extraCols, r.extraExprs)})`,
  ).join(',\n  ')},
  up_users AS (
    INSERT INTO analytics_user_hourly AS t (bucket, h3_r9, user_id, kinds)
    SELECT ${HOUR}, ev.cell, ev.user_id, array_agg(DISTINCT ${kindCode('ev', 'ev.cat')})
    FROM ev GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (bucket, h3_r9, user_id) DO UPDATE
      SET kinds = ${MERGE_KINDS} WHERE NOT t.kinds @> EXCLUDED.kinds),
  ${regionUserCtes()}`;
}

/**
 * Right to erasure: takes one user's events out of every rollup. Run it inside the deletion
 * transaction, before the events are deleted (it reads them); deleteUser runs it as the erasure
 * registry's `rollups` hook (src/privacy/erasure-registry.ts). Rows left with no events are removed.
 */
export async function eraseUserFromRollups(db: Queryable, userId: string): Promise<void> {
  const source = `ev AS (
    SELECT ${EV_COLUMNS}
    FROM events i LEFT JOIN products p ON p.id = i.product_id LEFT JOIN analytics_cells c ON c.h3_r9 = i.h3_r9
    WHERE i.user_id = $1), ${EV_REGION}`;
  for (const r of COUNT_ROLLUPS) {
    const keys = r.keyCols.split(',').map((k) => k.trim());
    const x = `x AS (SELECT ${r.keyExprs}, ${countSums('ev')} FROM ${r.regional ? 'ev_region AS ev' : 'ev'}
      GROUP BY ${keys.map((_, i) => i + 1).join(', ')})`;
    const on = keys.map((k, i) => `t.${k} = x.k${i}`).join(' AND ');
    const xcols = `${keys.map((_, i) => `k${i}`).join(', ')}, ${COLS}`;
    // Lock the rows in key order first, the order ingestion's upserts take them in, so an erasure
    // running beside an ingestion batch waits for it instead of deadlocking with it.
    await db.query(
      `WITH ${source}, ${x.replace('x AS (', `x(${xcols}) AS (`)}
       SELECT 1 FROM ${r.table} t JOIN x ON ${on} ORDER BY ${keys.map((k) => `t.${k}`).join(', ')} FOR UPDATE OF t`,
      [userId],
    );
    await db.query(
      `WITH ${source}, ${x.replace('x AS (', `x(${xcols}) AS (`)}
       UPDATE ${r.table} t SET ${COUNT_COLUMNS.map((c) => `${c} = t.${c} - x.${c}`).join(', ')} FROM x WHERE ${on}`,
      [userId],
    );
    await db.query(
      `WITH ${source}, ${x.replace('x AS (', `x(${xcols}) AS (`)}
       DELETE FROM ${r.table} t USING x WHERE ${on} AND ${COUNT_COLUMNS.slice(0, 5).map((c) => `t.${c} = 0`).join(' AND ')}`,
      [userId],
    );
  }
  await eraseUserFromRegionUsers(db, userId);
  await db.query(`DELETE FROM analytics_user_hourly WHERE user_id = $1`, [userId]);
}

/** The rollups as an InsertFold of events/event.writer.ts (wired in src/services.ts): live ingestion keeps them exact. */
export const rollupFold = { ctes: rollupCtes, params: rollupParams } as const;
