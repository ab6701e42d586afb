/**
 * The map's GraphQL operations: static, named documents (console/operations.mjs validates them at
 * build and the server allow-lists them for partner keys).
 */
import type { Geometry } from './geo';

/** Cells × buckets; no geometry: H3 cells are drawn from their index, regions from `regions`. */
export const MAP_CELLS = `query MapCells($input: AggregateInput!) { aggregates(input: $input) { cellId bucketStart value users } }`;
export const MAP_HOTSPOTS = `query MapHotspots($input: HotspotInput!) { hotspots(input: $input) { cellId classification zScore pValue } }`;
export const MAP_SERIES = `query MapSeries($input: TimeSeriesInput!) { timeSeries(input: $input) { points { bucketStart value users partial anomaly } } }`;
export const MAP_REGIONS = `query MapRegions { regions { id name kind geometry } }`;

export interface CellRow {
  cellId: string;
  bucketStart: string;
  value: number | null;
  users: number | null;
}

export interface HotspotRow {
  cellId: string;
  classification: 'HOT' | 'COLD' | 'NOT_SIGNIFICANT';
  zScore: number;
  pValue: number;
}

export interface SeriesPoint {
  bucketStart: string;
  value: number | null;
  users: number | null;
  partial: boolean;
  anomaly: boolean;
}

export interface Region {
  id: string;
  name: string;
  kind: string;
  geometry: Geometry;
}
