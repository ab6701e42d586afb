/** GraphQL object types of analytics; the services return the matching *Data shapes. */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GeoJSONScalar } from '../graphql/scalars';
import type { Metric } from './analytics.model';
import { AnalyticsMetric, TimeBucket } from './analytics.inputs';
import type { Bucket } from './buckets';
import type { HotspotClass } from './hotspot.service';
import type { Segment } from './profile.service';

@ObjectType({ description: 'The span of the recorded behaviour events, whole UTC days (a sensible default window for analytics).' })
export class DataExtent {
  @Field(() => Date, { nullable: true, description: 'Start of the UTC day of the first event; null with no events.' }) from!: Date | null;
  @Field(() => Date, { nullable: true, description: 'End of the UTC day of the last event (exclusive); null with no events.' }) to!: Date | null;
}

@ObjectType({ description: 'One spatial cell × time bucket.' })
export class AggregateCell {
  @Field({ description: 'H3 index (hex) for H3 grids, the region id for region grids, "all" without a grid.' }) cellId!: string;
  @Field() bucketStart!: Date;
  @Field(() => Float, { nullable: true, description: 'The metric; null only for CONVERSION with no views.' }) value!: number | null;
  @Field(() => Int, { nullable: true, description: 'Distinct users behind the value.' }) users!: number | null;
  @Field(() => GeoJSONScalar, { nullable: true, description: 'Cell outline (GeoJSON); computed only when selected.' })
  geometry!: unknown;
}

@ObjectType()
export class SeriesPoint {
  @Field() bucketStart!: Date;
  @Field(() => Float, { nullable: true, description: 'Null when suppressed for the caller.' }) value!: number | null;
  @Field(() => Int, { nullable: true }) users!: number | null;
  @Field(() => Float, { nullable: true, description: 'Robust seasonal model fit.' }) expected!: number | null;
  @Field() anomaly!: boolean;
  @Field(() => Float, { nullable: true, description: 'Robust z-score of the residual (anomalies only).' }) score!: number | null;
  @Field({ description: 'Cut by the range; left out of trend, anomalies and forecasts.' }) partial!: boolean;
}

@ObjectType()
export class Trend {
  @Field(() => Float) slopePerBucket!: number;
  @Field(() => Float, { nullable: true }) slopePerDay!: number | null;
  @Field(() => Float, { nullable: true, description: 'Fitted change from first to last full bucket, %.' }) percentChange!: number | null;
  @Field(() => Float) r2!: number;
}

@ObjectType()
export class Seasonality {
  @Field(() => [Float], { description: 'Mean per UTC hour of day, 0–23.' }) dailyProfile!: number[];
  @Field(() => [Float], { description: 'Mean per UTC day of week, Monday first.' }) weeklyProfile!: number[];
  @Field(() => Int, { nullable: true, description: 'Strongest autocorrelation peak, in buckets.' }) dominantPeriod!: number | null;
  @Field(() => Float, { nullable: true }) dominantPeriodHours!: number | null;
  @Field(() => Float, { nullable: true, description: 'Autocorrelation at the dominant period.' }) periodStrength!: number | null;
  @Field(() => Int, { description: 'Season length used by the model, in buckets.' }) modelPeriod!: number;
}

@ObjectType()
export class ForecastPoint {
  @Field() bucketStart!: Date;
  @Field(() => Float) value!: number;
  @Field(() => Float) lower!: number;
  @Field(() => Float) upper!: number;
}

@ObjectType({ description: 'Held-out last points: MASE of the model and of seasonal-naive (< 1 beats in-sample naive).' })
export class Backtest {
  @Field(() => Int) horizon!: number;
  @Field(() => Float, { nullable: true }) mase!: number | null;
  @Field(() => Float, { nullable: true }) naiveMase!: number | null;
}

@ObjectType()
export class Forecast {
  @Field(() => Int) period!: number;
  @Field(() => [ForecastPoint]) points!: ForecastPoint[];
  @Field(() => Backtest) backtest!: Backtest;
}

@ObjectType()
export class TimeSeries {
  @Field(() => AnalyticsMetric) metric!: Metric;
  @Field(() => TimeBucket) bucket!: Bucket;
  @Field(() => [SeriesPoint]) points!: SeriesPoint[];
  @Field(() => Trend) trend!: Trend;
  @Field(() => Seasonality) seasonality!: Seasonality;
  @Field(() => [SeriesPoint]) anomalies!: SeriesPoint[];
}

export const HotspotClassification = { HOT: 'HOT', COLD: 'COLD', NOT_SIGNIFICANT: 'NOT_SIGNIFICANT' } as const satisfies Record<HotspotClass, HotspotClass>;
registerEnumType(HotspotClassification, { name: 'HotspotClass' });

@ObjectType({ description: 'Getis-Ord Gi* of one H3 cell (and bucket, for space-time).' })
export class Hotspot {
  @Field() cellId!: string;
  @Field(() => Date, { nullable: true }) bucketStart!: Date | null;
  @Field(() => Float) value!: number;
  @Field(() => Float, { nullable: true, description: 'Null when suppressed for partners (part of it rests on fewer than k users).' })
  neighbourhoodValue!: number | null;
  @Field(() => Float) zScore!: number;
  @Field(() => Float) pValue!: number;
  @Field(() => HotspotClassification) classification!: HotspotClass;
  @Field(() => GeoJSONScalar, { nullable: true }) geometry!: unknown;
}

@ObjectType()
export class RegionShare {
  @Field(() => ID) regionId!: string;
  @Field() code!: string;
  @Field() name!: string;
  @Field(() => Float) value!: number;
  @Field(() => Float) share!: number;
  @Field(() => Int, { nullable: true }) users!: number | null;
}

