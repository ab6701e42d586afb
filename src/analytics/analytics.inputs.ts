/**
 * GraphQL inputs and enums of analytics. Shapes mirror analytics.model.ts; the services validate
 * (one path for GraphQL, tools and jobs) and name the bad field.
 */
import { Field, Float, ID, InputType, Int, registerEnumType } from 'type-graphql';
import type { EventTypeName } from '../events/event.entity';
import { EventType } from '../events/event.types';
import { BoundingBoxInput, GeoPointInput } from '../graphql/geo.input';
import { GeoJSONScalar } from '../graphql/scalars';
import type { GeoJsonGeometry, Metric } from './analytics.model';
import type { Bucket } from './buckets';

export const AnalyticsMetric = {
  EVENTS: 'EVENTS',
  USERS: 'USERS',
  PURCHASES: 'PURCHASES',
  REVENUE: 'REVENUE',
  CONVERSION: 'CONVERSION',
} as const satisfies Record<Metric, Metric>;
registerEnumType(AnalyticsMetric, {
  name: 'AnalyticsMetric',
  description: 'EVENTS: events (of eventTypes); USERS: distinct users; PURCHASES: purchase events; REVENUE: Σ price × quantity of purchases; CONVERSION: purchases ÷ views.',
});

export const TimeBucket = { HOUR: 'HOUR', DAY: 'DAY', WEEK: 'WEEK', MONTH: 'MONTH' } as const satisfies Record<Bucket, Bucket>;
registerEnumType(TimeBucket, { name: 'TimeBucket', description: 'UTC buckets; weeks start on Monday.' });

@InputType({ description: 'Spatial cells: an H3 resolution (3–10; omit it to let the server choose one that fits), regions, or neither for one cell.' })
export class GridInput {
  @Field(() => Int, { nullable: true }) h3Resolution?: number;
  @Field({ nullable: true, description: 'One cell per region (membership by ST_Intersects).' }) regions?: boolean;
  @Field({ nullable: true, description: 'With regions: only regions of this kind, e.g. "city".' }) regionKind?: string;
}

@InputType({ description: 'Where events happened: exactly one of bbox, polygon, near (with radiusKm) or regionIds.' })
export class AreaInput {
  @Field(() => BoundingBoxInput, { nullable: true }) bbox?: BoundingBoxInput;
  @Field(() => GeoJSONScalar, { nullable: true, description: 'A GeoJSON Polygon or MultiPolygon (must be valid).' })
  polygon?: GeoJsonGeometry;
  @Field(() => GeoPointInput, { nullable: true }) near?: GeoPointInput;
  @Field(() => Float, { nullable: true, description: 'Great-circle radius around near, (0, 2000] km.' }) radiusKm?: number;
  @Field(() => [ID], { nullable: true }) regionIds?: string[];
}

@InputType()
export class AnalyticsFilterInput {
  @Field(() => [ID], { nullable: true }) categoryIds?: string[];
  @Field(() => [ID], { nullable: true }) productIds?: string[];
}

@InputType({ description: 'Selectors shared by every analytics query.' })
class SelectionInput {
  @Field(() => AnalyticsMetric) metric!: Metric;
  @Field(() => [EventType], { nullable: true, description: 'EVENTS and USERS only; default all types.' }) eventTypes?: EventTypeName[];
  @Field(() => AreaInput, { nullable: true }) where?: AreaInput;
  @Field({ nullable: true, description: 'Inclusive start. Defaults to `to` − 30 days.' }) from?: Date;
  @Field({ nullable: true, description: 'Exclusive end. Defaults to now.' }) to?: Date;
  @Field(() => AnalyticsFilterInput, { nullable: true }) filter?: AnalyticsFilterInput;
}

@InputType({ description: 'At most 10,000 cells × buckets per answer.' })
export class AggregateInput extends SelectionInput {
  @Field(() => TimeBucket) bucket!: Bucket;
  @Field(() => GridInput, { nullable: true }) grid?: GridInput;
}

@InputType()
export class TimeSeriesInput extends SelectionInput {
  @Field(() => TimeBucket) bucket!: Bucket;
  @Field(() => Float, { nullable: true, description: 'Anomaly band in robust sigmas (median ± k·1.4826·MAD). Defaults to 3.5.' })
  anomalyThreshold?: number;
}

@InputType()
export class HotspotInput extends SelectionInput {
  @Field(() => Int, { nullable: true, description: '3–9; chosen to fit when omitted.' }) h3Resolution?: number;
  @Field(() => Int, { nullable: true, description: 'Neighbourhood radius in H3 rings, 1–3. Defaults to 1.' }) ringSize?: number;
  @Field(() => TimeBucket, { nullable: true, description: 'Space-time hot spots per bucket when given.' }) bucket?: Bucket;
  @Field(() => Float, { nullable: true, description: 'False discovery rate (Benjamini–Hochberg). Defaults to 0.05.' }) alpha?: number;
  @Field({ nullable: true, description: 'Only HOT and COLD cells. Defaults to true.' }) onlySignificant?: boolean;
}

@InputType({ description: 'Exactly one of productId or categoryId.' })
export class DistributionInput {
  @Field(() => ID, { nullable: true }) productId?: string;
  @Field(() => ID, { nullable: true }) categoryId?: string;
  @Field(() => AnalyticsMetric, { nullable: true, description: 'EVENTS, PURCHASES or REVENUE. Defaults to PURCHASES.' }) metric?: Metric;
  @Field(() => [EventType], { nullable: true }) eventTypes?: EventTypeName[];
  @Field({ nullable: true }) from?: Date;
  @Field({ nullable: true }) to?: Date;
  @Field({ nullable: true, description: 'Shares over regions of this kind; all regions when omitted.' }) regionKind?: string;
}

@InputType({ description: 'One series: a region, a category, or a category within a region.' })
export class SeriesSelector {
  @Field(() => ID, { nullable: true }) regionId?: string;
  @Field(() => ID, { nullable: true }) categoryId?: string;
  @Field({ nullable: true }) label?: string;
}

@InputType()
export class CorrelationInput {
  @Field(() => AnalyticsMetric) metric!: Metric;
  @Field(() => [EventType], { nullable: true }) eventTypes?: EventTypeName[];
  @Field(() => TimeBucket) bucket!: Bucket;
  @Field({ nullable: true }) from?: Date;
  @Field({ nullable: true }) to?: Date;
  @Field(() => [SeriesSelector], { description: '2 to 10 series.' }) series!: SeriesSelector[];
  @Field(() => Int, { nullable: true, description: 'Largest lag in buckets, 0–60. Defaults to 7.' }) maxLag?: number;
  @Field({ nullable: true, description: 'Remove linear trends first. Defaults to true.' }) detrend?: boolean;
}
