import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exact distinct users per region × day, week and month, so a city-level USERS dashboard reads a
 * few hundred counters instead of de-duplicating millions of (hour, cell, user) rows.
 * - analytics_region_users_<grain>: one row per (region, bucket, user) that had events there,
 *   with the (category, type) codes seen (as analytics_user_hourly.kinds), for filtered counts.
 * - analytics_region_user_counts: per (region, grain, bucket) the number of those rows, raised by
 *   one exactly when ingestion inserts a new membership row (same statement, see rollup.ts).
 * Like every region rollup they are valid for built regions; existing regions are marked stale
 * here and rebuilt, new tables included, on first use.
 */
export class RegionUsers1765300000000 implements MigrationInterface {
  name = 'RegionUsers1765300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const grain of ['daily', 'weekly', 'monthly']) {
      await q.query(`CREATE TABLE analytics_region_users_${grain} (
        region_id bigint NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
        bucket timestamptz NOT NULL,
        user_id bigint NOT NULL,
        kinds bigint[] NOT NULL,
        PRIMARY KEY (region_id, bucket, user_id)
      )`);
    }
    await q.query(`CREATE TABLE analytics_region_user_counts (
      region_id bigint NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
      grain text NOT NULL CHECK (grain IN ('DAY', 'WEEK', 'MONTH')),
      bucket timestamptz NOT NULL,
      users integer NOT NULL,
      PRIMARY KEY (region_id, grain, bucket)
    )`);
    await q.query(`DELETE FROM analytics_region_state`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS analytics_region_user_counts`);
    for (const grain of ['daily', 'weekly', 'monthly']) await q.query(`DROP TABLE IF EXISTS analytics_region_users_${grain}`);
  }
}
