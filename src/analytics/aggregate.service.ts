/**
 * Aggregates: one value per spatial cell × time bucket, read from the coarsest rollups that can
 * answer each part exactly (aggregate.sql.ts) and merged with raw events where they cannot.
 * Also the engine under time series, hot spots, distributions and forecasts.
 */
import { latLngToCell } from 'h3-js';
import type { DataSource } from 'typeorm';
import { ValidationError } from '../common/errors';
import { EVENT_TYPES } from '../events/event.entity';
import type { AggregateCellData, AggregateInputData, AggregateOptions, AnalyticsAccess } from './analytics.model';
import { type AggregateQuery, MAX_CELL_BUCKETS, normalizeAggregate } from './aggregate.query';
import { countsSql, type Plan, type ResolvedGrid, type Space, usersSql } from './aggregate.sql';
import { geoAreaSql } from './area';
import { bucketCount } from './buckets';
import { cellPolygon, h3ToInt, intToH3, MAX_RESOLUTION, MIN_RESOLUTION, ROLLUP_RESOLUTION } from './cells';
import { kindCodes } from './kinds';
import { timeSlicer } from '../common/time-slicer';
import { minUsers } from './privacy';
import { alignSelection, type Publication } from './publication';
import { isRegionUserGrain, regionUsersSql, wholeBuckets } from './region-users';
import type { RegionRollups } from './region-rollups';
import { COUNT_COLUMNS, type CountColumn } from './rollup';
import { rows, Sql } from './sql';

/** Automatic resolution: the finest whose non-empty cells fit the limit and stay readable on a map. */
const AUTO_MAX_CELLS = 2_000;
/** Res-10 answers are built from points; refuse areas with more distinct points than this. */
const MAX_POINTS = 200_000;

export type Counts = Record<CountColumn, number>;

/** One (cell, bucket) of an answer before the metric is applied. */
export interface CellBucket {
  /** Internal cell key: integer H3 string, region id, or '0' for the one cell without a grid. */
  readonly cell: string;
  readonly bucket: Date;
  readonly counts: Counts;
  users: number | null;
}

export interface Answer {
  readonly query: AggregateQuery;
  readonly grid: ResolvedGrid;
  readonly rows: CellBucket[];
}

export class AggregateService {
  constructor(
    private readonly ds: DataSource,
    private readonly regions: RegionRollups,
  ) {}

  /** The public operation: validates, answers, applies the metric and the caller's privacy rule. */
  async aggregates(
    input: AggregateInputData,
    access: AnalyticsAccess | null,
    opts: AggregateOptions = {},
    now = new Date(),
  ): Promise<AggregateCellData[]> {
    const asked = await normalizeAggregate(this.ds, input, now);
    const q = access?.publication ? { ...asked, ...alignSelection(asked, asked.bucket) } : asked;
    const k = minUsers(access);
    const answer = await this.answer(q, {
      withUsers: opts.withUsers || q.metric === 'USERS' || k !== null,
      publication: access?.publication ?? null,
    });
    const kept = answer.rows.filter((r) => k === null || (r.users ?? 0) >= k);
    const shapes = opts.withGeometry ? await this.geometries(answer.grid, q, kept) : null;
    return kept.map((r) => ({
      cellId: cellId(answer.grid, r.cell),
      bucketStart: r.bucket,
      value: metricValue(q, r),
      users: r.users,
      geometry: shapes ? (shapes.get(r.cell) ?? null) : null,
    }));
  }

