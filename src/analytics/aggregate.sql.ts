/**
 * Builds the SQL that answers an aggregate from the coarsest rollups that can answer each part
 * exactly, and raw events for the rest:
 *
 *   time   – whole UTC days from daily tables (not for HOUR buckets or category filters, which
 *            only the hourly table carries), whole hours from hourly tables, unaligned edges of
 *            the range from raw events (planSegments);
 *   space  – no area: every cell; region grids: the region tables; other areas: the candidate
 *            res-9 cells of the area, interior ones from rollups (res-7 rollups where a whole
 *            res-7 cell is interior), boundary ones from their raw events with the exact test.
 *
 * Each source yields (cell, bucket, counts…) and one GROUP BY adds them up, so the answer equals
 * the raw-event computation (test/analytics/aggregate.test.ts checks this on both databases).
 */
import type { EventTypeName } from '../events/event.entity';
import type { AggregateQuery, Area } from './aggregate.query';
import { type GeoAreaSql, geoAreaSql } from './area';
import { bucketSql, type Grain, planSegments, type TimeSegment } from './buckets';
import { kindCodes, TYPE_CODE } from './kinds';
import { COUNT_COLUMNS, type CountColumn, countSums, TYPE_COLUMN } from './rollup';
import { Sql } from './sql';

/** A grid with its resolution decided. */
export type ResolvedGrid =
  | { readonly kind: 'none' }
  | { readonly kind: 'h3'; readonly resolution: number }
  | { readonly kind: 'regions'; readonly zones: readonly string[] };

/**
 * Where the spatial part comes from: every cell, the region rollups (`collapse`: the regions are
 * disjoint and summed into one cell), the region × res-8 rollups (an H3 grid of resolution ≤ 8
 * inside disjoint regions), or candidate res-9 cells of an area.
 */
export type Space =
  | { readonly kind: 'all' }
  | { readonly kind: 'regionRollup'; readonly collapse: boolean }
  | { readonly kind: 'regionCells'; readonly zones: readonly string[] }
  | { readonly kind: 'cells' };

export interface Plan {
  readonly q: AggregateQuery;
  readonly grid: ResolvedGrid;
  readonly space: Space;
}

export interface Built {
  readonly text: string;
  readonly params: unknown[];
}

const COLS = COUNT_COLUMNS.join(', ');
/**
 * Cells are grouped as bigint (H3 index, region id; 0 = the one cell without a grid) — much
 * cheaper to hash and sort than text — and turned into text only in the final SELECT.
 */
const NO_CELL = '0::bigint';
/**
 * The count columns a metric reads (the others are selected as 0, which keeps index-only scans
 * possible and spares summing revenue nobody asked for). Units ride along with purchases
 * for demand forecasts.
 */
export function neededColumns(q: Pick<AggregateQuery, 'metric' | 'types'>): Set<CountColumn> {
  switch (q.metric) {
    case 'EVENTS':
    case 'USERS':
      return new Set(q.types.map((t) => TYPE_COLUMN[t]));
    case 'PURCHASES':
      return new Set<CountColumn>(['purchases', 'units']);
    case 'REVENUE':
      return new Set<CountColumn>(['purchases', 'units', 'revenue_cents']);
    case 'CONVERSION':
      return new Set<CountColumn>(['views', 'purchases']);
  }
}

/** The bucket start of a time expression; 'ALL' is one bucket for the whole range (starting at `from`). */
function bucketOf(q: Pick<AggregateQuery, 'bucket' | 'from'>, expr: string, sourceGrain: Grain): string {
  const b = q.bucket;
  if (b === 'ALL') return `'${q.from.toISOString()}'::timestamptz`;
  if ((b === 'HOUR' && sourceGrain === 'hour') || (b === 'DAY' && sourceGrain === 'day') || (b === 'WEEK' && sourceGrain === 'week')) return expr;
  return bucketSql(b, expr);
}

/** Shared state while building one statement. */
class Builder {
  readonly sql = new Sql();
  readonly ctes: string[] = [];
  readonly geo: GeoAreaSql | null;
  private readonly cats: string | null;

  constructor(readonly plan: Plan) {
    const a = plan.q.area;
    this.geo = a && a.kind !== 'regions' ? geoAreaSql(a, this.sql) : null;
    if (this.geo) this.ctes.push(...this.geo.ctes);
    this.cats = plan.q.categoryIds ? this.sql.p(plan.q.categoryIds, 'bigint[]') : null;
    this.needed = neededColumns(plan.q);
  }