@ObjectType()
export class LatLng {
  @Field(() => Float) latitude!: number;
  @Field(() => Float) longitude!: number;
}

@ObjectType()
export class SpatialDistribution {
  @Field(() => AnalyticsMetric) metric!: Metric;
  @Field(() => Float, { nullable: true, description: 'Null when suppressed for partners (fewer than k users behind it).' })
  total!: number | null;
  @Field(() => Int, { nullable: true }) users!: number | null;
  @Field(() => [RegionShare]) regions!: RegionShare[];
  @Field(() => LatLng, { nullable: true }) centroid!: LatLng | null;
  @Field(() => Float, { nullable: true, description: 'Standard distance around the centroid, km.' }) dispersionKm!: number | null;
  @Field(() => Float, { nullable: true }) medianDistanceKm!: number | null;
}

@ObjectType()
export class LagCorrelation {
  @Field(() => Int, { description: 'Positive: b follows a by this many buckets.' }) lag!: number;
  @Field(() => Float, { nullable: true }) r!: number | null;
  @Field(() => Int) n!: number;
}

@ObjectType()
export class CorrelationPair {
  @Field() a!: string;
  @Field() b!: string;
  @Field(() => [LagCorrelation]) lags!: LagCorrelation[];
  @Field(() => Int, { nullable: true }) bestLag!: number | null;
  @Field(() => Float, { nullable: true }) bestR!: number | null;
  @Field(() => Float, { nullable: true, description: 'Fisher-z p-value of bestR, uncorrected for the lags tried.' }) pValue!: number | null;
}

@ObjectType()
export class DemandDay {
  @Field() day!: Date;
  @Field(() => Float) units!: number;
  @Field(() => Float) lower!: number;
  @Field(() => Float) upper!: number;
}

@ObjectType({ description: 'Expected units per day of a category in a region (weekly-seasonal model of daily units).' })
export class DemandForecast {
  @Field(() => ID) regionId!: string;
  @Field(() => ID) categoryId!: string;
  @Field(() => [DemandDay]) days!: DemandDay[];
  @Field(() => Float) totalUnits!: number;
  @Field(() => Int) historyDays!: number;
  @Field(() => Float) recentDailyMean!: number;
  @Field(() => Backtest) backtest!: Backtest;
  @Field(() => Int) period!: number;
}

export const UserSegment = {
  CHAMPION: 'CHAMPION',
  LOYAL: 'LOYAL',
  NEW: 'NEW',
  POTENTIAL: 'POTENTIAL',
  AT_RISK: 'AT_RISK',
  HIBERNATING: 'HIBERNATING',
  BROWSER: 'BROWSER',
  INACTIVE: 'INACTIVE',
} as const satisfies Record<Segment, Segment>;
registerEnumType(UserSegment, { name: 'UserSegment', description: 'From RFM quintiles; BROWSER: events but no purchase.' });

@ObjectType()
export class Rfm {
  @Field(() => Float, { nullable: true }) recencyDays!: number | null;
  @Field(() => Int) frequency!: number;
  @Field(() => Float) monetary!: number;
  @Field(() => Int, { nullable: true }) r!: number | null;
  @Field(() => Int, { nullable: true }) f!: number | null;
  @Field(() => Int, { nullable: true }) m!: number | null;
}

@ObjectType()
export class CategoryAffinity {
  @Field(() => ID) categoryId!: string;
  @Field() name!: string;
  @Field(() => Int) events!: number;
  @Field(() => Int) purchases!: number;
  @Field(() => Float) share!: number;
}

@ObjectType()
export class ActiveHour {
  @Field(() => Int, { description: '0 = Monday … 6 = Sunday (UTC).' }) dayOfWeek!: number;
  @Field(() => Int, { description: '0–23 UTC.' }) hour!: number;
  @Field(() => Int) events!: number;
  @Field(() => Float) share!: number;
}

@ObjectType()
export class LifetimeStats {
  @Field(() => Date, { nullable: true }) firstSeen!: Date | null;
  @Field(() => Date, { nullable: true }) lastSeen!: Date | null;
  @Field(() => Int) events!: number;
  @Field(() => Int) sessions!: number;
  @Field(() => Int) activeDays!: number;
  @Field(() => Int) purchases!: number;
  @Field(() => Int) units!: number;
  @Field(() => Float) revenue!: number;
  @Field(() => Float, { nullable: true }) averageOrderValue!: number | null;
}

@ObjectType()
export class UserProfile {
  @Field(() => UserSegment) segment!: Segment;
  @Field(() => Rfm) rfm!: Rfm;
  @Field(() => [CategoryAffinity]) topCategories!: CategoryAffinity[];
  @Field(() => [ActiveHour], { description: 'The five busiest hours of the week.' }) activeHoursOfWeek!: ActiveHour[];
  @Field(() => String, { nullable: true, description: 'H3 res-8 cell where the user is most often; hidden from restricted callers.' })
  homeCell!: string | null;
  @Field(() => Float, { nullable: true, description: 'Radius of gyration of event locations, km.' }) mobilityRadiusKm!: number | null;
  @Field(() => Float, { nullable: true, description: 'Log-price gap viewed − bought (category-relative); > 0 buys cheaper than browses.' })
  priceSensitivity!: number | null;
  @Field(() => Float, { nullable: true, description: 'Typical price paid ÷ category median (1 = median).' }) relativePriceLevel!: number | null;
  @Field(() => LifetimeStats) lifetime!: LifetimeStats;
}
