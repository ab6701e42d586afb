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
import { directoryRow } from './cells';

/** Count columns shared by every count rollup, in order. */
export const COUNT_COLUMNS = ['views', 'searches', 'carts', 'purchases', 'favorites', 'units', 'revenue'] as const;
export type CountColumn = (typeof COUNT_COLUMNS)[number];

/** Column holding the count of each event type. */
export const TYPE_COLUMN: Readonly<Record<EventTypeName, CountColumn>> = {
  view: 'views',
  search: 'searches',
  cart: 'carts',
  purchase: 'purchases',
  favorite: 'favorites',
};

/** Small codes for (category, type) pairs in analytics_user_hourly.kinds: category_id · 8 + code. */
export const TYPE_CODE: Readonly<Record<EventTypeName, number>> = { view: 1, search: 2, cart: 3, purchase: 4, favorite: 5 };

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
    `coalesce(sum(${alias}.price * ${alias}.quantity) FILTER (WHERE ${t} = 'purchase'), 0)`,
  ].join(', ');
}

/** The (category, type) code of a raw event row aliased `alias` whose category is `cat`. */
export function kindCode(alias: string, cat: string): string {
  const cases = Object.entries(TYPE_CODE).map(([t, c]) => `WHEN '${t}' THEN ${c}`).join(' ');
  return `(${cat} * 8 + CASE ${alias}.type ${cases} END)`;
}

const COLS = COUNT_COLUMNS.join(', ');
const ADD = COUNT_COLUMNS.map((c) => `${c} = t.${c} + EXCLUDED.${c}`).join(', ');

/** Upsert of summed counts keyed by `keyCols`; `extraCols` are functions of the key (e.g. parent cells). */
function upsert(table: string, keyCols: string, keyExprs: string, from: string, extraCols = '', extraExprs = ''): string {
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

/**
 * CTEs (to follow `WITH ins AS (INSERT INTO events … RETURNING user_id, product_id, type,
 * occurred_at, location, h3_r9, quantity, price), `) that fold the inserted rows into every rollup.
 * `p` is the number of the first of the 8 parameters made by rollupParams.
 */
export function rollupCtes(p: number): string {
  const hour = `date_trunc('hour', ev.occurred_at, 'UTC')`;
  const day = `date_trunc('day', ev.occurred_at, 'UTC')`;
  const inRegion = `ev JOIN regions r ON ST_Intersects(r.geom, ev.location)
      JOIN analytics_region_state s ON s.region_id = r.id`;
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
    SELECT i.user_id, i.type, i.occurred_at, i.location, i.quantity, i.price,
           coalesce(i.h3_r9, 0) AS cell, coalesce(c.r7, 0) AS r7, coalesce(c.r6, 0) AS r6, coalesce(c.r5, 0) AS r5,
           coalesce(c.r4, 0) AS r4, coalesce(c.r3, 0) AS r3, coalesce(p.category_id, 0) AS cat
    FROM ins i LEFT JOIN products p ON p.id = i.product_id LEFT JOIN cellp c ON c.h = i.h3_r9),
  up_hourly AS (${upsert('analytics_hourly', 'bucket, h3_r9, category_id', `${hour}, ev.cell, ev.cat`, 'ev')}),
  up_daily AS (${upsert('analytics_daily', 'bucket, h3_r9', `${day}, ev.cell`, 'ev')}),
  up_daily_r7 AS (${upsert('analytics_daily_r7', 'bucket, h3_r7', `${day}, ev.r7`, 'ev', 'r3, r4, r5, r6', 'ev.r3, ev.r4, ev.r5, ev.r6')}),
  up_region_hourly AS (${upsert('analytics_region_hourly', 'region_id, bucket, category_id', `r.id, ${hour}, ev.cat`, inRegion)}),
  up_region_daily AS (${upsert('analytics_region_daily', 'region_id, bucket, category_id', `r.id, ${day}, ev.cat`, inRegion)}),
  up_users AS (
    INSERT INTO analytics_user_hourly AS t (bucket, h3_r9, user_id, kinds)
    SELECT ${hour}, ev.cell, ev.user_id, array_agg(DISTINCT ${kindCode('ev', 'ev.cat')})
    FROM ev GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (bucket, h3_r9, user_id) DO UPDATE
      SET kinds = ARRAY(SELECT DISTINCT k FROM unnest(t.kinds || EXCLUDED.kinds) AS u(k) ORDER BY k)
      WHERE NOT t.kinds @> EXCLUDED.kinds)`;
}