  get q(): AggregateQuery {
    return this.plan.q;
  }

  get grid(): ResolvedGrid {
    return this.plan.grid;
  }

  range(col: string, s: TimeSegment): string {
    return `${col} >= ${this.sql.p(s.from.toISOString(), 'timestamptz')} AND ${col} < ${this.sql.p(s.to.toISOString(), 'timestamptz')}`;
  }

  private readonly needed: Set<CountColumn>;

  get purchasesOnly(): boolean {
    return this.q.types.length === 1 && this.q.types[0] === 'purchase';
  }

  /** PURCHASES/REVENUE read only rollup rows with purchases (a partial index covers them). */
  rowFilter(alias: string): string {
    return this.purchasesOnly ? ` AND ${alias}.purchases > 0` : '';
  }

  isNeeded(c: CountColumn): boolean {
    return this.needed.has(c);
  }

  /** The count columns of a rollup row; zeros for columns the metric never reads (index-only scans). */
  cols(alias: string): string {
    return COUNT_COLUMNS.map((c) => (this.needed.has(c) ? `${alias}.${c}` : '0')).join(', ');
  }

  /** Category filter on a rollup alias that has category_id. */
  rollupCats(alias: string): string {
    return this.cats ? ` AND ${alias}.category_id = ANY(${this.cats})` : '';
  }

  /** Joins for raw events aliased e: products for categories/products filters. */
  rawFilters(): { join: string; where: string } {
    const q = this.q;
    let join = '';
    let where = '';
    if (this.cats) join += ` JOIN products p ON p.id = e.product_id AND p.category_id = ANY(${this.cats})`;
    if (q.productIds) where += ` AND e.product_id = ANY(${this.sql.p(q.productIds, 'bigint[]')})`;
    return { join, where };
  }

  regionsAreaIds(): string | null {
    const a: Area | null = this.q.area;
    return a?.kind === 'regions' ? this.sql.p(a.ids, 'bigint[]') : null;
  }

  /** Output cell of a directory row aliased `c` (for h3 grids). */
  h3Cell(c: string, r9: string): string {
    const g = this.grid;
    if (g.kind !== 'h3') return NO_CELL;
    return g.resolution === 9 ? r9 : `${c}.r${g.resolution}`;
  }

  /** The `cand` CTE: candidate res-9 cells (zone, h3_r9, interior, r7, cell) of the area or zones. */
  addCandidates(): void {
    const g = this.grid;
    const geo = this.geo;
    if (g.kind === 'regions') {
      const zones = this.sql.p(g.zones, 'bigint[]');
      this.ctes.push(`cand AS MATERIALIZED (
        SELECT rc.region_id AS zone, rc.h3_r9, (rc.interior${geo ? ` AND ${geo.inside('c.geom')}` : ''}) AS interior,
               c.r7, rc.region_id AS cell
        FROM analytics_region_cells rc JOIN analytics_cells c ON c.h3_r9 = rc.h3_r9
        WHERE rc.region_id = ANY(${zones})${geo ? ` AND ${geo.touches('c.geom')}` : ''})`);
      return;
    }
    const ids = this.regionsAreaIds();
    if (ids) {
      this.ctes.push(`cand AS MATERIALIZED (
        SELECT 0::bigint AS zone, c.h3_r9, x.interior, c.r7, ${this.h3Cell('c', 'c.h3_r9')} AS cell
        FROM (SELECT h3_r9, bool_or(interior) AS interior FROM analytics_region_cells
              WHERE region_id = ANY(${ids}) GROUP BY h3_r9) x
        JOIN analytics_cells c ON c.h3_r9 = x.h3_r9)`);
      return;
    }
    if (!geo) throw new Error('cells space needs an area');
    this.ctes.push(`cand AS MATERIALIZED (
      SELECT 0::bigint AS zone, c.h3_r9, ${geo.inside('c.geom')} AS interior, c.r7, ${this.h3Cell('c', 'c.h3_r9')} AS cell
      FROM analytics_cells c WHERE ${geo.touches('c.geom')})`);
  }

