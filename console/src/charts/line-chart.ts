/**
 * A time-series chart on uPlot: the main series, optional incomplete buckets (hollow, apart from
 * the line), trend line, forecast with its band and anomalies; a live legend with the hovered
 * values in the metric's unit; UTC time axis; ticks that never repeat; non-negative metrics start
 * at 0 (the forecast band is clamped there too). The chart takes its container's width and follows
 * it (ResizeObserver), so it fits a 390 px phone.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import { formatBucket, formatValue, tickLabels, type Unit } from './format';

export interface Point {
  t: number; // epoch ms
  v: number;
}

/** A point whose value may be missing (suppressed, or no data): drawn as a gap. */
export interface SeriesPoint {
  t: number;
  v: number | null;
}

export interface ForecastPoint {
  t: number;
  v: number;
  lo: number;
  hi: number;
}

export interface ChartInput {
  /** The main series (complete buckets); `data-points` counts them. */
  series: SeriesPoint[];
  /** Incomplete buckets (cut by the window, after the data's end or after now): not a low value. */
  partial?: SeriesPoint[];
  trend?: Point[];
  forecast?: ForecastPoint[];
  /** Anomalies. */
  highlights?: Point[];
  /** The widest the chart gets (px); it otherwise fills its container. */
  width?: number;
  height?: number;
  /** A title, also the start of the text alternative. */
  label?: string;
  /** Unit of the values (axis label, hover); counts by default. */
  unit?: Unit;
  /** Legend name of the main series; defaults to the unit's name. */
  seriesLabel?: string;
  /** Grain of the buckets, for hover dates: HOUR, DAY (default), WEEK, MONTH. */
  bucket?: string;
  /** Values below 0 are impossible (every console metric): the axis starts at 0, bands are clamped. Default true. */
  nonNegative?: boolean;
}

/**
 * The element lineChart returns: the uPlot instance rides along for inspection (tests, devtools);
 * `destroy()` frees it (uPlot keeps every live chart in a global set). Call it when the chart is
 * replaced or its page is left: the ResizeObserver also frees a chart it sees removed, but never
 * sees one that was not laid out.
 */
export type ChartElement = HTMLDivElement & { uplot?: uPlot; destroy: () => void };

const COLORS = { series: '#1d4ed8', partial: '#4b5563', trend: '#047857', forecast: '#b45309', band: 'rgba(245, 158, 11, 0.18)', anomaly: '#dc2626' };
const FONT = '12px system-ui, sans-serif';

function summary(input: ChartInput, unit: Unit): string {
  const vals = input.series.map((p) => p.v).filter((v): v is number => v !== null);
  const parts = [input.label ?? 'Chart'];
  const first = input.series[0];
  const last = input.series[input.series.length - 1];
  const bucket = input.bucket ?? 'DAY';
  if (!first || !last || vals.length === 0) parts.push('no data');
  else {
    parts.push(`${input.series.length} points from ${formatBucket(first.t, bucket)} to ${formatBucket(last.t, bucket)}`);
    parts.push(`lowest ${formatValue(unit.kind, Math.min(...vals))}, highest ${formatValue(unit.kind, Math.max(...vals))} ${unit.name}`);
  }
  if (input.partial?.length) parts.push(`${input.partial.length} incomplete bucket${input.partial.length === 1 ? '' : 's'} shown apart`);
  if (input.highlights?.length) parts.push(`${input.highlights.length} anomal${input.highlights.length === 1 ? 'y' : 'ies'}`);
  if (input.forecast?.length) parts.push(`forecast of ${input.forecast.length} buckets`);
  return `${parts.join('; ')}.`;
}

