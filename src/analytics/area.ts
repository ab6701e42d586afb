/**
 * SQL for geometric query areas (bbox, GeoJSON polygon, great-circle radius): the exact point test
 * used on raw events, and the two cell tests that let rollups answer exactly:
 *   inside(cell)  – every point of the cell is in the area (the cell's rollup rows can be used);
 *   touches(cell) – the cell may hold points of the area (else it is skipped).
 * A cell that touches but is not inside is a boundary cell, answered from its raw events.
 *
 * Cell outlines come from h3-js with straight edges in lon/lat; H3 assigns points using edges that
 * are straight in its gnomonic projection. The two differ by far less than MARGIN_DEG (~1 m), and
 * every stored event lies within 1e-7° of its cell's outline (test/analytics/rollup.test.ts), so
 * shrinking the area by the margin for `inside` and growing it for `touches` keeps both tests
 * conservative: no event is ever attributed to the wrong side.
 */
import { degreesCovering } from '../common/geo';
import type { Area } from './aggregate.query';
import type { Sql } from './sql';

/** ~1.1 m at the equator. */
export const MARGIN_DEG = 1e-5;
/** The same margin for great-circle distances, in metres. */
export const MARGIN_M = 2;

export interface GeoAreaSql {
  /** CTE definitions (comma-joined, without WITH); may be empty. */
  readonly ctes: string[];
  /** Boolean: the point is in the area, exactly as the raw-SQL reference decides. */
  contains(point: string): string;
  /** Boolean: every point of the cell outline is in the area (conservative). */
  inside(cell: string): string;
  /** Boolean: the cell outline comes within the margin of the area (conservative). */
  touches(cell: string): string;
  /** SQL expression of the area as a geometry (for its outline and its size). */
  readonly geometry: string;
}

export type GeometricArea = Exclude<Area, { kind: 'regions' }>;

export function geoAreaSql(area: GeometricArea, sql: Sql): GeoAreaSql {
  if (area.kind === 'radius') {
    const lng = sql.p(area.center.longitude, 'float8');
    const lat = sql.p(area.center.latitude, 'float8');
    const m = sql.p(area.meters, 'float8');
    // Added on first use only: an unused parameter would make the statement fail to prepare.
    let degP: string | null = null;
    const deg = () => (degP ??= sql.p(degreesCovering(area.center, area.meters + 10 * MARGIN_M) + MARGIN_DEG, 'float8'));
    const pt = `ST_SetSRID(ST_MakePoint(${lng}, ${lat}), 4326)`;
    const geog = `${pt}::geography`;
    return {
      ctes: [],
      contains: (p) => `(ST_DWithin(${p}, ${pt}, ${deg()}) AND ST_DWithin(${p}::geography, ${geog}, ${m}))`,
      // A geodesic disc is convex at these sizes, so a cell is inside when all its vertices are.
      inside: (c) =>
        `NOT EXISTS (SELECT 1 FROM ST_DumpPoints(${c}) AS dp WHERE NOT ST_DWithin(dp.geom::geography, ${geog}, ${m} - ${MARGIN_M}))`,
      touches: (c) => `(ST_DWithin(${c}, ${pt}, ${deg()}) AND ST_DWithin(${c}::geography, ${geog}, ${m} + ${MARGIN_M}))`,
      geometry: `ST_Buffer(${geog}, ${m})::geometry`,
    };
  }
  const g =
    area.kind === 'bbox'
      ? `ST_MakeEnvelope(${sql.p(area.box.minLongitude, 'float8')}, ${sql.p(area.box.minLatitude, 'float8')}, ${sql.p(
          area.box.maxLongitude,
          'float8',
        )}, ${sql.p(area.box.maxLatitude, 'float8')}, 4326)`
      : `ST_SetSRID(ST_GeomFromGeoJSON(${sql.p(area.geojson, 'text')}), 4326)`;
  return {
    ctes: [
      `area_g AS MATERIALIZED (SELECT g, ST_Buffer(g, -${MARGIN_DEG}) AS inner_g, ST_Buffer(g, ${MARGIN_DEG}) AS outer_g FROM (SELECT ${g} AS g) s)`,
    ],
    contains: (p) => `ST_Intersects((SELECT g FROM area_g), ${p})`,
    inside: (c) => `ST_Within(${c}, (SELECT inner_g FROM area_g))`,
    touches: (c) => `ST_Intersects(${c}, (SELECT outer_g FROM area_g))`,
    geometry: '(SELECT g FROM area_g)',
  };
}