  /** Exact "event e is in the area (and in its zone)" for raw rows joined to cand; plus joins needed. */
  rawContains(): { join: string; where: string } {
    const g = this.grid;
    const parts: string[] = [];
    let join = '';
    if (g.kind === 'regions') {
      join = ' JOIN regions zr ON zr.id = cand.zone';
      parts.push('ST_Intersects(zr.geom, e.location)');
    }
    if (this.geo) parts.push(this.geo.contains('e.location'));
    const ids = this.q.area?.kind === 'regions' && g.kind !== 'regions' ? this.regionsAreaIds() : null;
    if (ids) parts.push(`EXISTS (SELECT 1 FROM regions ar WHERE ar.id = ANY(${ids}) AND ST_Intersects(ar.geom, e.location))`);
    return { join, where: parts.length ? ` AND ${parts.join(' AND ')}` : '' };
  }
}

/** May whole days come from the category-less daily tables? */
function canUseDays(plan: Plan): boolean {
  return plan.q.bucket !== 'HOUR' && !plan.q.categoryIds;
}

/** May res-7 daily rows stand in for their res-9 children? (Output no finer than res 7.) */
function canUseR7(plan: Plan): boolean {
  return canUseDays(plan) && (plan.grid.kind !== 'h3' || plan.grid.resolution <= 7);
}

function r7Cell(plan: Plan, d: string, zone: string): string {
  const g = plan.grid;
  if (g.kind === 'none') return NO_CELL;
  if (g.kind === 'regions') return zone;
  return g.resolution === 7 ? `${d}.h3_r7` : `${d}.r${g.resolution}`;
}

/**
 * Sum of counts per (cell, bucket) with at least one event of the metric's types, at most `limit`
 * rows; the bucket as epoch milliseconds (a float parses far faster than a timestamptz).
 */
export function countsSql(plan: Plan, limit: number): Built {
  const b = new Builder(plan);
  const q = plan.q;
  const sources: string[] = [];

  if (q.productIds || (plan.grid.kind === 'h3' && plan.grid.resolution > 9)) {
    // Product filters have no rollup: everything from raw events (the product index finds them).
    sources.push(rawSource(b, { grain: 'raw', from: q.from, to: q.to }));
  } else if (plan.space.kind === 'regionRollup') {
    const ids = plan.grid.kind === 'regions' ? plan.grid.zones : q.area?.kind === 'regions' ? q.area.ids : [];
    const zones = b.sql.p(ids, 'bigint[]');
    const cell = plan.space.collapse ? NO_CELL : 'r.region_id';
    for (const s of planSegments(q.from, q.to, q.bucket !== 'HOUR')) {
      if (s.grain === 'raw') {
        const f = b.rawFilters();
        sources.push(`SELECT ${plan.space.collapse ? NO_CELL : 'zr.id'}, ${bucketOf(q, 'e.occurred_at', 'raw')}, ${countSums('e')}
          FROM events e JOIN regions zr ON zr.id = ANY(${zones}) AND ST_Intersects(zr.geom, e.location)${f.join}
          WHERE ${b.range('e.occurred_at', s)}${f.where} GROUP BY 1, 2`);
      } else {
        const table = s.grain === 'day' ? 'analytics_region_daily' : 'analytics_region_hourly';
        sources.push(`SELECT ${cell}, ${bucketOf(q, 'r.bucket', s.grain)}, ${b.cols('r')}
          FROM ${table} r WHERE r.region_id = ANY(${zones}) AND ${b.range('r.bucket', s)}${b.rollupCats('r')}${b.rowFilter('r')}`);
      }
    }
  } else if (plan.space.kind === 'regionCells') {
    const zones = b.sql.p(plan.space.zones, 'bigint[]');
    const res = plan.grid.kind === 'h3' ? plan.grid.resolution : 8;
    const cell = (t: string) => (res === 8 ? `${t}.h3_r8` : `${t}.r${res}`);
    // Whole weeks from the weekly table when they cannot cut a bucket (WEEK or one bucket).
    const weeks = q.bucket === 'WEEK' || q.bucket === 'ALL';
    for (const s of planSegments(q.from, q.to, q.bucket !== 'HOUR', weeks)) {
      if (s.grain === 'raw') {
        const f = b.rawFilters();
        sources.push(`SELECT ${res === 8 ? 'c.r8' : `c.r${res}`}, ${bucketOf(q, 'e.occurred_at', 'raw')}, ${countSums('e')}
          FROM events e JOIN regions zr ON zr.id = ANY(${zones}) AND ST_Intersects(zr.geom, e.location)
          JOIN analytics_cells c ON c.h3_r9 = e.h3_r9${f.join}
          WHERE ${b.range('e.occurred_at', s)}${f.where} GROUP BY 1, 2`);
      } else {
        const table = `analytics_region_r8_${s.grain === 'week' ? 'weekly' : s.grain === 'day' ? 'daily' : 'hourly'}`;
        sources.push(`SELECT ${cell('t')}, ${bucketOf(q, 't.bucket', s.grain)}, ${b.cols('t')}
          FROM ${table} t WHERE t.region_id = ANY(${zones}) AND ${b.range('t.bucket', s)}${b.rowFilter('t')}`);
      }
    }
  } else if (plan.space.kind === 'all') {
    for (const s of planSegments(q.from, q.to, canUseDays(plan))) sources.push(...allSources(b, s));
  } else {
    b.addCandidates();
    const segments = planSegments(q.from, q.to, canUseDays(plan));
    if (canUseR7(plan) && segments.some((s) => s.grain === 'day')) {
      b.ctes.push(`r7ok AS MATERIALIZED (
        SELECT cand.zone, cand.r7 FROM cand GROUP BY cand.zone, cand.r7
        HAVING bool_and(cand.interior) AND count(*) = (SELECT count(*) FROM analytics_cells c2 WHERE c2.r7 = cand.r7))`);
    }
    for (const s of segments) sources.push(...cellSources(b, s));
    // Boundary cells: their raw events over the whole range, with the exact area test.
    const f = b.rawFilters();
    const c = b.rawContains();
    sources.push(`SELECT cand.cell, ${bucketOf(q, 'e.occurred_at', 'raw')}, ${countSums('e')}
      FROM events e JOIN cand ON cand.h3_r9 = e.h3_r9 AND NOT cand.interior${c.join}${f.join}
      WHERE ${b.range('e.occurred_at', { grain: 'raw', from: q.from, to: q.to })}${c.where}${f.where} GROUP BY 1, 2`);
  }
  // Sums as float8: exact for integers below 2^53 (counts and cents are far below), and several
  // times cheaper to aggregate than the numeric that sum(bigint) returns.
  const matching = q.types.map((t) => `sum(${typeColumn(t)}::float8)`).join(' + ');
  const text = `${b.ctes.length ? `WITH ${b.ctes.join(',\n')}\n` : ''}
    SELECT cell::text AS cell, (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, ${COUNT_COLUMNS.map((c) => (b.isNeeded(c) ? `sum(${c}::float8) AS ${c}` : `0 AS ${c}`)).join(', ')}
    FROM (${sources.join('\n UNION ALL \n')}) AS src(cell, bucket, ${COLS})
    GROUP BY cell, bucket HAVING ${matching} > 0
    LIMIT ${Number(limit)}`;
  return { text, params: b.sql.params };
}

