/**
 * Activity-weighted product popularity from raw events: around a point (great-circle radius, GiST
 * pre-filter), over a time window, optionally only at the request's hour of week. Weights: view 1,
 * favorite 2, cart 3, purchase 5 (search events carry no product).
 */
import { timedQuery } from '../db/statement-timeout';
import type { DataSource } from 'typeorm';
import { degreesCovering, type GeoPoint } from '../common/geo';

export const EVENT_WEIGHT_SQL = `CASE e.type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 WHEN 'favorite' THEN 2 WHEN 'view' THEN 1 ELSE 0 END`;

export interface AreaPopularityRow {
  readonly productId: string;
  /** Weighted activity in the last 7 days. */
  readonly weekScore: number;
  /** Weighted activity within ±1 hour of the request's hour of week, this week and the 3 weeks before. */
  readonly hourScore: number;
}

/** Activity of one product in one H3 resolution-9 cell (the cell as its bigint id). */
export interface CellActivityRow extends AreaPopularityRow {
  readonly cell: string;
}

export interface TrendingRow {
  readonly productId: string;
  readonly score: number;
  readonly previousScore: number;
  readonly events: number;
  readonly purchases: number;
  readonly users: number;
}

/** UTC hour of week in SQL, Monday 00:00 = 0 (matches next-item-features.hourOfWeek). */
const HOW_SQL = `((extract(isodow FROM e.occurred_at AT TIME ZONE 'UTC')::int - 1) * 24 + extract(hour FROM e.occurred_at AT TIME ZONE 'UTC')::int)`;

function near(center: GeoPoint | null, radiusKm: number, first: number): { sql: string; params: unknown[] } {
  if (!center) return { sql: 'TRUE', params: [] };
  const point = `ST_SetSRID(ST_MakePoint($${first}, $${first + 1}), 4326)`;
  return {
    sql: `e.location IS NOT NULL AND ST_DWithin(e.location, ${point}, $${first + 2})
          AND ST_DWithin(e.location::geography, ${point}::geography, $${first + 3})`,
    params: [center.longitude, center.latitude, degreesCovering(center, radiusKm * 1000), radiusKm * 1000],
  };
}

/** Events within a planar distance in degrees that covers `radiusKm` around `center` (a superset of the radius). */
function covering(center: GeoPoint | null, radiusKm: number, first: number): { sql: string; params: unknown[] } {
  if (!center) return { sql: 'TRUE', params: [] };
  return {
    sql: `e.location IS NOT NULL AND ST_Distance(e.location, ST_SetSRID(ST_MakePoint($${first}, $${first + 1}), 4326)) <= $${first + 2}`,
    params: [center.longitude, center.latitude, degreesCovering(center, radiusKm * 1000)],
  };
}

