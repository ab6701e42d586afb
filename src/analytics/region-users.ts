/**
 * Exact distinct users per region × day / week / month (tables: migrations/1765300000000-region-users.ts).
 *
 * Membership rows (region, bucket, user, kinds) are upserted by the ingestion statement; the
 * counter of a (region, grain, bucket) goes up by one exactly when a membership row is inserted
 * (RETURNING xmax = 0 tells an insert from an update), so the counter always equals the number of
 * membership rows and an unfiltered city × day USERS query reads one counter per cell × bucket.
 * Filtered queries (event types, categories) count membership rows whose kinds match.
 */
import { type Bucket, bucketSql, floorBucket, nextBucket } from './buckets';
import { kindCode, MERGE_KINDS } from './kinds';
import type { Queryable } from '../db/queryable';

type Grain = Extract<Bucket, 'DAY' | 'WEEK' | 'MONTH'>;
const TABLE: Readonly<Record<Grain, string>> = {
  DAY: 'analytics_region_users_daily',
  WEEK: 'analytics_region_users_weekly',
  MONTH: 'analytics_region_users_monthly',
};
const GRAINS = Object.keys(TABLE) as Grain[];

export const REGION_USER_TABLES = [...Object.values(TABLE), 'analytics_region_user_counts'];

export function isRegionUserGrain(b: Bucket | 'ALL'): b is Grain {
  return b === 'DAY' || b === 'WEEK' || b === 'MONTH';
}

/** Ingestion CTEs (after `ev_region`, the inserted events inside built regions). */
export function regionUserCtes(): string {
  const members = GRAINS.map(
    (g) => `ru_${g} AS (
    INSERT INTO ${TABLE[g]} AS t (region_id, bucket, user_id, kinds)
    SELECT ev.region_id, ${bucketSql(g, 'ev.occurred_at')}, ev.user_id, array_agg(DISTINCT ${kindCode('ev', 'ev.cat')})
    FROM ev_region AS ev GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (region_id, bucket, user_id) DO UPDATE SET kinds = ${MERGE_KINDS} WHERE NOT t.kinds @> EXCLUDED.kinds
    RETURNING region_id, bucket, xmax = 0 AS fresh)`,
  );
  const fresh = GRAINS.map((g) => `SELECT region_id, '${g}' AS grain, bucket FROM ru_${g} WHERE fresh`).join(' UNION ALL ');
  return `${members.join(',\n  ')},
  ru_counts AS (
    INSERT INTO analytics_region_user_counts AS t (region_id, grain, bucket, users)
    SELECT region_id, grain, bucket, count(*) FROM (${fresh}) AS f GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (region_id, grain, bucket) DO UPDATE SET users = t.users + EXCLUDED.users)`;
}

/**
 * Region rebuild (region-rollups.ts): the daily user rows of region $1 from `source`, the
 * region's events (user_id, type, occurred_at, cat), as an INSERT for a CTE of the rebuild's
 * single spatial join.
 */
export function regionUsersDailyInsert(source: string): string {
  const kind = kindCode(source, `${source}.cat`);
  return `INSERT INTO ${TABLE.DAY} (region_id, bucket, user_id, kinds)
    SELECT $1::bigint, ${bucketSql('DAY', `${source}.occurred_at`)}, ${source}.user_id, array_agg(DISTINCT ${kind} ORDER BY ${kind})
    FROM ${source} GROUP BY 2, 3`;
}

/** Region rebuild, after regionUsersDailyInsert: weekly and monthly rows from the daily ones, then every counter. */
export async function deriveRegionUsers(db: Queryable, id: string): Promise<void> {
  for (const g of ['WEEK', 'MONTH'] as const) {
    await db.query(
      `INSERT INTO ${TABLE[g]} (region_id, bucket, user_id, kinds)
       SELECT region_id, ${bucketSql(g, 'd.bucket')}, user_id, array_agg(DISTINCT k ORDER BY k)
       FROM ${TABLE.DAY} d, unnest(d.kinds) AS u(k) WHERE region_id = $1 GROUP BY 1, 2, 3`,
      [id],
    );
  }
  for (const g of GRAINS) {
    await db.query(
      `INSERT INTO analytics_region_user_counts (region_id, grain, bucket, users)
       SELECT region_id, '${g}', bucket, count(*) FROM ${TABLE[g]} WHERE region_id = $1 GROUP BY 1, 3`,
      [id],
    );
  }
}

/** Right to erasure: the user's membership rows go, and each counter they added goes down by one. */
export async function eraseUserFromRegionUsers(db: Queryable, userId: string): Promise<void> {
  for (const g of GRAINS) {
    await db.query(
      `WITH gone AS (DELETE FROM ${TABLE[g]} WHERE user_id = $1 RETURNING region_id, bucket)
       UPDATE analytics_region_user_counts c SET users = c.users - 1
       FROM gone WHERE c.region_id = gone.region_id AND c.grain = '${g}' AND c.bucket = gone.bucket`,
      [userId],
    );
  }
  await db.query(`DELETE FROM analytics_region_user_counts WHERE users = 0`);
}

/** The part of [from, to) made of whole buckets, or null when there is none. */
export function wholeBuckets(from: Date, to: Date, g: Grain): { from: Date; to: Date } | null {
  const start = floorBucket(from, g);
  const first = start.getTime() === from.getTime() ? from : nextBucket(start, g);
  const end = floorBucket(to, g);
  return first.getTime() < end.getTime() ? { from: first, to: end } : null;
}

/**
 * Distinct users per (region, bucket) of whole buckets in [from, to). `codes` restricts the
 * (category, type) pairs that count; null counts every event (the counters answer).
 */
export function regionUsersSql(
  zones: readonly string[],
  g: Grain,
  range: { from: Date; to: Date },
  codes: readonly string[] | null,
): { text: string; params: unknown[] } {
  const params: unknown[] = [zones, range.from, range.to];
  if (codes === null) {
    return {
      text: `SELECT region_id::text AS cell, bucket, users FROM analytics_region_user_counts
             WHERE region_id = ANY($1::bigint[]) AND grain = '${g}' AND bucket >= $2 AND bucket < $3`,
      params,
    };
  }
  params.push(codes);
  return {
    text: `SELECT region_id::text AS cell, bucket, count(*)::int AS users FROM ${TABLE[g]}
           WHERE region_id = ANY($1::bigint[]) AND bucket >= $2 AND bucket < $3 AND kinds && $4::bigint[] GROUP BY 1, 2`,
    params,
  };
}