function typeColumn(t: EventTypeName): string {
  return { view: 'views', search: 'searches', cart: 'carts', purchase: 'purchases', favorite: 'favorites' }[t];
}

/** Cell expression, joins and conditions for raw events aliased e with the whole spatial test. */
function rawParts(b: Builder): { cell: string; join: string; where: string } {
  const g = b.grid;
  const f = b.rawFilters();
  let join = f.join;
  let where = f.where;
  let cell = NO_CELL;
  if (g.kind === 'h3') {
    where += ' AND e.h3_r9 IS NOT NULL';
    // Resolution 10 is finer than the rollups: the service maps each point to its cell with h3-js.
    if (g.resolution > 9) cell = `ST_Y(e.location)::text || ',' || ST_X(e.location)::text`;
    else if (g.resolution === 9) cell = 'e.h3_r9';
    else {
      join += ' JOIN analytics_cells c ON c.h3_r9 = e.h3_r9';
      cell = `c.r${g.resolution}`;
    }
  } else if (g.kind === 'regions') {
    join += ` JOIN regions zr ON zr.id = ANY(${b.sql.p(g.zones, 'bigint[]')}) AND ST_Intersects(zr.geom, e.location)`;
    cell = 'zr.id';
  }
  if (b.geo) where += ` AND ${b.geo.contains('e.location')}`;
  const ids = b.q.area?.kind === 'regions' ? b.regionsAreaIds() : null;
  if (ids) {
    where += ` AND e.h3_r9 IN (SELECT h3_r9 FROM analytics_region_cells WHERE region_id = ANY(${ids}))
      AND EXISTS (SELECT 1 FROM regions ar WHERE ar.id = ANY(${ids}) AND ST_Intersects(ar.geom, e.location))`;
  }
  return { cell, join, where };
}

