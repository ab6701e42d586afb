/**
 * Validates and normalises analytics selectors into an AggregateQuery. Every problem is a
 * ValidationError naming the field (e.g. `input.grid.h3Resolution`); checks that need the
 * database (polygon validity by ST_IsValid, unknown region/category/product ids) run here too,
 * so the planner only ever sees well-formed queries.
 */
import { IssueCollector, ValidationError } from '../common/errors';
import { type BoundingBox, checkBox, checkPoint, type GeoPoint } from '../common/geo';
import { isNumericId } from '../db/query-filters';
import { EVENT_TYPES, type EventTypeName } from '../events/event.entity';
import type { AggregateInputData, Metric, SelectionData } from './analytics.model';
import { METRICS } from './analytics.model';
import { BUCKETS, type Bucket, bucketCount, DAY_MS } from './buckets';
import { checkBoxArea, checkPolygonPositions } from './area-bounds';
import { MAX_RESOLUTION, MIN_RESOLUTION } from './cells';
import { type Queryable, rows } from './sql';

/** Largest answer: time buckets × spatial cells. */
export const MAX_CELL_BUCKETS = 10_000;
/** Default look-back when `from` is omitted. */
export const DEFAULT_RANGE_DAYS = 30;

export type Area =
  | { readonly kind: 'bbox'; readonly box: BoundingBox }
  | { readonly kind: 'polygon'; readonly geojson: string }
  | { readonly kind: 'radius'; readonly center: GeoPoint; readonly meters: number }
  | { readonly kind: 'regions'; readonly ids: readonly string[] };

export type Grid =
  | { readonly kind: 'none' }
  | { readonly kind: 'h3'; readonly resolution: number | null }
  | { readonly kind: 'regions'; readonly regionKind: string | null };

export interface Selection {
  readonly metric: Metric;
  /** Event types whose events make up the metric (EVENTS/USERS: eventTypes or all). */
  readonly types: readonly EventTypeName[];
  readonly area: Area | null;
  readonly from: Date;
  readonly to: Date;
  readonly categoryIds: readonly string[] | null;
  readonly productIds: readonly string[] | null;
}

export interface AggregateQuery extends Selection {
  /** 'ALL': one bucket for the whole range (internal: hot spots, distributions). */
  readonly bucket: Bucket | 'ALL';
  readonly grid: Grid;
}

/** The event types a metric is computed from. */
export function metricTypes(metric: Metric, eventTypes: readonly EventTypeName[] | null | undefined): EventTypeName[] {
  switch (metric) {
    case 'EVENTS':
    case 'USERS':
      return eventTypes?.length ? [...new Set(eventTypes)] : [...EVENT_TYPES];
    case 'PURCHASES':
    case 'REVENUE':
      return ['purchase'];
    case 'CONVERSION':
      return ['view', 'purchase'];
  }
}

export async function normalizeSelection(
  db: Queryable,
  input: SelectionData,
  now: Date,
  path = 'input',
): Promise<Selection> {
  const issues = new IssueCollector();
  if (!METRICS.includes(input.metric)) issues.add(`${path}.metric`, `must be one of ${METRICS.join(', ')}`);
  if (input.eventTypes?.length) {
    if (input.metric !== 'EVENTS' && input.metric !== 'USERS') {
      issues.add(`${path}.eventTypes`, `only applies to EVENTS and USERS; ${input.metric} defines its own event types`);
    }
    input.eventTypes.forEach((t, i) => {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) issues.add(`${path}.eventTypes[${i}]`, 'is not an event type');
    });
  }
  const to = input.to ?? now;
  const from = input.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (!Number.isFinite(to.getTime())) issues.add(`${path}.to`, 'is not a valid time');
  if (!Number.isFinite(from.getTime())) issues.add(`${path}.from`, 'is not a valid time');
  else if (from.getTime() >= to.getTime()) issues.add(`${path}.from`, `must be before ${path}.to`);

  const area = checkArea(input.where ?? null, `${path}.where`, issues);
  const categoryIds = checkIdList(input.filter?.categoryIds, `${path}.filter.categoryIds`, issues);
  const productIds = checkIdList(input.filter?.productIds, `${path}.filter.productIds`, issues);
  issues.throwIfAny();

  await checkExisting(db, 'regions', area?.kind === 'regions' ? area.ids : null, `${path}.where.regionIds`, issues);
  await checkExisting(db, 'categories', categoryIds, `${path}.filter.categoryIds`, issues);
  await checkExisting(db, 'products', productIds, `${path}.filter.productIds`, issues);
  if (area?.kind === 'polygon') await checkPolygon(db, area.geojson, `${path}.where.polygon`, issues);
  issues.throwIfAny();
  return {
    metric: input.metric,
    types: metricTypes(input.metric, input.eventTypes),
    area,
    from,
    to,
    categoryIds,
    productIds,
  };
}

