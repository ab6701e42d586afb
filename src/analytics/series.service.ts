/**
 * Time series over one area (no grid): trend, seasonality (daily and weekly profiles, dominant
 * period by autocorrelation), robust anomalies, seasonal forecasts with a MASE backtest, lagged
 * correlations between series, and per-region demand forecasts. Values come from the aggregate
 * engine; the math is in timeseries.ts.
 */
import type { DataSource } from 'typeorm';
import { IssueCollector, ValidationError } from '../common/errors';
import { isNumericId } from '../db/query-filters';
import type { AggregateService } from './aggregate.service';
import { metricValue } from './aggregate.service';
import type { AnalyticsAccess, Metric, SelectionData } from './analytics.model';
import { type AggregateQuery, checkBucketCount, normalizeSelection, renamePaths, type Selection } from './aggregate.query';
import { type Bucket, bucketStarts, DAY_MS, HOUR_MS, nextBucket } from './buckets';
import { minUsers } from './privacy';
import { alignSelection, type Publication } from './publication';
import { twoSidedP } from './hotspots';
import {
  backtest, type Backtest, dominantPeriod, fitSeasonal, forecast, type LagCorrelation, laggedCorrelation, linearTrend,
  median, profile, robustAnomalies, trendPercentChange,
} from './timeseries';

export interface SeriesPointData {
  readonly bucketStart: Date;
  /** Null when suppressed for the caller (too few users). */
  readonly value: number | null;
  readonly users: number | null;
  /** Fitted value of the robust seasonal model. */
  readonly expected: number | null;
  readonly anomaly: boolean;
  /** Robust z-score of the residual. */
  readonly score: number | null;
  /** The bucket is cut by the range (first or last): left out of trend, anomalies and forecasts. */
  readonly partial: boolean;
}

export interface TrendData {
  readonly slopePerBucket: number;
  readonly slopePerDay: number | null;
  /** Change of the fitted line from the first to the last full bucket, percent. */
  readonly percentChange: number | null;
  readonly r2: number;
}

export interface SeasonalityData {
  /** Mean per UTC hour of day (0–23), from hourly values. */
  readonly dailyProfile: number[];
  /** Mean per UTC day of week, Monday first (7), from daily values. */
  readonly weeklyProfile: number[];
  /** Strongest autocorrelation peak, in buckets; null when none clears the noise band. */
  readonly dominantPeriod: number | null;
  readonly dominantPeriodHours: number | null;
  readonly periodStrength: number | null;
  /** Period used by the seasonal model (dominant period, else the bucket's natural cycle). */
  readonly modelPeriod: number;
}

export interface TimeSeriesData {
  readonly metric: Metric;
  readonly bucket: Bucket;
  readonly points: SeriesPointData[];
  readonly trend: TrendData;
  readonly seasonality: SeasonalityData;
  readonly anomalies: SeriesPointData[];
  /** Full-bucket values the models were fitted on (suppressed points filled with the median). */
  readonly fitted: { readonly starts: Date[]; readonly values: number[] };
}

export interface ForecastData {
  readonly period: number;
  readonly points: { bucketStart: Date; value: number; lower: number; upper: number }[];
  readonly backtest: Backtest;
}

export interface TimeSeriesInputData extends SelectionData {
  readonly bucket: Bucket;
  /** Anomaly band in robust sigmas. Defaults to 3.5. */
  readonly anomalyThreshold?: number | null;
}

export interface SeriesSpec {
  readonly regionId?: string | null;
  readonly categoryId?: string | null;
  readonly label?: string | null;
}

export interface CorrelationInputData {
  readonly metric: Metric;
  readonly eventTypes?: SelectionData['eventTypes'];
  readonly bucket: Bucket;
  readonly from?: Date | null;
  readonly to?: Date | null;
  readonly series: readonly SeriesSpec[];
  /** Largest lag tried, in buckets. Defaults to 7. */
  readonly maxLag?: number | null;
  /** Remove each series' linear trend first (shared growth correlates everything). Defaults to true. */
  readonly detrend?: boolean | null;
}

export interface CorrelationPairData {
  readonly a: string;
  readonly b: string;
  readonly lags: LagCorrelation[];
  /** The lag with the largest |r|; positive: b follows a. */
  readonly bestLag: number | null;
  readonly bestR: number | null;
  /** Two-sided p-value of bestR (Fisher z), not corrected for trying several lags. */
  readonly pValue: number | null;
}