export class PopularityRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Top products around `center` (everywhere when null) by last-week activity and by activity at
   * this hour of week. The scan reads the last 7 days plus the three hours around this hour of week
   * in each of the 3 weeks before (12 short ranges on the occurred_at index), not all 28 days.
   */
  async area(center: GeoPoint | null, radiusKm: number, now: Date, hourOfWeek: number, limit: number): Promise<AreaPopularityRow[]> {
    const q = this.activitySql(center, radiusKm, now, hourOfWeek, false);
    const rows = await this.ds.query<{ product_id: string; week_score: number; hour_score: number }[]>(
      `${q.sql} ORDER BY week_score DESC, hour_score DESC, e.product_id LIMIT ${Number(limit)}`,
      q.params,
    );
    return rows.map((r) => ({ productId: r.product_id, weekScore: Number(r.week_score), hourScore: Number(r.hour_score) }));
  }

  /**
   * The same activity per (product, H3 resolution-9 cell) within `radiusKm` of `center`, so radii
   * around any point inside the area can be summed in memory (exact to a cell, ≈0.2 km).
   */
  async cellActivity(center: GeoPoint, radiusKm: number, now: Date, hourOfWeek: number): Promise<CellActivityRow[]> {
    const q = this.activitySql(center, radiusKm, now, hourOfWeek, true);
    const rows = await this.ds.query<{ product_id: string; cell: string; week_score: number; hour_score: number }[]>(q.sql, q.params);
    return rows.map((r) => ({ productId: r.product_id, cell: String(r.cell), weekScore: Number(r.week_score), hourScore: Number(r.hour_score) }));
  }

  private activitySql(center: GeoPoint | null, radiusKm: number, now: Date, hourOfWeek: number, byCell: boolean): { sql: string; params: unknown[] } {
    const hours = [-1, 0, 1].map((d) => (((hourOfWeek + d) % 168) + 168) % 168);
    const weekStart = new Date(now.getTime() - 7 * 86_400_000);
    // Hour-of-week windows of the earlier weeks: [now − k·7d − 1h (hour start), + 3h).
    const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 3_600_000;
    const ranges: [string, string][] = [1, 2, 3].map((k) => {
      const from = hourStart - k * 7 * 86_400_000;
      return [new Date(from).toISOString(), new Date(from + 3 * 3_600_000).toISOString()];
    });
    // Per-cell reads feed in-memory radius sums that test each cell centre exactly, so they only
    // need a superset of the radius: a planar distance in degrees that covers it. It also keeps the
    // planner on the time index (the last week is a few thousand rows) instead of ANDing in a
    // spatial index scan over every event ever recorded in the area.
    const where = byCell ? covering(center, radiusKm, 10) : near(center, radiusKm, 10);
    const rangeSql = ranges.map((_, i) => `(e.occurred_at >= $${4 + 2 * i} AND e.occurred_at < $${5 + 2 * i})`).join(' OR ');
    return {
      sql: `SELECT e.product_id::text AS product_id, ${byCell ? 'e.h3_r9::text AS cell,' : ''}
              coalesce(sum(${EVENT_WEIGHT_SQL}) FILTER (WHERE e.occurred_at > $2), 0)::float8 AS week_score,
              coalesce(sum(${EVENT_WEIGHT_SQL}) FILTER (WHERE ${HOW_SQL} = ANY($3::int[])), 0)::float8 AS hour_score
       FROM events e
       WHERE e.product_id IS NOT NULL AND e.occurred_at <= $1 ${byCell ? 'AND e.h3_r9 IS NOT NULL' : ''}
         AND (e.occurred_at > $2 OR ${rangeSql}) AND ${where.sql}
       GROUP BY e.product_id${byCell ? ', e.h3_r9' : ''}`,
      params: [now.toISOString(), weekStart.toISOString(), hours, ...ranges.flat(), ...where.params],
    };
  }

  /** Most active products in (now − window, now] around `center`, with the previous window for comparison. */
  /** `minUsers`: only products with at least this many distinct users in the window (k-anonymity). */
  async trending(center: GeoPoint, radiusKm: number, now: Date, windowMs: number, limit: number, minUsers = 1): Promise<TrendingRow[]> {
    const where = near(center, radiusKm, 5);
    const k = `$${5 + where.params.length}`;
    const start = new Date(now.getTime() - windowMs);
    const rows = (await timedQuery(
      this.ds,
      `SELECT e.product_id::text AS product_id,
              coalesce(sum(${EVENT_WEIGHT_SQL}) FILTER (WHERE e.occurred_at > $2), 0)::float8 AS score,
              coalesce(sum(${EVENT_WEIGHT_SQL}) FILTER (WHERE e.occurred_at <= $2), 0)::float8 AS previous_score,
              count(*) FILTER (WHERE e.occurred_at > $2)::int AS events,
              count(*) FILTER (WHERE e.occurred_at > $2 AND e.type = 'purchase')::int AS purchases,
              count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at > $2)::int AS users
       FROM events e
       WHERE e.product_id IS NOT NULL AND e.occurred_at <= $1 AND e.occurred_at > $3 AND ${where.sql}
       GROUP BY e.product_id
       HAVING count(*) FILTER (WHERE e.occurred_at > $2) > 0 AND count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at > $2) >= ${k}::int
       ORDER BY score DESC, e.product_id
       LIMIT $4`,
      [now.toISOString(), start.toISOString(), new Date(start.getTime() - windowMs).toISOString(), limit, ...where.params, minUsers],
    )) as { product_id: string; score: number; previous_score: number; events: number; purchases: number; users: number }[];
    return rows.map((r) => ({
      productId: r.product_id,
      score: Number(r.score),
      previousScore: Number(r.previous_score),
      events: Number(r.events),
      purchases: Number(r.purchases),
      users: Number(r.users),
    }));
  }
}
