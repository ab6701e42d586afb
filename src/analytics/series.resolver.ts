/** TimeSeries.forecast(horizon): computed from the series already fetched (no new query). */
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../graphql/context';
import { Forecast, TimeSeries } from './analytics.types';
import type { TimeSeriesData } from './series.service';

@Resolver(() => TimeSeries)
export class SeriesResolver {
  @FieldResolver(() => Forecast, { description: 'Seasonal-model forecast `horizon` buckets ahead, with its MASE backtest.' })
  forecast(@Root() series: TimeSeriesData, @Ctx() ctx: Context, @Arg('horizon', () => Int) horizon: number) {
    return ctx.services.analytics.series.forecast(series, horizon);
  }
}