export async function normalizeAggregate(db: Queryable, input: AggregateInputData, now: Date, path = 'input'): Promise<AggregateQuery> {
  const issues = new IssueCollector();
  if (!BUCKETS.includes(input.bucket)) issues.add(`${path}.bucket`, `must be one of ${BUCKETS.join(', ')}`);
  const grid = checkGrid(input.grid ?? null, `${path}.grid`, issues);
  issues.throwIfAny();
  const sel = await normalizeSelection(db, input, now, path);
  checkBucketCount(sel.from, sel.to, input.bucket, path);
  if (grid.kind === 'h3' && grid.resolution === MAX_RESOLUTION && !sel.area) {
    throw ValidationError.of(`${path}.grid.h3Resolution`, `resolution ${MAX_RESOLUTION} needs a ${path}.where area`);
  }
  return { ...sel, bucket: input.bucket, grid };
}

/** Refuses ranges with more than MAX_CELL_BUCKETS buckets before anything is read. */
export function checkBucketCount(from: Date, to: Date, bucket: Bucket, path: string): number {
  const n = bucketCount(from, to, bucket);
  if (n > MAX_CELL_BUCKETS) {
    throw ValidationError.of(`${path}.bucket`, `${path}.from…${path}.to spans ${n} ${bucket} buckets; at most ${MAX_CELL_BUCKETS} buckets × cells`);
  }
  return n;
}

function checkGrid(g: AggregateInputData['grid'], path: string, issues: IssueCollector): Grid {
  if (!g) return { kind: 'none' };
  const res = g.h3Resolution;
  if (g.regions && res != null) {
    issues.add(path, 'give either h3Resolution or regions, not both');
    return { kind: 'none' };
  }
  if (g.regions) return { kind: 'regions', regionKind: g.regionKind?.trim() || null };
  if (g.regionKind != null) issues.add(`${path}.regionKind`, 'only applies with regions: true');
  if (res != null && (!Number.isInteger(res) || res < MIN_RESOLUTION || res > MAX_RESOLUTION)) {
    issues.add(`${path}.h3Resolution`, `must be an integer from ${MIN_RESOLUTION} to ${MAX_RESOLUTION}`);
  }
  return { kind: 'h3', resolution: res ?? null };
}

