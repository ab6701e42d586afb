/**
 * Pure time-series math for analytics: linear trend, autocorrelation and the dominant period,
 * a robust additive seasonal model (trend + seasonal means, refit without outliers), robust
 * anomaly bands (median ± k·MAD of residuals), forecasts, and a MASE backtest against the
 * seasonal-naive forecast. No I/O; every function takes plain arrays.
 */

export interface LinearFit {
  /** Change per step (per bucket). */
  readonly slope: number;
  /** Fitted value at index 0. */
  readonly intercept: number;
  /** Coefficient of determination, 0 when the series is constant. */
  readonly r2: number;
}

export interface SeasonalModel {
  readonly period: number;
  readonly trend: LinearFit;
  /** Additive seasonal index per phase (index mod period), centred to sum to 0. */
  readonly seasonal: readonly number[];
  /** Fitted value for every input index. */
  readonly fitted: readonly number[];
  /** Robust residual scale (1.4826 · MAD), used for intervals. */
  readonly sigma: number;
}

export interface ForecastPoint {
  readonly value: number;
  readonly lower: number;
  readonly upper: number;
}

export interface Backtest {
  /** Points held out at the end of the series. */
  readonly horizon: number;
  /** MASE of the seasonal model on the held-out points (scaled by in-sample seasonal-naive MAE). */
  readonly mase: number | null;
  /** MASE of the seasonal-naive forecast on the same points (the baseline). */
  readonly naiveMase: number | null;
}

export interface Anomaly {
  readonly index: number;
  readonly value: number;
  readonly expected: number;
  /** Robust z-score: (residual − median residual) / (1.4826 · MAD). */
  readonly score: number;
}

/** 1.4826 · MAD estimates the standard deviation for normal residuals. */
const MAD_TO_SIGMA = 1.4826;

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation from the median. */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** Ordinary least squares of y against its index 0…n−1. */
export function linearTrend(y: readonly number[]): LinearFit {
  const n = y.length;
  if (n === 0) return { slope: 0, intercept: 0, r2: 0 };
  if (n === 1) return { slope: 0, intercept: y[0]!, r2: 0 };
  const xm = (n - 1) / 2;
  const ym = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - xm) * (y[i]! - ym);
    sxx += (i - xm) ** 2;
    syy += (y[i]! - ym) ** 2;
  }
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: ym - slope * xm, r2 };
}

/** Percent change of the fitted trend from the first to the last index; null when it starts at ~0. */
export function trendPercentChange(fit: LinearFit, n: number): number | null {
  if (n < 2) return null;
  const first = fit.intercept;
  const last = fit.intercept + fit.slope * (n - 1);
  if (Math.abs(first) < 1e-9) return null;
  return ((last - first) / Math.abs(first)) * 100;
}

/** Sample autocorrelation of the series after removing its linear trend, lags 0…maxLag. */
export function autocorrelation(y: readonly number[], maxLag: number): number[] {
  const fit = linearTrend(y);
  const d = y.map((v, i) => v - (fit.intercept + fit.slope * i));
  const n = d.length;
  let c0 = 0;
  for (const v of d) c0 += v * v;
  const out: number[] = [];
  for (let lag = 0; lag <= Math.min(maxLag, n - 1); lag++) {
    if (c0 === 0) {
      out.push(lag === 0 ? 1 : 0);
      continue;
    }
    let c = 0;
    for (let t = lag; t < n; t++) c += d[t]! * d[t - lag]!;
    out.push(c / c0);
  }
  return out;
}

/**
 * The dominant period. Every lag L (2 ≤ L ≤ n/4, so at least two cycles fit in half the series) is
 * scored by the mean autocorrelation at its multiples L, 2L, … ≤ n/2: a true cycle repeats, so it
 * beats a noise peak next to it (7 days against 6, 24 h against 25). A score must clear the
 * white-noise band 1.96/√n shrunk by √(number of multiples); of a winner and its divisors the
 * shortest that scores within 70% wins. Null when no score clears the band.
 */
