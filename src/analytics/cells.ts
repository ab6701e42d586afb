/**
 * H3 helpers shared by ingestion and queries. Cells are stored as signed 64-bit integers
 * (an H3 index never sets the top bit, so it is positive) and served as the usual hex strings.
 * Everything is computed by h3-js, so both databases see identical cells and parents.
 */
import { cellToBoundary, cellToParent, getResolution, isValidCell } from 'h3-js';
import type { Polygon } from 'geojson';

/** Resolutions a grid may use. Rollups are kept at 9; 10 is answered from raw events. */
export const MIN_RESOLUTION = 3;
export const MAX_RESOLUTION = 10;
export const ROLLUP_RESOLUTION = 9;
/** Coarser parents stored in the cell directory, so SQL can group by any resolution 3…8. */
export const PARENT_RESOLUTIONS = [3, 4, 5, 6, 7, 8] as const;

export function h3ToInt(h3: string): string {
  return BigInt(`0x${h3}`).toString();
}

export function intToH3(v: string | bigint): string {
  return BigInt(v).toString(16).padStart(15, '0');
}

/** A GeoJSON Polygon of the cell outline, [lng, lat] order, closed ring. */
export function cellPolygon(h3: string): Polygon {
  return { type: 'Polygon', coordinates: [cellToBoundary(h3, true)] };
}

export interface CellDirectoryRow {
  readonly h3: string;
  /** Parents at resolutions 3…8, as integer strings, in PARENT_RESOLUTIONS order. */
  readonly parents: readonly string[];
  /** Outline as WKT, for ST_GeomFromText. */
  readonly wkt: string;
}

// Outlines and parents never change; a bounded memo spares h3-js work on hot cells during ingestion.
const memo = new Map<string, CellDirectoryRow>();
const MEMO_LIMIT = 200_000;

/** Directory row of a resolution-9 cell given as an integer string. */
export function directoryRow(h3int: string): CellDirectoryRow {
  const hit = memo.get(h3int);
  if (hit) return hit;
  const h3 = intToH3(h3int);
  const ring = cellToBoundary(h3, true);
  const row: CellDirectoryRow = {
    h3: h3int,
    parents: PARENT_RESOLUTIONS.map((r) => h3ToInt(cellToParent(h3, r))),
    wkt: `POLYGON((${ring.map(([lng, lat]) => `${lng} ${lat}`).join(',')}))`,
  };
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(h3int, row);
  return row;
}

export function isCellOfResolution(h3: string, resolution: number): boolean {
  return isValidCell(h3) && getResolution(h3) === resolution;
}