  /**
   * Counts (and users when asked) per cell and bucket for a validated query. With a publication
   * (restricted callers, on an aligned query) the answer is charged to the key's privacy budget
   * first and every row gets its noise (publication.ts).
   */
  async answer(q: AggregateQuery, opts: { withUsers: boolean; limit?: number; publication?: Publication | null }): Promise<Answer> {
    const noise = opts.publication ? await opts.publication.charge() : null;
    const grid = await this.resolveGrid(q);
    const space = await this.space(q, grid);
    const plan: Plan = { q, grid, space };
    const limit = opts.limit ?? MAX_CELL_BUCKETS;
    const res10 = grid.kind === 'h3' && grid.resolution > ROLLUP_RESOLUTION;
    const built = countsSql(plan, res10 ? MAX_POINTS + 1 : limit + 1);
    const raw = await rows<Record<CountColumn, number | string> & { cell: string; bucket_ms: number }>(this.ds, built.text, built.params);
    if (res10 && raw.length > MAX_POINTS) {
      throw ValidationError.of('input.where', `holds more than ${MAX_POINTS} distinct event locations; narrow it for resolution 10`);
    }
    let result: CellBucket[] = raw.map((r) => ({
      cell: res10 ? pointCell(r.cell) : r.cell,
      bucket: new Date(Number(r.bucket_ms)),
      counts: {
        views: Number(r.views),
        searches: Number(r.searches),
        carts: Number(r.carts),
        purchases: Number(r.purchases),
        favorites: Number(r.favorites),
        units: Number(r.units),
        revenue_cents: Number(r.revenue_cents),
      },
      users: null,
    }));
    result = res10 ? mergeCounts(result) : result.sort(byBucketThenCell);
    if (result.length > limit) {
      const field = grid.kind === 'h3' ? 'input.grid.h3Resolution' : 'input.bucket';
      throw ValidationError.of(
        field,
        `the answer has more than ${limit} cells × buckets; use a coarser grid or bucket, a smaller area or a shorter range`,
      );
    }
    if (opts.withUsers) await this.addUsers(plan, result, res10);
    if (noise) {
      // Rows depend on everything but the range, which is whole buckets (except one 'ALL' bucket).
      const shape = JSON.stringify([grid, q.area, q.types, q.categoryIds, q.productIds, q.bucket, q.bucket === 'ALL' ? [q.from, q.to] : null]);
      const slice = timeSlicer();
      for (const r of result) {
        noise.perturb(`${shape}|${r.cell}|${r.bucket.getTime()}`, r);
        if (slice.due()) await slice.pause();
      }
    }
    return { query: q, grid, rows: result };
  }

  private async addUsers(plan: Plan, result: CellBucket[], res10: boolean): Promise<void> {
    const q = plan.q;
    const cats = (await rows<{ id: string }>(this.ds, `SELECT id::text AS id FROM categories`)).map((c) => c.id);
    const key = (cell: string, bucket: Date) => `${cell}|${bucket.getTime()}`;
    const users = new Map<string, number>();
    // Region rollups carry no users: count them from the user rollup over the regions' cells,
    // except whole days, weeks and months of a region grid, which the region user tables answer.
    const regional = plan.space.kind === 'regionRollup' || plan.space.kind === 'regionCells';
    const cellPlan: Plan = regional ? { ...plan, space: { kind: 'cells' } } : plan;
    let parts: Plan[] = [cellPlan];
    const grain = isRegionUserGrain(q.bucket) ? q.bucket : null;
    const zones = plan.space.kind === 'regionRollup' && !plan.space.collapse && plan.grid.kind === 'regions' ? plan.grid.zones : null;
    const whole = grain && zones && !q.productIds ? wholeBuckets(q.from, q.to, grain) : null;
    if (whole && grain && zones) {
      const every = q.types.length === EVENT_TYPES.length && !q.categoryIds;
      const built = regionUsersSql(zones, grain, whole, every ? null : kindCodes(q.types, q.categoryIds, cats));
      for (const r of await rows<{ cell: string; bucket: Date; users: number }>(this.ds, built.text, built.params)) {
        users.set(key(r.cell, new Date(r.bucket)), Number(r.users));
      }
      parts = [
        { from: q.from, to: whole.from },
        { from: whole.to, to: q.to },
      ]
        .filter((edge) => edge.from.getTime() < edge.to.getTime())
        .map((edge) => ({ ...cellPlan, q: { ...q, ...edge } }));
    }
    for (const part of parts) {
      const built = usersSql(part, cats, res10);
      if (res10) {
        const sets = new Map<string, Set<string>>();
        for (const r of await rows<{ cell: string; bucket: Date; user_id: string }>(this.ds, built.text, built.params)) {
          const k = key(pointCell(r.cell), new Date(r.bucket));
          if (!sets.has(k)) sets.set(k, new Set());
          sets.get(k)!.add(r.user_id);
        }
        for (const [k, set] of sets) users.set(k, set.size);
      } else {
        for (const r of await rows<{ cell: string; bucket: Date; users: number }>(this.ds, built.text, built.params)) {
          users.set(key(r.cell, new Date(r.bucket)), Number(r.users));
        }
      }
    }
    for (const r of result) r.users = users.get(key(r.cell, r.bucket)) ?? 0;
  }