export function dominantPeriod(y: readonly number[], maxLag = Math.floor(y.length / 2)): { period: number; strength: number } | null {
  const n = y.length;
  const limit = Math.min(maxLag, Math.floor(n / 2));
  if (limit < 4) return null;
  const r = autocorrelation(y, limit);
  const band = 1.96 / Math.sqrt(n);
  const scores = new Map<number, number>();
  let best: number | null = null;
  for (let lag = 2; lag * 2 <= limit; lag++) {
    let sum = 0;
    let k = 0;
    for (let m = lag; m <= limit; m += lag, k++) sum += r[m]!;
    const score = sum / k;
    // An average of k autocorrelations has noise ~1/√(n·k): the band shrinks accordingly.
    if (score <= band / Math.sqrt(k)) continue;
    scores.set(lag, score);
    if (best === null || score > scores.get(best)! + 1e-12) best = lag;
  }
  if (best === null) return null;
  // Multiples of a cycle score as well as the cycle itself (14 days ⊃ 7): keep the shortest
  // divisor of the winner that scores nearly as well.
  for (let d = 2; d < best; d++) {
    if (best % d === 0 && (scores.get(d) ?? -1) >= 0.7 * scores.get(best)!) return { period: d, strength: r[d]! };
  }
  return { period: best, strength: r[best]! };
}

/** Mean of values grouped by a phase function; phases with no values are 0. */
export function profile(values: readonly number[], phaseOf: (i: number) => number, phases: number): number[] {
  const sum = new Array<number>(phases).fill(0);
  const count = new Array<number>(phases).fill(0);
  values.forEach((v, i) => {
    const p = phaseOf(i);
    sum[p]! += v;
    count[p]! += 1;
  });
  return sum.map((s, p) => (count[p] ? s / count[p] : 0));
}

function fitOnce(y: readonly number[], period: number, weights: readonly boolean[]): Omit<SeasonalModel, 'sigma'> {
  const idx = y.map((_, i) => i).filter((i) => weights[i]);
  const ys = idx.map((i) => y[i]!);
  // Trend on the kept points (OLS against their real index).
  const n = idx.length;
  const xm = mean(idx);
  const ym = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (idx[k]! - xm) * (ys[k]! - ym);
    sxx += (idx[k]! - xm) ** 2;
    syy += (ys[k]! - ym) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const trend: LinearFit = { slope, intercept: ym - slope * xm, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
  // Seasonal indices are means (outliers were dropped before the refit): for sparse counts the
  // mean is the expected level, where a median would forecast zero demand.
  const byPhase: number[][] = Array.from({ length: period }, () => []);
  for (const i of idx) byPhase[i % period]!.push(y[i]! - (trend.intercept + trend.slope * i));
  const raw = byPhase.map((v) => mean(v));
  const centre = mean(raw);
  const seasonal = raw.map((v) => v - centre);
  const fitted = y.map((_, i) => trend.intercept + trend.slope * i + seasonal[i % period]!);
  return { period, trend, seasonal, fitted };
}

/**
 * Additive model y ≈ a + b·t + s[t mod period], robust to outliers: fit, drop points whose residual
 * is beyond 3.5 robust sigmas, refit. With period 1 it is a plain robust linear trend.
 */
export function fitSeasonal(y: readonly number[], period: number): SeasonalModel {
  const m = Math.max(1, Math.floor(period));
  const all = y.map(() => true);
  let model = fitOnce(y, m, all);
  const res = y.map((v, i) => v - model.fitted[i]!);
  const med = median(res);
  const s = MAD_TO_SIGMA * mad(res);
  if (s > 0) {
    const keep = res.map((r) => Math.abs(r - med) <= 3.5 * s);
    if (keep.filter(Boolean).length >= Math.max(2, m + 1)) model = fitOnce(y, m, keep);
  }
  const finalRes = y.map((v, i) => v - model.fitted[i]!);
  return { ...model, sigma: MAD_TO_SIGMA * mad(finalRes) };
}

/** Forecast `horizon` steps after the fitted series, with a ~95% band from the robust residual scale. */
export function forecast(model: SeasonalModel, n: number, horizon: number): ForecastPoint[] {
  const out: ForecastPoint[] = [];
  for (let h = 1; h <= horizon; h++) {
    const t = n - 1 + h;
    const value = model.trend.intercept + model.trend.slope * t + model.seasonal[t % model.period]!;
    // The band widens slowly with the horizon (trend uncertainty), never below the residual scale.
    const width = 1.96 * model.sigma * Math.sqrt(1 + h / Math.max(1, n));
    out.push({ value, lower: value - width, upper: value + width });
  }
  return out;
}

/** Seasonal-naive forecast: the value one period earlier (the last observed cycle repeated). */
export function seasonalNaive(y: readonly number[], period: number, horizon: number): number[] {
  const m = Math.max(1, Math.min(period, y.length));
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) out.push(y[y.length - m + ((h - 1) % m)]!);
  return out;
}