/** Raw events over a segment with the whole spatial test (product filters, res 10, no-area edges). */
function rawSource(b: Builder, s: TimeSegment): string {
  const r = rawParts(b);
  return `SELECT ${r.cell}, ${bucketOf(b.q, 'e.occurred_at', 'raw')}, ${countSums('e')}
    FROM events e${r.join} WHERE ${b.range('e.occurred_at', s)}${r.where} GROUP BY 1, 2`;
}

/** Sources for one segment when there is no area: every cell (located cells only for h3 grids). */
function allSources(b: Builder, s: TimeSegment): string[] {
  const g = b.grid;
  if (s.grain === 'raw') return [rawSource(b, s)];
  const h3 = g.kind === 'h3';
  if (s.grain === 'day' && canUseR7(b.plan)) {
    return [`SELECT ${r7Cell(b.plan, 'd', NO_CELL)}, ${bucketOf(b.q, 'd.bucket', 'day')}, ${b.cols('d')}
      FROM analytics_daily_r7 d WHERE ${b.range('d.bucket', s)}${h3 ? ' AND d.h3_r7 <> 0' : ''}${b.rowFilter('d')}`];
  }
  const table = s.grain === 'day' ? 'analytics_daily' : 'analytics_hourly';
  // r9 tables carry the res-8 parent; coarser parents come from the directory.
  const needDir = h3 && g.resolution < 8;
  const cell = h3 ? (g.resolution === 8 ? 't.r8' : b.h3Cell('c', 't.h3_r9')) : NO_CELL;
  return [`SELECT ${cell}, ${bucketOf(b.q, 't.bucket', s.grain)}, ${b.cols('t')}
    FROM ${table} t${needDir ? ' JOIN analytics_cells c ON c.h3_r9 = t.h3_r9' : ''}
    WHERE ${b.range('t.bucket', s)}${h3 && !needDir ? ' AND t.h3_r9 <> 0' : ''}${s.grain === 'hour' ? b.rollupCats('t') : ''}${b.rowFilter('t')}`];
}

/** Sources for one segment over the interior candidate cells (boundary cells are added separately). */
function cellSources(b: Builder, s: TimeSegment): string[] {
  if (s.grain === 'raw') {
    const f = b.rawFilters();
    return [`SELECT cand.cell, ${bucketOf(b.q, 'e.occurred_at', 'raw')}, ${countSums('e')}
      FROM events e JOIN cand ON cand.h3_r9 = e.h3_r9 AND cand.interior${f.join}
      WHERE ${b.range('e.occurred_at', s)}${f.where} GROUP BY 1, 2`];
  }
  if (s.grain === 'day') {
    const out: string[] = [];
    const r7 = canUseR7(b.plan);
    if (r7) {
      out.push(`SELECT ${r7Cell(b.plan, 'd', 'r7ok.zone')}, ${bucketOf(b.q, 'd.bucket', 'day')}, ${b.cols('d')}
        FROM analytics_daily_r7 d JOIN r7ok ON r7ok.r7 = d.h3_r7 WHERE ${b.range('d.bucket', s)}${b.rowFilter('d')}`);
    }
    out.push(`SELECT cand.cell, ${bucketOf(b.q, 'd.bucket', 'day')}, ${b.cols('d')}
      FROM analytics_daily d JOIN cand ON cand.h3_r9 = d.h3_r9 AND cand.interior
      WHERE ${b.range('d.bucket', s)}${b.rowFilter('d')}${r7 ? ' AND NOT EXISTS (SELECT 1 FROM r7ok WHERE r7ok.zone = cand.zone AND r7ok.r7 = cand.r7)' : ''}`);
    return out;
  }
  return [`SELECT cand.cell, ${bucketOf(b.q, 'h.bucket', 'hour')}, ${b.cols('h')}
    FROM analytics_hourly h JOIN cand ON cand.h3_r9 = h.h3_r9 AND cand.interior
    WHERE ${b.range('h.bucket', s)}${b.rollupCats('h')}${b.rowFilter('h')}`];
}

/**
 * Distinct users per (cell, bucket) among events of the metric's types (`perUser`: the distinct
 * (cell, bucket, user) rows instead, for res-10 cells made in TypeScript): whole hours from
 * analytics_user_hourly (interior cells), the rest from raw events. Region rollups hold no users,
 * so region plans arrive here as cell plans over the region zones.
 */