function checkArea(w: SelectionData['where'], path: string, issues: IssueCollector): Area | null {
  if (!w) return null;
  const given = [w.bbox, w.polygon, w.near, w.regionIds].filter((x) => x != null).length;
  if (given === 0) {
    if (w.radiusKm != null) issues.add(`${path}.near`, 'is required with radiusKm');
    return null;
  }
  if (given > 1) {
    issues.add(path, 'give exactly one of bbox, polygon, near (with radiusKm) or regionIds');
    return null;
  }
  if (w.radiusKm != null && !w.near) issues.add(`${path}.radiusKm`, 'only applies with near');
  if (w.bbox) {
    checkBox(w.bbox, `${path}.bbox`, issues);
    checkBoxArea(w.bbox, `${path}.bbox`, issues);
    return { kind: 'bbox', box: w.bbox };
  }
  if (w.near) {
    checkPoint(w.near, `${path}.near`, issues);
    if (w.radiusKm == null) issues.add(`${path}.radiusKm`, 'is required with near');
    else if (!Number.isFinite(w.radiusKm) || w.radiusKm <= 0 || w.radiusKm > 2_000) {
      issues.add(`${path}.radiusKm`, 'must be greater than 0 and at most 2000');
    }
    return { kind: 'radius', center: w.near, meters: (w.radiusKm ?? 0) * 1000 };
  }
  if (w.polygon) {
    const t = w.polygon.type;
    if (t !== 'Polygon' && t !== 'MultiPolygon') {
      issues.add(`${path}.polygon`, 'must be a GeoJSON Polygon or MultiPolygon');
    } else if (!Array.isArray(w.polygon.coordinates)) {
      issues.add(`${path}.polygon.coordinates`, 'must be an array of linear rings');
    } else {
      const extent = checkPolygonPositions(t, w.polygon.coordinates, `${path}.polygon.coordinates`, issues);
      if (extent) checkBoxArea(extent, `${path}.polygon`, issues);
    }
    return { kind: 'polygon', geojson: JSON.stringify({ type: t, coordinates: w.polygon.coordinates }) };
  }
  const ids = w.regionIds ?? [];
  if (ids.length === 0) issues.add(`${path}.regionIds`, 'must not be empty');
  if (ids.length > 100) issues.add(`${path}.regionIds`, 'at most 100 regions');
  ids.forEach((id, i) => {
    if (!isNumericId(id)) issues.add(`${path}.regionIds[${i}]`, 'is not a valid id');
  });
  return { kind: 'regions', ids: [...new Set(ids)] };
}

function checkIdList(ids: readonly string[] | null | undefined, path: string, issues: IssueCollector): string[] | null {
  if (!ids?.length) return null;
  if (ids.length > 1000) issues.add(path, 'at most 1000 ids');
  ids.forEach((id, i) => {
    if (!isNumericId(id)) issues.add(`${path}[${i}]`, 'is not a valid id');
  });
  return [...new Set(ids)];
}

async function checkExisting(
  db: Queryable,
  table: 'regions' | 'categories' | 'products',
  ids: readonly string[] | null,
  path: string,
  issues: IssueCollector,
): Promise<void> {
  if (!ids?.length) return;
  const found = await rows<{ id: string }>(db, `SELECT id::text AS id FROM ${table} WHERE id = ANY($1::bigint[])`, [ids]);
  const have = new Set(found.map((r) => r.id));
  ids.forEach((id, i) => {
    if (!have.has(id)) issues.add(`${path}[${i}]`, `unknown ${table.replace(/ies$/, 'y').replace(/s$/, '')} ${id}`);
  });
}

async function checkPolygon(db: Queryable, geojson: string, path: string, issues: IssueCollector): Promise<void> {
  try {
    const [r] = await rows<{ valid: boolean; reason: string; empty: boolean }>(
      db,
      `SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, ST_IsEmpty(g) AS empty
       FROM (SELECT ST_GeomFromGeoJSON($1) AS g) s`,
      [geojson],
    );
    if (!r!.valid) issues.add(path, `is not a valid polygon: ${r!.reason}`);
    else if (r!.empty) issues.add(path, 'is empty');
  } catch {
    issues.add(path, 'is not valid GeoJSON');
  }
}

/**
 * Rewrites field paths of a ValidationError raised for an internal selection so that they name the
 * caller's own arguments (e.g. `input.filter.categoryIds[0]` → `category`). Other errors pass through.
 */
export function renamePaths(err: unknown, names: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof ValidationError)) return err;
  return new ValidationError(
    err.issues.map((i) => ({ ...i, path: Object.entries(names).reduce((p, [from, to]) => p.replace(from, to), i.path) })),
  );
}