export interface DemandForecastInputData {
  readonly regionId: string;
  readonly categoryId: string;
  /** Days ahead, 1–90. */
  readonly horizon: number;
  /** Forecast from this instant (start of its UTC day). Defaults to now. */
  readonly asOf?: Date | null;
  /** Days of history used. Defaults to 91. */
  readonly historyDays?: number | null;
}

export interface DemandForecastData {
  readonly regionId: string;
  readonly categoryId: string;
  /** Expected units sold per day. */
  readonly days: { day: Date; units: number; lower: number; upper: number }[];
  readonly totalUnits: number;
  readonly historyDays: number;
  readonly recentDailyMean: number;
  readonly backtest: Backtest;
  readonly period: number;
}

const NATURAL_PERIOD: Record<Bucket, number> = { HOUR: 24, DAY: 7, WEEK: 52, MONTH: 12 };
const BUCKET_HOURS: Record<Bucket, number | null> = { HOUR: 1, DAY: 24, WEEK: 168, MONTH: null };
const MAX_HORIZON = 1_000;

export class SeriesService {
  constructor(
    private readonly ds: DataSource,
    private readonly aggregates: AggregateService,
  ) {}

  async timeSeries(input: TimeSeriesInputData, access: AnalyticsAccess | null, now = new Date()): Promise<TimeSeriesData> {
    const k = input.anomalyThreshold ?? 3.5;
    if (!Number.isFinite(k) || k <= 0 || k > 20) throw ValidationError.of('input.anomalyThreshold', 'must be in (0, 20]');
    const pub = access?.publication ?? null;
    const asked = await normalizeSelection(this.ds, input, now);
    const sel = pub ? alignSelection(asked, input.bucket) : asked;
    checkBucketCount(sel.from, sel.to, input.bucket, 'input');
    const kMin = minUsers(access);
    const main = await this.values(sel, input.bucket, kMin !== null, undefined, pub);
    const hourly = input.bucket === 'HOUR' ? main : await this.values(clip(sel, 'HOUR'), 'HOUR', false);
    const daily = input.bucket === 'DAY' ? main : await this.values(clip(sel, 'DAY'), 'DAY', false);
    // A suppressed point publishes neither its value nor its user count (a count of 1 is a person).
    const shown = main.map((p) => (kMin !== null && (p.users ?? 0) < kMin ? { ...p, value: null, users: null } : p));

    const full = shown.filter((p) => !p.partial);
    const visible = full.filter((p) => p.value !== null).map((p) => p.value!);
    const fill = median(visible);
    const values = full.map((p) => p.value ?? fill);
    const dom = dominantPeriod(values);
    const period = modelPeriod(input.bucket, values.length, dom?.period ?? null);
    const model = values.length >= 2 ? fitSeasonal(values, period) : null;
    const anomalies = model ? robustAnomalies(values, model.fitted, k) : [];
    const byIndex = new Map(anomalies.map((a) => [a.index, a]));
    const fitFor = new Map(full.map((p, i) => [p.bucketStart.getTime(), i]));
    const points: SeriesPointData[] = shown.map((p) => {
      const i = fitFor.get(p.bucketStart.getTime());
      const a = i === undefined ? undefined : byIndex.get(i);
      return {
        ...p,
        expected: model && i !== undefined ? model.fitted[i]! : null,
        anomaly: !!a && p.value !== null,
        score: a ? a.score : null,
      };
    });
    const trend = linearTrend(values);
    const hours = BUCKET_HOURS[input.bucket];
    // Fit profiles on full days/hours only (suppressed values stay out of them: never shown).
    const hourVals = hourly.filter((p) => !p.partial && p.value !== null);
    const dayVals = daily.filter((p) => !p.partial && p.value !== null);
    return {
      metric: sel.metric,
      bucket: input.bucket,
      points,
      trend: {
        slopePerBucket: trend.slope,
        slopePerDay: hours === null ? null : (trend.slope * 24) / hours,
        percentChange: trendPercentChange(trend, values.length),
        r2: trend.r2,
      },
      seasonality: {
        dailyProfile: kMin !== null ? [] : profile(hourVals.map((p) => p.value!), (i) => hourVals[i]!.bucketStart.getUTCHours(), 24),
        weeklyProfile:
          kMin !== null ? [] : profile(dayVals.map((p) => p.value!), (i) => (dayVals[i]!.bucketStart.getUTCDay() + 6) % 7, 7),
        dominantPeriod: dom?.period ?? null,
        dominantPeriodHours: dom && hours !== null ? dom.period * hours : null,
        periodStrength: dom?.strength ?? null,
        modelPeriod: period,
      },
      anomalies: points.filter((p) => p.anomaly),
      fitted: { starts: full.map((p) => p.bucketStart), values },
    };
  }