export function usersSql(plan: Plan, allCategoryIds: readonly string[], perUser = false): Built {
  const b = new Builder(plan);
  const q = plan.q;
  const sources: string[] = [];
  const types = b.sql.p(q.types, 'text[]');
  const f = () => {
    const r = b.rawFilters();
    return { join: r.join, where: `${r.where} AND e.type = ANY(${types})` };
  };
  const raw = (s: TimeSegment, extraJoin: string, extraWhere: string, cell: string) => {
    const r = f();
    return `SELECT ${cell}, ${bucketOf(q, 'e.occurred_at', 'raw')}, e.user_id
      FROM events e${extraJoin}${r.join} WHERE ${b.range('e.occurred_at', s)}${extraWhere}${r.where}`;
  };
  let kindsSql: string | null = null;
  const kinds = () => (kindsSql ??= kindsFilter(b, q.types, q.categoryIds, allCategoryIds));
  const whole = { grain: 'raw' as const, from: q.from, to: q.to };

  if (q.productIds || (plan.grid.kind === 'h3' && plan.grid.resolution > 9) || plan.space.kind === 'regionRollup' || plan.space.kind === 'regionCells') {
    // Never reached for region spaces (the service passes a cell plan); kept total for safety.
    const r = rawParts(b);
    sources.push(`SELECT ${r.cell}, ${bucketOf(q, 'e.occurred_at', 'raw')}, e.user_id
      FROM events e${r.join} WHERE ${b.range('e.occurred_at', whole)}${r.where} AND e.type = ANY(${types})`);
  } else if (plan.space.kind === 'all') {
    const g = plan.grid;
    const h3 = g.kind === 'h3';
    const needDir = h3 && g.resolution < 9;
    for (const s of planSegments(q.from, q.to, false)) {
      if (s.grain === 'raw') {
        sources.push(
          raw(
            s,
            needDir ? ' JOIN analytics_cells c ON c.h3_r9 = e.h3_r9' : '',
            h3 && !needDir ? ' AND e.h3_r9 IS NOT NULL' : '',
            h3 ? b.h3Cell('c', 'e.h3_r9') : NO_CELL,
          ),
        );
      } else {
        sources.push(`SELECT ${h3 ? b.h3Cell('c', 'u.h3_r9') : NO_CELL}, ${bucketOf(q, 'u.bucket', 'hour')}, u.user_id
          FROM analytics_user_hourly u${needDir ? ' JOIN analytics_cells c ON c.h3_r9 = u.h3_r9' : ''}
          WHERE ${b.range('u.bucket', s)}${h3 && !needDir ? ' AND u.h3_r9 <> 0' : ''}${kinds()}`);
      }
    }
  } else {
    b.addCandidates();
    for (const s of planSegments(q.from, q.to, false)) {
      if (s.grain === 'raw') {
        sources.push(raw(s, ' JOIN cand ON cand.h3_r9 = e.h3_r9 AND cand.interior', '', 'cand.cell'));
      } else {
        sources.push(`SELECT cand.cell, ${bucketOf(q, 'u.bucket', 'hour')}, u.user_id
          FROM analytics_user_hourly u JOIN cand ON cand.h3_r9 = u.h3_r9 AND cand.interior
          WHERE ${b.range('u.bucket', s)}${kinds()}`);
      }
    }
    const c = b.rawContains();
    sources.push(raw(whole, ` JOIN cand ON cand.h3_r9 = e.h3_r9 AND NOT cand.interior${c.join}`, c.where, 'cand.cell'));
  }
  const body = `FROM (${sources.join('\n UNION ALL \n')}) AS src(cell, bucket, user_id)`;
  const text = `${b.ctes.length ? `WITH ${b.ctes.join(',\n')}\n` : ''}
    ${perUser ? `SELECT DISTINCT cell::text AS cell, bucket, user_id::text AS user_id ${body}` : `SELECT cell::text AS cell, bucket, count(DISTINCT user_id)::int AS users ${body} GROUP BY cell, bucket`}`;
  return { text, params: b.sql.params };
}

/** `kinds && codes` when types or categories restrict which (category, type) pairs count. */
function kindsFilter(b: Builder, types: readonly EventTypeName[], cats: readonly string[] | null, allCats: readonly string[]): string {
  if (types.length === Object.keys(TYPE_CODE).length && !cats) return '';
  return ` AND u.kinds && ${b.sql.p(kindCodes(types, cats, allCats), 'bigint[]')}`;
}
