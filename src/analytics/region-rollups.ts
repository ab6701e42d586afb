/**
 * Region rollups are valid for the region geometry they were built from (an md5 of its EWKB in
 * analytics_region_state). Ingestion keeps built regions up to date; a region that is new, or
 * whose outline changed, is (re)built from raw events on first use.
 *
 * A rebuild takes a SHARE lock on events: ingestion waits for it, and every batch is either in the
 * rebuild's snapshot or arrives after the new state is visible (and is then folded in by the
 * ingestion statement), so no event is lost or counted twice.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { MARGIN_DEG } from './area';
import { bucketSql } from './buckets';
import { deriveRegionUsers, REGION_USER_TABLES, regionUsersDailyInsert } from './region-users';
import { COUNT_COLUMNS, countSums } from './rollup';
import { rows } from './sql';

const STALE = `(s.region_id IS NULL OR s.geom_hash <> md5(ST_AsEWKB(r.geom)))`;

export class RegionRollups {
  constructor(private readonly ds: DataSource) {}

  /** Region ids (all, or of one kind), in id order. */
  async ids(kind: string | null): Promise<string[]> {
    const found = await rows<{ id: string }>(
      this.ds,
      `SELECT id::text AS id FROM regions WHERE ($1::text IS NULL OR kind = $1) ORDER BY id`,
      [kind],
    );
    return found.map((r) => r.id);
  }

  /** Rebuilds the rollups of any of these regions that are missing or stale. Returns how many were rebuilt. */
  async ensureFresh(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const stale = await rows<{ id: string }>(
      this.ds,
      `SELECT r.id::text AS id FROM regions r LEFT JOIN analytics_region_state s ON s.region_id = r.id
       WHERE r.id = ANY($1::bigint[]) AND ${STALE} ORDER BY r.id`,
      [ids],
    );
    for (const { id } of stale) await this.rebuild(id);
    if (stale.length) {
      // Fresh statistics (so the planner sizes region reads right) and visibility maps (so reads
      // can be index-only); autovacuum would get there later.
      const tables = ['region_hourly', 'region_daily', 'region_r8_hourly', 'region_r8_daily', 'region_r8_weekly', 'region_cells'];
      for (const t of [...tables.map((x) => `analytics_${x}`), ...REGION_USER_TABLES]) await this.ds.query(`VACUUM (ANALYZE) ${t}`);
    }
    return stale.length;
  }

  /** Are these regions pairwise disjoint (no shared point, boundaries included)? */
  async disjoint(ids: readonly string[]): Promise<boolean> {
    if (ids.length < 2) return true;
    const [r] = await rows<{ overlap: boolean }>(
      this.ds,
      `SELECT EXISTS (SELECT 1 FROM regions a JOIN regions b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
                      WHERE a.id = ANY($1::bigint[]) AND b.id = ANY($1::bigint[])) AS overlap`,
      [ids],
    );
    return !r!.overlap;
  }

  /** Recomputes one region's rollups and cell classification from raw events, atomically. */
  async rebuild(id: string): Promise<void> {
    await this.ds.transaction(async (em: EntityManager) => {
      await em.query(`LOCK TABLE events IN SHARE MODE`);
      const [still] = await em.query<unknown[]>(
        `SELECT 1 FROM regions r LEFT JOIN analytics_region_state s ON s.region_id = r.id WHERE r.id = $1 AND ${STALE}`,
        [id],
      );
      if (!still) return; // another caller rebuilt it meanwhile
      for (const t of [
        'analytics_region_hourly', 'analytics_region_daily',
        'analytics_region_r8_hourly', 'analytics_region_r8_daily', 'analytics_region_r8_weekly',
        ...REGION_USER_TABLES, 'analytics_region_cells', 'analytics_region_state',
      ]) {
        await em.query(`DELETE FROM ${t} WHERE region_id = $1`, [id]);
      }
      await em.query(
        `INSERT INTO analytics_region_state (region_id, geom_hash, inner_geom, outer_geom)
         SELECT id, md5(ST_AsEWKB(geom)), ST_Buffer(geom, -${MARGIN_DEG}), ST_Buffer(geom, ${MARGIN_DEG}) FROM regions WHERE id = $1`,
        [id],
      );
      await em.query(
        `INSERT INTO analytics_region_cells (region_id, h3_r9, interior)
         SELECT s.region_id, c.h3_r9, ST_Within(c.geom, s.inner_geom)
         FROM analytics_region_state s JOIN analytics_cells c ON ST_Intersects(c.geom, s.outer_geom)
         WHERE s.region_id = $1`,
        [id],
      );
      const cols = COUNT_COLUMNS.join(', ');
      const sums = COUNT_COLUMNS.map((c) => `sum(${c})`).join(', ');
      // One spatial join for two hourly rollups and the daily user rows; the daily, weekly and
      // monthly ones are derived from those.
      await em.query(
        `WITH e AS MATERIALIZED (
           SELECT e.user_id, e.type, e.occurred_at, e.quantity, e.price, coalesce(p.category_id, 0) AS cat,
                  c.r3, c.r4, c.r5, c.r6, c.r7, c.r8
           FROM regions r JOIN events e ON ST_Intersects(r.geom, e.location)
           LEFT JOIN products p ON p.id = e.product_id LEFT JOIN analytics_cells c ON c.h3_r9 = e.h3_r9
           WHERE r.id = $1),
         by_category AS (
           INSERT INTO analytics_region_hourly (region_id, bucket, category_id, ${cols})
           SELECT $1::bigint, ${bucketSql('HOUR', 'e.occurred_at')}, e.cat, ${countSums('e')} FROM e GROUP BY 2, 3),
         users_daily AS (${regionUsersDailyInsert('e')})
         INSERT INTO analytics_region_r8_hourly (region_id, bucket, h3_r8, r3, r4, r5, r6, r7, ${cols})
         SELECT $1::bigint, ${bucketSql('HOUR', 'e.occurred_at')}, e.r8, e.r3, e.r4, e.r5, e.r6, e.r7, ${countSums('e')}
         FROM e GROUP BY 2, 3, 4, 5, 6, 7, 8`,
        [id],
      );
      await em.query(
        `INSERT INTO analytics_region_daily (region_id, bucket, category_id, ${cols})
         SELECT region_id, ${bucketSql('DAY', 'bucket')}, category_id, ${sums}
         FROM analytics_region_hourly WHERE region_id = $1 GROUP BY 1, 2, 3`,
        [id],
      );
      await em.query(
        `INSERT INTO analytics_region_r8_daily (region_id, bucket, h3_r8, r3, r4, r5, r6, r7, ${cols})
         SELECT region_id, ${bucketSql('DAY', 'bucket')}, h3_r8, r3, r4, r5, r6, r7, ${sums}
         FROM analytics_region_r8_hourly WHERE region_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
        [id],
      );
      await em.query(
        `INSERT INTO analytics_region_r8_weekly (region_id, bucket, h3_r8, r3, r4, r5, r6, r7, ${cols})
         SELECT region_id, ${bucketSql('WEEK', 'bucket')}, h3_r8, r3, r4, r5, r6, r7, ${sums}
         FROM analytics_region_r8_daily WHERE region_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
        [id],
      );
      await deriveRegionUsers(em, id);
    });
  }
}
