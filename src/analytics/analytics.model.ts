/**
 * Plain data shapes of the analytics services (no GraphQL): what callers pass in and get back.
 * Resolvers, tools, jobs and the benchmark all use these.
 */
import type { BoundingBox, GeoPoint } from '../common/geo';
import type { EventTypeName } from '../events/event.entity';
import type { Bucket } from './buckets';
import type { Publication } from './publication';

export type Metric = 'EVENTS' | 'USERS' | 'PURCHASES' | 'REVENUE' | 'CONVERSION';
export const METRICS: readonly Metric[] = ['EVENTS', 'USERS', 'PURCHASES', 'REVENUE', 'CONVERSION'];

/** A GeoJSON geometry as parsed from JSON. */
export interface GeoJsonGeometry {
  readonly type: string;
  readonly coordinates?: unknown;
}

/** Where events must have happened. Exactly one of the forms (near needs radiusKm). */
export interface AreaData {
  readonly bbox?: BoundingBox | null;
  readonly polygon?: GeoJsonGeometry | null;
  readonly near?: GeoPoint | null;
  readonly radiusKm?: number | null;
  readonly regionIds?: readonly string[] | null;
}

/** Spatial cells: an H3 resolution (3–10; omitted: chosen to fit), regions, or none (one cell). */
export interface GridData {
  readonly h3Resolution?: number | null;
  readonly regions?: boolean | null;
  /** With regions: only regions of this kind (e.g. "city", "state"). */
  readonly regionKind?: string | null;
}

export interface AnalyticsFilterData {
  readonly categoryIds?: readonly string[] | null;
  readonly productIds?: readonly string[] | null;
}

/** Selectors shared by aggregates, time series, hot spots and correlations. */
export interface SelectionData {
  readonly metric: Metric;
  /** EVENTS and USERS only: count these event types (default: all). */
  readonly eventTypes?: readonly EventTypeName[] | null;
  readonly where?: AreaData | null;
  /** Defaults to `to` − 30 days. */
  readonly from?: Date | null;
  /** Defaults to now. */
  readonly to?: Date | null;
  readonly filter?: AnalyticsFilterData | null;
}

export interface AggregateInputData extends SelectionData {
  readonly bucket: Bucket;
  readonly grid?: GridData | null;
}

export interface AggregateOptions {
  /** Compute each cell's GeoJSON outline (only when the client selected it). */
  readonly withGeometry?: boolean;
  /** Compute distinct users per cell (always done for USERS, CONVERSION and k-anonymity). */
  readonly withUsers?: boolean;
}

export interface AggregateCellData {
  /** H3 index (hex), region id, or "all" when there is no grid. */
  readonly cellId: string;
  readonly bucketStart: Date;
  /** The metric; null only for CONVERSION in a cell with purchases but no views. */
  readonly value: number | null;
  /** Distinct users behind the value; null when not requested. */
  readonly users: number | null;
  /** GeoJSON, or null. */
  readonly geometry: unknown;
}

/**
 * What a caller may see. `kAnonymity`: cells (and series points, shares, profiles' locations)
 * backed by fewer distinct users than this are suppressed; null is full access.
 */
export interface AnalyticsAccess {
  readonly kAnonymity: number | null;
  /** Aligned units, noise and a budget (publication.ts); null or absent: exact answers. */
  readonly publication?: Publication | null;
}

export const FULL_ACCESS: AnalyticsAccess = Object.freeze({ kAnonymity: null });