export function lineChart(input: ChartInput): ChartElement {
  const unit = input.unit ?? { kind: 'count', name: 'count' };
  const bucket = input.bucket ?? 'DAY';
  const nonNegative = input.nonNegative ?? true;
  const clamp = (v: number) => (nonNegative ? Math.max(0, v) : v);
  const el = document.createElement('div') as ChartElement;
  el.className = 'chart';
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', summary(input, unit));
  el.dataset.points = String(input.series.length);
  el.dataset.partial = String(input.partial?.length ?? 0);
  el.dataset.anomalies = String(input.highlights?.length ?? 0);
  if (input.label) el.append(Object.assign(document.createElement('div'), { className: 'chart-title', textContent: input.label }));

  // One x axis (seconds, as uPlot wants) over every timestamp any series has.
  const xs = [...new Set([
    ...input.series.map((p) => p.t), ...(input.partial ?? []).map((p) => p.t), ...(input.trend ?? []).map((p) => p.t),
    ...(input.forecast ?? []).map((p) => p.t), ...(input.highlights ?? []).map((p) => p.t),
  ])].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const column = (pts: readonly { t: number }[], pick: (p: never) => number | null): (number | null)[] => {
    const col: (number | null)[] = xs.map(() => null);
    for (const p of pts) col[index.get(p.t)!] = pick(p as never);
    return col;
  };
  const value = (_u: uPlot, v: number | null) => (v === null ? '–' : formatValue(unit.kind, v));
  const data: (number | null)[][] = [xs.map((t) => t / 1000)];
  const series: uPlot.Series[] = [{ label: `${bucket.charAt(0)}${bucket.slice(1).toLowerCase()} (UTC)`, value: (_u, ts) => (ts === null ? '–' : formatBucket(ts * 1000, bucket)) }];
  const bands: uPlot.Band[] = [];
  const dense = input.series.length > 60;
  const add = (s: uPlot.Series, col: (number | null)[]) => {
    series.push(s);
    data.push(col);
    return series.length - 1;
  };
  add({ label: input.seriesLabel ?? unit.name, class: 'series-main', stroke: COLORS.series, width: 2, value, points: { show: !dense, size: 5 } },
    column(input.series, (p: SeriesPoint) => p.v));
  if (input.partial?.length) {
    add({ label: 'Incomplete bucket', class: 'series-partial', stroke: COLORS.partial, width: 2, paths: () => null, value: (u, v) => (v === null ? '–' : `${value(u, v)} (so far)`),
      points: { show: true, size: 10, width: 2, fill: '#ffffff', stroke: COLORS.partial } }, column(input.partial, (p: SeriesPoint) => p.v));
  }
  if (input.trend?.length) {
    add({ label: 'Trend (server fit)', class: 'series-trend', stroke: COLORS.trend, width: 2, value, points: { show: false } }, column(input.trend, (p: Point) => clamp(p.v)));
  }
  if (input.forecast?.length) {
    const f = input.forecast;
    add({ label: 'Forecast', class: 'series-forecast', stroke: COLORS.forecast, width: 2, dash: [6, 4], value, points: { show: false } }, column(f, (p: ForecastPoint) => clamp(p.v)));
    const hi = add({ label: 'Forecast high', class: 'series-band', stroke: 'rgba(180, 83, 9, 0.35)', width: 1, value, points: { show: false } }, column(f, (p: ForecastPoint) => clamp(p.hi)));
    const lo = add({ label: 'Forecast low', class: 'series-band', stroke: 'rgba(180, 83, 9, 0.35)', width: 1, value, points: { show: false } }, column(f, (p: ForecastPoint) => clamp(p.lo)));
    bands.push({ series: [hi, lo], fill: COLORS.band });
  }
  if (input.highlights?.length) {
    add({ label: 'Anomaly', class: 'series-anomaly', stroke: COLORS.anomaly, width: 0, paths: () => null, value,
      points: { show: true, size: 9, fill: COLORS.anomaly, stroke: COLORS.anomaly } }, column(input.highlights, (p: Point) => p.v));
  }

  const per = bucket === 'HOUR' ? 'hour' : bucket === 'WEEK' ? 'week' : bucket === 'MONTH' ? 'month' : 'day';
  const maxWidth = input.width ?? Infinity;
  const heightFor = (w: number) => input.height ?? (w < 500 ? 220 : 280);
  const initialWidth = Math.min(maxWidth, 760);
  const opts: uPlot.Options = {
    width: initialWidth,
    height: heightFor(initialWidth),
    // Room on the right for the last date's label (uPlot's default padding clipped it).
    padding: [12, 28, 0, 4],
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series,
    bands,
    cursor: { points: { size: 8 }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: { time: true },
      y: {
        range: (_u, min, max) => {
          const lo = nonNegative ? 0 : Number.isFinite(min) ? min : 0;
          const top = Number.isFinite(max) && max > lo ? max : lo + (unit.kind === 'ratio' ? 0.01 : 1);
          const [, hi] = uPlot.rangeNum(lo, top, 0.1, true);
          return [lo, hi ?? top];
        },
      },
    },
    axes: [
      { font: FONT, stroke: '#374151', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d1d5db' }, space: 70 },
      {
        font: FONT, stroke: '#374151', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d1d5db' }, size: 60,
        label: `${unit.name} per ${per}`, labelFont: FONT, labelSize: 18,
        values: (_u, splits, _axis, _space, incr) => tickLabels(unit.kind, splits, incr),
      },
    ],
  };
  const u = new uPlot(opts, data as uPlot.AlignedData, el);
  el.uplot = u;
  let destroyed = false;
  el.destroy = () => {
    if (destroyed) return;
    destroyed = true;
    observer.disconnect();
    u.destroy();
  };

  // Follow the container: the chart is as wide as the element (CSS: width 100%), at most maxWidth.
  let lastWidth = initialWidth;
  const observer = new ResizeObserver(() => {
    if (!el.isConnected) {
      el.destroy();
      return;
    }
    const w = Math.floor(Math.min(maxWidth, el.clientWidth));
    if (w > 0 && w !== lastWidth) {
      lastWidth = w;
      u.setSize({ width: w, height: heightFor(w) });
    }
  });
  observer.observe(el);
  return el;
}
