/**
 * Reusable WHERE clauses for TypeORM query builders: radius, bounding box, time range, ids.
 * Each validates its input first so a bad value is BAD_USER_INPUT naming the field, never SQL text.
 */
import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { IssueCollector } from '../common/errors';
import { type BoundingBox, checkBox, checkPoint, degreesCovering, type GeoPoint } from '../common/geo';

export interface RadiusFilter {
  readonly center: GeoPoint;
  readonly radiusKm: number;
}

export interface TimeRange {
  readonly from?: Date | null;
  readonly to?: Date | null;
}

let seq = 0;
/** Unique parameter names, so one builder can hold several filters of the same kind. */
function p(name: string): string {
  seq = (seq + 1) % 1_000_000;
  return `${name}_${seq}`;
}

export function checkRadius(r: RadiusFilter, path: string, issues: IssueCollector): void {
  checkPoint(r.center, `${path}.center`, issues);
  if (!Number.isFinite(r.radiusKm) || r.radiusKm <= 0 || r.radiusKm > 20_000) {
    issues.add(`${path}.radiusKm`, 'must be greater than 0 and at most 20000');
  }
}

export function checkTimeRange(t: TimeRange, path: string, issues: IssueCollector): void {
  if (t.from && t.to && t.from.getTime() > t.to.getTime()) issues.add(`${path}.from`, 'must not be after to');
}

export function isNumericId(id: string): boolean {
  return /^[0-9]{1,18}$/.test(id);
}

/** Which of `ids` exist in `table`; one query. */
export async function existingIds(
  db: Pick<DataSource, 'query'>,
  table: 'users' | 'products',
  ids: readonly string[],
): Promise<Set<string>> {
  const unique = [...new Set(ids.filter(isNumericId))];
  if (unique.length === 0) return new Set();
  const rows: { id: string }[] = await db.query(`SELECT id FROM ${table} WHERE id = ANY($1::bigint[])`, [unique]);
  return new Set(rows.map((r) => r.id));
}

export function checkIds(ids: readonly string[], path: string, issues: IssueCollector): void {
  ids.forEach((id, i) => {
    if (!isNumericId(id)) issues.add(`${path}[${i}]`, 'is not a valid id');
  });
}

/** Great-circle radius; the degree pre-filter lets the GiST index work before the exact geography test. */
export function whereWithinRadius<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  r: RadiusFilter,
): void {
  const [lat, lng, deg, m] = [p('lat'), p('lng'), p('deg'), p('m')];
  const point = `ST_SetSRID(ST_MakePoint(:${lng}, :${lat}), 4326)`;
  qb.andWhere(
    `ST_DWithin(${column}, ${point}, :${deg}) AND ST_DWithin(${column}::geography, ${point}::geography, :${m})`,
    {
      [lat]: r.center.latitude,
      [lng]: r.center.longitude,
      [deg]: degreesCovering(r.center, r.radiusKm * 1000),
      [m]: r.radiusKm * 1000,
    },
  );
}

export function whereWithinBox<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, column: string, b: BoundingBox): void {
  const [a, c, d, e] = [p('minLng'), p('minLat'), p('maxLng'), p('maxLat')];
  qb.andWhere(`${column} && ST_MakeEnvelope(:${a}, :${c}, :${d}, :${e}, 4326)`, {
    [a]: b.minLongitude,
    [c]: b.minLatitude,
    [d]: b.maxLongitude,
    [e]: b.maxLatitude,
  });
  // && compares bounding boxes; for points that is exact.
}

export function whereInTimeRange<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, column: string, t: TimeRange): void {
  if (t.from) {
    const k = p('from');
    qb.andWhere(`${column} >= :${k}`, { [k]: t.from });
  }
  if (t.to) {
    const k = p('to');
    qb.andWhere(`${column} < :${k}`, { [k]: t.to });
  }
}

export { checkBox, checkPoint };
