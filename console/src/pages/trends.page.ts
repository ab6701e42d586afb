/** Trends: a time series with its trend line, anomalies, daily/weekly seasonality and forecast band. */
import { gql } from '../api';
import { lineChart, type Point } from '../chart';
import { field, fmt, h, message, showError } from '../dom';
import { cityRegions, selectionControls } from './controls';

const QUERY = `query Trends($input: TimeSeriesInput!, $horizon: Int!) {
  timeSeries(input: $input) {
    points { bucketStart value anomaly }
    trend { slopePerDay percentChange r2 }
    seasonality { dailyProfile weeklyProfile dominantPeriod dominantPeriodHours periodStrength }
    forecast(horizon: $horizon) { points { bucketStart value lower upper } backtest { mase naiveMase horizon } }
  }
}`;

interface Data {
  timeSeries: {
    points: { bucketStart: string; value: number | null; anomaly: boolean }[];
    trend: { slopePerDay: number | null; percentChange: number | null; r2: number };
    seasonality: { dailyProfile: number[]; weeklyProfile: number[]; dominantPeriod: number | null; dominantPeriodHours: number | null; periodStrength: number | null };
    forecast: { points: { bucketStart: string; value: number; lower: number; upper: number }[]; backtest: { mase: number | null; naiveMase: number | null; horizon: number } };
  };
}

/** Ordinary least squares through the points, drawn as the trend line. */
function fitLine(points: Point[]): Point[] {
  const n = points.length;
  if (n < 2) return [];
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  const slope = points.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0) / (points.reduce((a, p) => a + (p.t - mt) ** 2, 0) || 1);
  return [points[0]!, points[n - 1]!].map((p) => ({ t: p.t, v: mv + slope * (p.t - mt) }));
}

function profile(values: number[], labels: string[]): HTMLElement {
  const max = Math.max(...values, 1e-9);
  return h('div', { class: 'row', style: 'align-items: flex-end; gap: 2px; height: 80px' },
    ...values.map((v, i) => h('div', { title: `${labels[i]}: ${fmt(v)}`, style: `width: 10px; height: ${Math.max(1, (v / max) * 70)}px; background: #60a5fa` })));
}

export function trendsPage(root: HTMLElement): void {
  const sel = selectionControls(['HOUR', 'DAY', 'WEEK'], 'DAY', 60);
  const region = h('select', { name: 'region' }, h('option', { value: '' }, 'everywhere'));
  const horizon = h('input', { name: 'horizon', type: 'number', min: 1, max: 60, value: 14, size: 4 });
  void cityRegions().then((rs) => region.append(...rs.map((r) => h('option', { value: r.id }, r.name)))).catch(() => undefined);
  const out = h('div', { id: 'trend-result' });
  const form = h('form', { class: 'controls panel', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    ...sel.elements, field('Region', region), field('Forecast buckets', horizon), h('button', { type: 'submit' }, 'Show'));
  root.replaceChildren(h('h2', {}, 'Trends'), form, out);

  async function load(): Promise<void> {
    const s = sel.read();
    out.replaceChildren(message('info', 'Loading…'));
    try {
      const d = await gql<Data>(QUERY, {
        input: { metric: s.metric, bucket: s.bucket, from: s.from, to: s.to, where: region.value ? { regionIds: [region.value] } : null, filter: s.categoryIds ? { categoryIds: s.categoryIds } : null },
        horizon: Number(horizon.value) || 14,
      });
      const ts = d.timeSeries;
      const series = ts.points.filter((p) => p.value !== null).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value! }));
      if (series.length === 0) {
        out.replaceChildren(message('empty', 'No data for this selection. Try a longer window or another metric.'));
        return;
      }
      const anomalies = ts.points.filter((p) => p.anomaly && p.value !== null).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value! }));
      const forecast = ts.forecast.points.map((p) => ({ t: Date.parse(p.bucketStart), v: p.value, lo: p.lower, hi: p.upper }));
      const bt = ts.forecast.backtest;
      out.replaceChildren(
        h('div', { class: 'panel' },
          lineChart({ series, trend: fitLine(series), forecast, highlights: anomalies, label: `${s.metric.toLowerCase()} per ${s.bucket.toLowerCase()}` }),
          h('p', {}, `Trend: ${fmt(ts.trend.slopePerDay)} per day, ${fmt(ts.trend.percentChange, 1)}% over the window (R² ${fmt(ts.trend.r2)}). ${anomalies.length} anomalies (red).`),
          h('p', {}, `Forecast: ${forecast.length} buckets (band = 80–95% interval as the server reports it); backtest MASE ${fmt(bt.mase)} vs seasonal-naive ${fmt(bt.naiveMase)} over ${bt.horizon} buckets.`)),
        h('div', { class: 'row' },
          h('div', { class: 'panel' }, h('h3', {}, 'Daily profile (hour of day, UTC)'), profile(ts.seasonality.dailyProfile, ts.seasonality.dailyProfile.map((_, i) => `${i}:00`))),
          h('div', { class: 'panel' }, h('h3', {}, 'Weekly profile (Mon → Sun)'), profile(ts.seasonality.weeklyProfile, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'])),
          h('div', { class: 'panel' }, h('h3', {}, 'Dominant period'),
            h('p', {}, ts.seasonality.dominantPeriodHours !== null ? `${fmt(ts.seasonality.dominantPeriodHours, 0)} hours (autocorrelation ${fmt(ts.seasonality.periodStrength)})` : 'none detected'))),
      );
    } catch (err) {
      showError(out, err);
    }
  }
  void sel.ready.then(load);
}