  /** Decides the resolution of an h3 grid without one, and the zones of a region grid. */
  private async resolveGrid(q: AggregateQuery): Promise<ResolvedGrid> {
    const g = q.grid;
    if (g.kind === 'none') return g;
    if (g.kind === 'regions') {
      const zones = q.area?.kind === 'regions' ? [...q.area.ids] : await this.regions.ids(g.regionKind);
      if (zones.length === 0) throw ValidationError.of('input.grid.regions', 'there are no regions to group by');
      return { kind: 'regions', zones };
    }
    if (g.resolution !== null) return { kind: 'h3', resolution: g.resolution };
    return { kind: 'h3', resolution: await this.autoResolution(q) };
  }

  /** The finest resolution (≤ 9) whose non-empty cells in the area fit both limits. */
  private async autoResolution(q: AggregateQuery): Promise<number> {
    const sql = new Sql();
    let where = 'TRUE';
    const ctes: string[] = [];
    if (q.area?.kind === 'regions') {
      await this.regions.ensureFresh(q.area.ids);
      where = `c.h3_r9 IN (SELECT h3_r9 FROM analytics_region_cells WHERE region_id = ANY(${sql.p(q.area.ids, 'bigint[]')}))`;
    } else if (q.area) {
      const geo = geoAreaSql(q.area, sql);
      ctes.push(...geo.ctes);
      where = geo.touches('c.geom');
    }
    const levels = [3, 4, 5, 6, 7, 8];
    const [counts] = await rows<Record<string, string>>(
      this.ds,
      `${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}SELECT ${levels.map((r) => `count(DISTINCT c.r${r}) AS r${r}`).join(', ')},
              count(*) AS r9 FROM analytics_cells c WHERE ${where}`,
      sql.params,
    );
    const buckets = q.bucket === 'ALL' ? 1 : Math.max(1, bucketCount(q.from, q.to, q.bucket));
    const budget = Math.min(AUTO_MAX_CELLS, Math.floor(MAX_CELL_BUCKETS / buckets));
    let best = MIN_RESOLUTION;
    for (let r = MIN_RESOLUTION; r <= ROLLUP_RESOLUTION; r++) if (Number(counts![`r${r}`]) <= budget) best = r;
    return best;
  }

  private async space(q: AggregateQuery, grid: ResolvedGrid): Promise<Space> {
    if (q.productIds || (grid.kind === 'h3' && grid.resolution > ROLLUP_RESOLUTION)) return { kind: 'all' };
    if (grid.kind === 'regions') {
      await this.regions.ensureFresh(grid.zones);
      return !q.area || q.area.kind === 'regions' ? { kind: 'regionRollup', collapse: false } : { kind: 'cells' };
    }
    if (q.area?.kind === 'regions') {
      await this.regions.ensureFresh(q.area.ids);
      const ids = q.area.ids;
      // One cell over disjoint regions is the sum of their region rollups; an H3 grid up to res 8
      // inside them sums their region × res-8 rollups (no category dimension there).
      if (grid.kind === 'none' && (await this.regions.disjoint(ids))) return { kind: 'regionRollup', collapse: true };
      if (grid.kind === 'h3' && grid.resolution <= 8 && !q.categoryIds && (await this.regions.disjoint(ids))) {
        return { kind: 'regionCells', zones: ids };
      }
      return { kind: 'cells' };
    }
    return q.area ? { kind: 'cells' } : { kind: 'all' };
  }