/** Mean absolute scaled error; the scale is the in-sample MAE of the seasonal-naive forecast. Null if undefined. */
export function mase(actual: readonly number[], predicted: readonly number[], train: readonly number[], period: number): number | null {
  const m = Math.max(1, period);
  if (train.length <= m || actual.length === 0) return null;
  let scale = 0;
  for (let t = m; t < train.length; t++) scale += Math.abs(train[t]! - train[t - m]!);
  scale /= train.length - m;
  if (scale === 0) return null;
  let err = 0;
  for (let i = 0; i < actual.length; i++) err += Math.abs(actual[i]! - predicted[i]!);
  return err / actual.length / scale;
}

/**
 * Holds out the last `horizon` points, fits on the rest, and scores both the seasonal model and
 * seasonal-naive on the held-out points. Needs at least two periods of training data.
 */
export function backtest(y: readonly number[], period: number, horizon: number): Backtest {
  const h = Math.max(1, Math.min(horizon, Math.floor(y.length / 3)));
  const train = y.slice(0, y.length - h);
  const test = y.slice(y.length - h);
  if (train.length < 2 * Math.max(1, period) || test.length === 0) return { horizon: h, mase: null, naiveMase: null };
  const model = fitSeasonal(train, period);
  const predicted = forecast(model, train.length, h).map((p) => p.value);
  const naive = seasonalNaive(train, period, h);
  return { horizon: h, mase: mase(test, predicted, train, period), naiveMase: mase(test, naive, train, period) };
}

/** Points whose residual from `expected` lies outside median ± k·(1.4826·MAD) of all residuals. */
export function robustAnomalies(values: readonly number[], expected: readonly number[], k = 3.5): Anomaly[] {
  const res = values.map((v, i) => v - expected[i]!);
  const med = median(res);
  let scale = MAD_TO_SIGMA * mad(res);
  // With over half the residuals identical the MAD is 0; fall back to the mean absolute deviation.
  if (scale === 0) scale = 1.2533 * mean(res.map((r) => Math.abs(r - med)));
  if (scale === 0) return [];
  const out: Anomaly[] = [];
  res.forEach((r, i) => {
    const score = (r - med) / scale;
    if (Math.abs(score) > k) out.push({ index: i, value: values[i]!, expected: expected[i]!, score });
  });
  return out;
}

/** Pearson correlation of two equal-length arrays; null when either is constant. */
export function pearson(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  if (n < 3) return null;
  const am = mean(a.slice(0, n));
  const bm = mean(b.slice(0, n));
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - am) * (b[i]! - bm);
    saa += (a[i]! - am) ** 2;
    sbb += (b[i]! - bm) ** 2;
  }
  if (saa === 0 || sbb === 0) return null;
  return sab / Math.sqrt(saa * sbb);
}

/** Residuals after removing a linear trend. */
export function detrend(y: readonly number[]): number[] {
  const fit = linearTrend(y);
  return y.map((v, i) => v - (fit.intercept + fit.slope * i));
}

export interface LagCorrelation {
  /** Positive: the second series follows the first by `lag` buckets. */
  readonly lag: number;
  readonly r: number | null;
  /** Overlapping points used. */
  readonly n: number;
}

/** corr(a[t], b[t + lag]) for lag in −maxLag…maxLag, optionally on detrended series. */
export function laggedCorrelation(a: readonly number[], b: readonly number[], maxLag: number, removeTrend = true): LagCorrelation[] {
  const x = removeTrend ? detrend(a) : [...a];
  const y = removeTrend ? detrend(b) : [...b];
  const out: LagCorrelation[] = [];
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let t = 0; t < x.length; t++) {
      const u = t + lag;
      if (u >= 0 && u < y.length) {
        xs.push(x[t]!);
        ys.push(y[u]!);
      }
    }
    out.push({ lag, r: pearson(xs, ys), n: xs.length });
  }
  return out;
}
