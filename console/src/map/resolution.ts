/**
 * The automatic H3 resolution: chosen in the browser from the area's extent and sent explicitly
 * (the API answers `grid: null` with one cell, "all"). A country gets coarse hexagons, one city
 * finer ones: the finest resolution whose hexagons stay readable (at most ~40 across the area) and
 * whose cells × buckets stay well under the API's 10,000-row answer.
 */
import { areaKm2, bbox, extentKm, type Geometry } from './geo';

/** H3's average hexagon edge (km) and area (km²) per resolution. */
const EDGE_KM: Record<number, number> = { 3: 68.98, 4: 26.07, 5: 9.854, 6: 3.725, 7: 1.406, 8: 0.531 };
const AREA_KM2: Record<number, number> = { 3: 12_393, 4: 1_770, 5: 252.9, 6: 36.13, 7: 5.161, 8: 0.737 };
export const MIN_RES = 3;
export const MAX_RES = 8;
const MAX_ACROSS = 40;
const MAX_ROWS = 9_000;
const MAX_CELLS = 2_000;

/** Buckets of `bucket` in [from, to). */
export function bucketCount(from: string, to: string, bucket: string): number {
  const days = Math.max(1, (Date.parse(to) - Date.parse(from)) / 86_400_000);
  const per = bucket === 'HOUR' ? 1 / 24 : bucket === 'DAY' ? 1 : bucket === 'WEEK' ? 7 : bucket === 'MONTH' ? 30 : days;
  return Math.max(1, Math.ceil(days / per) + 1);
}

/**
 * `areas`: the outlines the data lies in (the chosen region, or every region for "everywhere");
 * `buckets`: how many time buckets the answer has.
 */
export function autoResolution(areas: Geometry[], buckets: number): number {
  const box = bbox(areas);
  if (!box) return 5;
  const extent = extentKm(box);
  // Cells the data can occupy: the regions' area plus a ring of partly covered hexagons.
  const area = areaKm2(areas);
  const perimeter = 2 * Math.sqrt(Math.PI * area * areas.length); // n round regions of this total area
  let best = MIN_RES;
  for (let r = MIN_RES; r <= MAX_RES; r++) {
    const across = extent / (2 * EDGE_KM[r]!);
    const cells = area / AREA_KM2[r]! + perimeter / (Math.sqrt(3) * EDGE_KM[r]!);
    if (across <= MAX_ACROSS && cells <= MAX_CELLS && cells * buckets <= MAX_ROWS) best = r;
  }
  return best;
}