  /** Seasonal forecast of a computed series `horizon` buckets ahead, with its backtest. Pure. */
  forecast(series: TimeSeriesData, horizon: number): ForecastData {
    const n = series.fitted.values.length;
    if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) {
      throw ValidationError.of('horizon', `must be an integer from 1 to ${MAX_HORIZON}`);
    }
    if (n < 2) throw ValidationError.of('horizon', 'the series has fewer than 2 full buckets to forecast from');
    const period = series.seasonality.modelPeriod;
    const model = fitSeasonal(series.fitted.values, period);
    let t = series.fitted.starts[n - 1]!;
    const points = forecast(model, n, horizon).map((p) => {
      t = nextBucket(t, series.bucket);
      return { bucketStart: t, value: p.value, lower: p.lower, upper: p.upper };
    });
    return { period, points, backtest: backtest(series.fitted.values, period, Math.max(horizon, period)) };
  }

  async correlation(input: CorrelationInputData, access: AnalyticsAccess | null, now = new Date()): Promise<CorrelationPairData[]> {
    const issues = new IssueCollector();
    if (input.series.length < 2 || input.series.length > 10) issues.add('input.series', 'must list 2 to 10 series');
    input.series.forEach((s, i) => {
      if (!s.regionId && !s.categoryId) issues.add(`input.series[${i}]`, 'needs a regionId, a categoryId or both');
      if (s.regionId && !isNumericId(s.regionId)) issues.add(`input.series[${i}].regionId`, 'is not a valid id');
      if (s.categoryId && !isNumericId(s.categoryId)) issues.add(`input.series[${i}].categoryId`, 'is not a valid id');
    });
    const maxLag = input.maxLag ?? 7;
    if (!Number.isInteger(maxLag) || maxLag < 0 || maxLag > 60) issues.add('input.maxLag', 'must be an integer from 0 to 60');
    issues.throwIfAny();
    const kMin = minUsers(access);
    const pub = access?.publication ?? null;
    const series: { label: string; values: number[] }[] = [];
    for (const [i, s] of input.series.entries()) {
      const sel = await normalizeSelection(
        this.ds,
        {
          metric: input.metric,
          eventTypes: input.eventTypes,
          from: input.from,
          to: input.to,
          where: s.regionId ? { regionIds: [s.regionId] } : null,
          filter: s.categoryId ? { categoryIds: [s.categoryId] } : null,
        },
        now,
        `input.series[${i}]`,
      );
      const published = pub ? alignSelection(sel, input.bucket, `input.series[${i}]`) : sel;
      checkBucketCount(published.from, published.to, input.bucket, 'input');
      const pts = (await this.values(published, input.bucket, kMin !== null, undefined, pub)).filter((p) => !p.partial);
      if (kMin !== null && pts.some((p) => (p.users ?? 0) < kMin)) {
        throw ValidationError.of(`input.series[${i}]`, `has buckets with fewer than ${kMin} users; use a larger bucket or area`);
      }
      series.push({ label: s.label ?? [s.regionId && `region ${s.regionId}`, s.categoryId && `category ${s.categoryId}`].filter(Boolean).join(' · '), values: pts.map((p) => p.value ?? 0) });
    }
    const out: CorrelationPairData[] = [];
    for (let i = 0; i < series.length; i++) {
      for (let j = i + 1; j < series.length; j++) {
        const lags = laggedCorrelation(series[i]!.values, series[j]!.values, maxLag, input.detrend ?? true);
        const best = lags.reduce<LagCorrelation | null>((b, l) => (l.r !== null && (!b || Math.abs(l.r) > Math.abs(b.r!)) ? l : b), null);
        out.push({
          a: series[i]!.label,
          b: series[j]!.label,
          lags,
          bestLag: best?.lag ?? null,
          bestR: best?.r ?? null,
          pValue: best && best.r !== null && best.n > 3 ? fisherP(best.r, best.n) : null,
        });
      }
    }
    return out;
  }

  /** Expected units per day of a category in a region, from a weekly-seasonal model of daily units. */
  async demandForecast(input: DemandForecastInputData, access: AnalyticsAccess | null, now = new Date()): Promise<DemandForecastData> {
    const issues = new IssueCollector();
    if (!Number.isInteger(input.horizon) || input.horizon < 1 || input.horizon > 90) issues.add('horizon', 'must be an integer from 1 to 90');
    const historyDays = input.historyDays ?? 91;
    if (!Number.isInteger(historyDays) || historyDays < 21 || historyDays > 730) issues.add('historyDays', 'must be an integer from 21 to 730');
    issues.throwIfAny();
    const asOf = new Date(Math.floor((input.asOf ?? now).getTime() / DAY_MS) * DAY_MS);
    const sel = await normalizeSelection(
      this.ds,
      {
        metric: 'PURCHASES',
        from: new Date(asOf.getTime() - historyDays * DAY_MS),
        to: asOf,
        where: { regionIds: [input.regionId] },
        filter: { categoryIds: [input.categoryId] },
      },
      now,
      'input',
    ).catch((err: unknown) => {
      // Name the arguments of this query, not the internal selection.
      throw renamePaths(err, { 'input.where.regionIds[0]': 'region', 'input.filter.categoryIds[0]': 'category' });
    });
    const kMin = minUsers(access);
    // asOf is a whole day and the history whole days: the selection is aligned already.
    const pts = await this.values(sel, 'DAY', kMin !== null, 'units', access?.publication ?? null);
    if (kMin !== null && pts.reduce((a, p) => a + (p.users ?? 0), 0) < kMin) {
      throw ValidationError.of('region', `fewer than ${kMin} buyers in this region and category; no forecast is shown`);
    }
    const values = pts.map((p) => p.value ?? 0);
    const model = fitSeasonal(values, 7);
    const days = forecast(model, values.length, input.horizon).map((p, i) => ({
      day: new Date(asOf.getTime() + i * DAY_MS),
      units: Math.max(0, p.value),
      lower: Math.max(0, p.lower),
      upper: Math.max(0, p.upper),
    }));
    return {
      regionId: input.regionId,
      categoryId: input.categoryId,
      days,
      totalUnits: days.reduce((a, d) => a + d.units, 0),
      historyDays,
      recentDailyMean: values.slice(-28).reduce((a, v) => a + v, 0) / Math.min(28, Math.max(1, values.length)),
      backtest: backtest(values, 7, Math.max(input.horizon, 7)),
      period: 7,
    };
  }

  /** One value per bucket over the range (missing buckets are 0), flagged when the range cuts them. */
  private async values(
    sel: Selection,
    bucket: Bucket,
    withUsers: boolean,
    column?: 'units',
    publication: Publication | null = null,
  ): Promise<{ bucketStart: Date; value: number | null; users: number | null; partial: boolean }[]> {
    const q: AggregateQuery = { ...sel, bucket, grid: { kind: 'none' } };
    const answer = await this.aggregates.answer(q, { withUsers: withUsers || sel.metric === 'USERS', publication });
    const by = new Map(answer.rows.map((r) => [r.bucket.getTime(), r]));
    const empty = sel.metric === 'CONVERSION' ? null : 0;
    return bucketStarts(sel.from, sel.to, bucket).map((start) => {
      const r = by.get(start.getTime());
      const value = r ? (column ? r.counts[column] : metricValue(q, r)) : empty;
      return {
        bucketStart: start,
        value,
        users: r ? r.users : withUsers ? 0 : null,
        partial: start.getTime() < sel.from.getTime() || nextBucket(start, bucket).getTime() > sel.to.getTime(),
      };
    });
  }
}

/** The selection clipped to the last 10,000 buckets of a finer grain (profiles of long ranges). */
function clip(sel: Selection, bucket: 'HOUR' | 'DAY'): Selection {
  const span = (bucket === 'HOUR' ? HOUR_MS : DAY_MS) * 9_999;
  return sel.to.getTime() - sel.from.getTime() > span ? { ...sel, from: new Date(sel.to.getTime() - span) } : sel;
}

function modelPeriod(bucket: Bucket, n: number, dominant: number | null): number {
  if (dominant !== null && dominant * 2 <= n) return dominant;
  const natural = NATURAL_PERIOD[bucket];
  return natural * 2 <= n ? natural : 1;
}

/** Two-sided p-value of a Pearson r over n pairs via Fisher's z. */
function fisherP(r: number, n: number): number {
  return twoSidedP(Math.atanh(Math.max(-0.999999, Math.min(0.999999, r))) * Math.sqrt(n - 3));
}
