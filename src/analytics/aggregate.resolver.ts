/**
 * Analytics queries. Thin: unpack arguments, call one service. Admins and partners only; a
 * partner's answers are k-anonymized (cells under MERIDIAN_K_ANONYMITY distinct users suppressed).
 */
import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, ID, Info, Int, Query, Resolver } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { AggregateInput, CorrelationInput, DistributionInput, HotspotInput, TimeSeriesInput } from './analytics.inputs';
import { AggregateCell, CorrelationPair, DataExtent, DemandForecast, Hotspot, SpatialDistribution, TimeSeries } from './analytics.types';
import { selectedFields } from '../graphql/selection';

const access = (ctx: Context) => ctx.services.analytics.accessFor(ctx.principal);

@Resolver()
export class AnalyticsResolver {
  @Authorized(Rule.PARTNER)
  @Query(() => DataExtent, { description: 'The span of the recorded events in whole UTC days: the default window of the console.' })
  dataExtent(@Ctx() ctx: Context) {
    return ctx.services.analytics.extent();
  }

  @Authorized(Rule.PARTNER)
  @Query(() => [AggregateCell], { description: 'One value per spatial cell × time bucket (at most 10,000).' })
  async aggregates(@Ctx() ctx: Context, @Arg('input', () => AggregateInput) input: AggregateInput, @Info() info: GraphQLResolveInfo) {
    const fields = selectedFields(info);
    return ctx.services.analytics.limited(() =>
      ctx.services.analytics.aggregate.aggregates(input, access(ctx), { withGeometry: fields.has('geometry'), withUsers: fields.has('users') }),
    );
  }

  @Authorized(Rule.PARTNER)
  @Query(() => TimeSeries, { description: 'A series over one area with trend, seasonality, anomalies; forecast(horizon) on demand.' })
  async timeSeries(@Ctx() ctx: Context, @Arg('input', () => TimeSeriesInput) input: TimeSeriesInput) {
    return ctx.services.analytics.limited(() => ctx.services.analytics.series.timeSeries(input, access(ctx)));
  }

  @Authorized(Rule.PARTNER)
  @Query(() => [Hotspot], { description: 'Getis-Ord Gi* hot and cold spots over an H3 grid, optionally per time bucket.' })
  async hotspots(@Ctx() ctx: Context, @Arg('input', () => HotspotInput) input: HotspotInput, @Info() info: GraphQLResolveInfo) {
    const withGeometry = selectedFields(info).has('geometry');
    return ctx.services.analytics.limited(() => ctx.services.analytics.hotspot.hotspots(input, access(ctx), { withGeometry }));
  }

  @Authorized(Rule.PARTNER)
  @Query(() => SpatialDistribution, { description: 'Where a product or category sells: shares by region, centroid, dispersion.' })
  async spatialDistribution(@Ctx() ctx: Context, @Arg('input', () => DistributionInput) input: DistributionInput) {
    return ctx.services.analytics.limited(() => ctx.services.analytics.distribution.distribution(input, access(ctx)));
  }

  @Authorized(Rule.PARTNER)
  @Query(() => [CorrelationPair], { description: 'Lagged correlation between every pair of region/category series.' })
  async correlation(@Ctx() ctx: Context, @Arg('input', () => CorrelationInput) input: CorrelationInput) {
    return ctx.services.analytics.limited(() => ctx.services.analytics.series.correlation(input, access(ctx)));
  }

  @Authorized(Rule.PARTNER)
  @Query(() => DemandForecast, { description: 'Expected daily units of a category in a region, for inventory.' })
  async demandForecast(
    @Ctx() ctx: Context,
    @Arg('region', () => ID) region: string,
    @Arg('category', () => ID) category: string,
    @Arg('horizon', () => Int, { description: 'Days ahead, 1–90.' }) horizon: number,
    @Arg('asOf', () => Date, { nullable: true, description: 'Forecast from this day. Defaults to today.' }) asOf?: Date,
  ) {
    return ctx.services.analytics.limited(() =>
      ctx.services.analytics.series.demandForecast({ regionId: region, categoryId: category, horizon, asOf }, access(ctx)),
    );
  }
}
