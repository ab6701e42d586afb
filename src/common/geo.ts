/** Small pure geographic helpers shared by services. */
import { IssueCollector } from './errors';

export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
}

export interface BoundingBox {
  readonly minLatitude: number;
  readonly minLongitude: number;
  readonly maxLatitude: number;
  readonly maxLongitude: number;
}

export const EARTH_RADIUS_M = 6_371_008.8;

/**
 * The aligned units answers to restricted callers are published on (docs/privacy.md): circles of
 * at least MIN_PUBLIC_RADIUS_KM around centres on a PUBLIC_GRID_DEG grid (~1.1 km), so no circle
 * can be placed on one person's doorstep or differ from another by a sliver.
 */
export const PUBLIC_GRID_DEG = 0.01;
export const MIN_PUBLIC_RADIUS_KM = 2;

/** `p` moved to the nearest node of the public grid. */
export function snapToPublicGrid(p: GeoPoint): GeoPoint {
  const snap = (x: number) => Math.round(x / PUBLIC_GRID_DEG) * PUBLIC_GRID_DEG;
  return { latitude: snap(p.latitude), longitude: snap(p.longitude) };
}

export function checkPoint(p: GeoPoint, path: string, issues: IssueCollector): void {
  if (!Number.isFinite(p.latitude) || p.latitude < -90 || p.latitude > 90) {
    issues.add(`${path}.latitude`, 'must be a number between -90 and 90');
  }
  if (!Number.isFinite(p.longitude) || p.longitude < -180 || p.longitude > 180) {
    issues.add(`${path}.longitude`, 'must be a number between -180 and 180');
  }
}

export function checkBox(b: BoundingBox, path: string, issues: IssueCollector): void {
  checkPoint({ latitude: b.minLatitude, longitude: b.minLongitude }, `${path}.min`, issues);
  checkPoint({ latitude: b.maxLatitude, longitude: b.maxLongitude }, `${path}.max`, issues);
  if (b.minLatitude > b.maxLatitude) issues.add(`${path}.minLatitude`, 'must not exceed maxLatitude');
  if (b.minLongitude > b.maxLongitude) issues.add(`${path}.minLongitude`, 'must not exceed maxLongitude');
}

/** Great-circle distance in metres. */
export function haversineMeters(a: GeoPoint, b: GeoPoint): number {
  const toRad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * toRad;
  const dLng = (b.longitude - a.longitude) * toRad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * toRad) * Math.cos(b.latitude * toRad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * A radius in degrees that is never smaller than `meters` anywhere within the circle,
 * so `ST_DWithin(geom, point, deg)` can use the GiST index as a pre-filter before the exact
 * geography test.
 */
export function degreesCovering(center: GeoPoint, meters: number): number {
  const latDeg = meters / 111_000;
  const maxLat = Math.min(89.9, Math.abs(center.latitude) + latDeg);
  return latDeg / Math.cos((maxLat * Math.PI) / 180);
}