  private async geometries(grid: ResolvedGrid, q: AggregateQuery, cells: readonly CellBucket[]): Promise<Map<string, unknown>> {
    const keys = [...new Set(cells.map((c) => c.cell))];
    const out = new Map<string, unknown>();
    if (grid.kind === 'h3') {
      for (const k of keys) out.set(k, cellPolygon(intToH3(k)));
    } else if (grid.kind === 'regions') {
      const found = await rows<{ id: string; g: string }>(
        this.ds,
        `SELECT id::text AS id, ST_AsGeoJSON(geom) AS g FROM regions WHERE id = ANY($1::bigint[])`,
        [keys],
      );
      for (const r of found) out.set(r.id, JSON.parse(r.g));
    } else if (q.area && keys.length) {
      const sql = new Sql();
      let g: string;
      const ctes: string[] = [];
      if (q.area.kind === 'regions') g = `(SELECT ST_Union(geom) FROM regions WHERE id = ANY(${sql.p(q.area.ids, 'bigint[]')}))`;
      else {
        const geo = geoAreaSql(q.area, sql);
        ctes.push(...geo.ctes);
        g = geo.geometry;
      }
      const [r] = await rows<{ g: string }>(
        this.ds,
        `${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}SELECT ST_AsGeoJSON(${g}) AS g`,
        sql.params,
      );
      out.set('0', JSON.parse(r!.g));
    }
    return out;
  }
}

/** The metric of one cell-bucket. */
export function metricValue(q: Pick<AggregateQuery, 'metric' | 'types'>, r: Pick<CellBucket, 'counts' | 'users'>): number | null {
  const c = r.counts;
  switch (q.metric) {
    case 'EVENTS':
      return q.types.reduce((a, t) => a + c[TYPE_COLUMNS[t]], 0);
    case 'USERS':
      return r.users ?? 0;
    case 'PURCHASES':
      return c.purchases;
    case 'REVENUE':
      return c.revenue_cents / 100;
    case 'CONVERSION':
      return c.views > 0 ? c.purchases / c.views : null;
  }
}

const TYPE_COLUMNS = { view: 'views', search: 'searches', cart: 'carts', purchase: 'purchases', favorite: 'favorites' } as const;

export function cellId(grid: ResolvedGrid, cell: string): string {
  if (grid.kind === 'h3') return intToH3(cell);
  if (grid.kind === 'regions') return cell;
  return 'all';
}

/** "lat,lng" (res-10 source rows) → the integer res-10 cell. */
function pointCell(latLng: string): string {
  const [lat, lng] = latLng.split(',').map(Number);
  return h3ToInt(latLngToCell(lat!, lng!, MAX_RESOLUTION));
}

function mergeCounts(list: CellBucket[]): CellBucket[] {
  const by = new Map<string, CellBucket>();
  for (const r of list) {
    const k = `${r.cell}|${r.bucket.getTime()}`;
    const prev = by.get(k);
    if (!prev) by.set(k, { ...r, counts: { ...r.counts } });
    else for (const c of COUNT_COLUMNS) prev.counts[c] += r.counts[c];
  }
  return [...by.values()].sort(byBucketThenCell);
}

function byBucketThenCell(a: CellBucket, b: CellBucket): number {
  return a.bucket.getTime() - b.bucket.getTime() || (a.cell < b.cell ? -1 : a.cell > b.cell ? 1 : 0);
}
