/**
 * Bounds on analytics areas, checked before any SQL runs: every polygon position is a real
 * [longitude, latitude], a polygon has at most MAX_POLYGON_VERTICES positions, and no box or
 * polygon spans more than a tenth of the Earth (measured on its bounding box: larger than South
 * America). A world-sized polygon made the database test every cell and buffer the whole planet;
 * leaving `where` out asks for everything and reads the rollups directly.
 */
import type { IssueCollector } from '../common/errors';
import { type BoundingBox, EARTH_RADIUS_M } from '../common/geo';

const EARTH_RADIUS_KM = EARTH_RADIUS_M / 1000;
/** A tenth of the Earth's surface, km². */
export const MAX_AREA_KM2 = 50_000_000;
export const MAX_POLYGON_VERTICES = 10_000;

/** Area of a latitude/longitude box on the sphere, km². */
export function boxAreaKm2(b: BoundingBox): number {
  const rad = Math.PI / 180;
  const dLng = Math.max(0, b.maxLongitude - b.minLongitude) * rad;
  return EARTH_RADIUS_KM ** 2 * dLng * Math.abs(Math.sin(b.maxLatitude * rad) - Math.sin(b.minLatitude * rad));
}

export function checkBoxArea(b: BoundingBox, path: string, issues: IssueCollector): void {
  const km2 = boxAreaKm2(b);
  if (km2 > MAX_AREA_KM2) issues.add(path, `covers ${Math.round(km2).toLocaleString('en')} km²; at most ${MAX_AREA_KM2.toLocaleString('en')} km² (leave out where to ask for everything)`);
}

/**
 * Checks a GeoJSON Polygon/MultiPolygon's positions and returns their bounding box (null when
 * a position is bad: the issues say which). Nesting: Polygon = rings of positions, MultiPolygon =
 * polygons of rings.
 */
export function checkPolygonPositions(type: 'Polygon' | 'MultiPolygon', coordinates: unknown, path: string, issues: IssueCollector): BoundingBox | null {
  const box = { minLatitude: 90, maxLatitude: -90, minLongitude: 180, maxLongitude: -180 };
  let count = 0;
  let bad = false;
  const position = (p: unknown, at: string) => {
    count++;
    const [lng, lat] = Array.isArray(p) ? (p as unknown[]) : [];
    if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
      issues.add(`${at}[0]`, 'must be a longitude between -180 and 180');
      bad = true;
    } else if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      issues.add(`${at}[1]`, 'must be a latitude between -90 and 90');
      bad = true;
    } else {
      box.minLatitude = Math.min(box.minLatitude, lat);
      box.maxLatitude = Math.max(box.maxLatitude, lat);
      box.minLongitude = Math.min(box.minLongitude, lng);
      box.maxLongitude = Math.max(box.maxLongitude, lng);
    }
  };
  const list = (v: unknown, at: string, each: (x: unknown, at: string) => void) => {
    if (!Array.isArray(v)) {
      issues.add(at, 'must be an array');
      bad = true;
      return;
    }
    for (const [i, x] of v.entries()) {
      if (bad || count > MAX_POLYGON_VERTICES) return; // one issue is enough to name the mistake
      each(x, `${at}[${i}]`);
    }
  };
  const ring = (r: unknown, at: string) => list(r, at, position);
  const polygon = (p: unknown, at: string) => list(p, at, ring);
  if (type === 'Polygon') polygon(coordinates, path);
  else list(coordinates, path, polygon);
  if (count > MAX_POLYGON_VERTICES) {
    issues.add(path, `has more than ${MAX_POLYGON_VERTICES} positions`);
    return null;
  }
  return bad || count === 0 ? null : box;
}
