/**
 * Trends: a time series with the server's trend line, anomalies, forecast band and seasonality, on
 * uPlot (hover values, legend, units). The incomplete current bucket is shown apart, not as a low
 * value: the request ends at the earliest of the chosen end, the data's end and now, so the server
 * flags the cut bucket `partial` and leaves it out of trend, anomalies and forecast (a partner's
 * window shrinks to whole buckets instead). An empty window says so instead of drawing zeros.
 */
import { gql, isAborted, requestSlot } from '../api';
import { lineChart, type ChartElement, type ForecastPoint, type Point, type SeriesPoint } from '../chart';
import { formatBucket, formatValue, metricUnit, plural } from '../charts/format';
import { field, fmt, h, message } from '../dom';
import { readParams, writeParams } from '../url-state';
import type { Viewer } from '../viewer';
import { cityRegions, selectionControls } from './controls';

const QUERY = `query Trends($input: TimeSeriesInput!, $horizon: Int!, $withForecast: Boolean!) {
  timeSeries(input: $input) {
    points { bucketStart value anomaly partial }
    trend { slopePerDay slopePerBucket percentChange r2 }
    seasonality { dailyProfile weeklyProfile dominantPeriod dominantPeriodHours periodStrength }
    forecast(horizon: $horizon) @include(if: $withForecast) { points { bucketStart value lower upper } backtest { mase naiveMase horizon } }
  }
}`;

interface Data {
  timeSeries: {
    points: { bucketStart: string; value: number | null; anomaly: boolean; partial: boolean }[];
    trend: { slopePerDay: number | null; slopePerBucket: number; percentChange: number | null; r2: number };
    seasonality: { dailyProfile: number[]; weeklyProfile: number[]; dominantPeriod: number | null; dominantPeriodHours: number | null; periodStrength: number | null };
    forecast?: { points: { bucketStart: string; value: number; lower: number; upper: number }[]; backtest: { mase: number | null; naiveMase: number | null; horizon: number } };
  };
}

const BUCKET_MS: Record<string, number> = { HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The server's trend line over the complete buckets: its slope (`slopePerBucket`) through the mean
 * of the values it was fitted on (least squares passes through the mean; the server fills
 * suppressed buckets with the median of the shown ones, and so does this).
 */
function serverTrendLine(full: SeriesPoint[], slopePerBucket: number): Point[] {
  const n = full.length;
  if (n < 2) return [];
  const fill = median(full.flatMap((p) => (p.v === null ? [] : [p.v])));
  const mean = full.reduce((a, p) => a + (p.v ?? fill), 0) / n;
  const intercept = mean - (slopePerBucket * (n - 1)) / 2;
  return full.map((p, i) => ({ t: p.t, v: intercept + slopePerBucket * i }));
}

function profile(values: number[], labels: string[], what: string): HTMLElement {
  const max = Math.max(...values, 1e-9);
  const el = h('div', { class: 'chart profile', role: 'img', 'data-points': values.length,
    'aria-label': `${what}: ${values.map((v, i) => `${labels[i]} ${fmt(v)}`).join(', ')}.` },
  ...values.map((v, i) => h('div', { title: `${labels[i]}: ${fmt(v)}`, style: `height: ${Math.max(1, (v / max) * 100)}%` })));
  return el;
}

function signed(text: string, v: number): string {
  return v > 0 ? `+${text}` : text;
}

export function trendsPage(root: HTMLElement, viewer: Viewer): () => void {
  const params = readParams();
  const slot = requestSlot();
  let left = false;
  let chart: ChartElement | null = null;
  const sel = selectionControls(['HOUR', 'DAY', 'WEEK'], 'DAY', 30, () => void load());
  const region = h('select', { name: 'region' }, h('option', { value: '' }, 'everywhere'));
  const horizon = h('input', { name: 'horizon', type: 'number', min: 1, max: 60, value: params.get('horizon') ?? 14, size: 4 });
  // The URL's region stands until the region list is in; then the select holds it and is the only source.
  let urlRegion: string | null = params.get('region') ?? '';
  void cityRegions()
    .then((rs) => region.append(...rs.map((r) => h('option', { value: r.id }, r.name))))
    .catch(() => {
      // Without the list, keep a shared link's region choosable rather than dropping it.
      if (urlRegion) region.append(h('option', { value: urlRegion }, `region ${urlRegion}`));
    })
    .finally(() => {
      if (urlRegion) region.value = urlRegion;
      urlRegion = null;
    });
  const show = h('button', { type: 'submit' }, 'Show');
  // Only this short line is live; the charts and tables below are not announced as they change.
  const status = h('p', { id: 'trend-status', class: 'sr-only', role: 'status' });
  const out = h('div', { id: 'trend-result' });
  const form = h('form', { class: 'controls panel', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    ...sel.elements, field('Region', region), field('Forecast buckets', horizon), show);
  root.replaceChildren(h('h2', {}, 'Trends'), form, status, out);

  /** Replaces the result (freeing the chart it held) and says `said` in the status line. */
  function showResult(said: string, ...nodes: HTMLElement[]): void {
    chart?.destroy();
    chart = null;
    out.replaceChildren(...nodes);
    status.textContent = said;
  }

  function idle(): void {
    show.disabled = false;
    form.removeAttribute('aria-busy');
  }

  async function load(): Promise<void> {
    if (left) return;
    const problem = sel.validate();
    if (problem) {
      slot.cancel();
      idle();
      showResult('', message('error', problem));
      return;
    }
    const s = sel.read();
    const wantedRegion = urlRegion ?? region.value;
    writeParams({ region: wantedRegion || null, horizon: horizon.value || null });
    const from = Date.parse(s.from);
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const extent = sel.extent();
    const chosenTo = Date.parse(s.to);
    // End at the earliest of: the chosen end, the data's end, now. The server flags a bucket cut there partial.
    const to = Math.min(chosenTo, extent?.to ?? Infinity, now);
    const span = extent ? `The data spans ${new Date(extent.from).toISOString().slice(0, 10)} to ${new Date(extent.to - 1).toISOString().slice(0, 10)}.` : 'There are no events yet.';
    if (to <= from) {
      slot.cancel();
      idle();
      const text = `No data in this window: it starts after the data ends. ${span}`;
      showResult(text, emptyState(text));
      return;
    }
    const signal = slot.next();
    show.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showResult('Loading…', h('div', { class: 'message info' }, 'Loading…'));
    try {
      const d = await gql<Data>(QUERY, {
        input: {
          metric: s.metric, bucket: s.bucket, from: s.from, to: new Date(to).toISOString(),
          where: wantedRegion ? { regionIds: [wantedRegion] } : null, filter: s.categoryIds ? { categoryIds: s.categoryIds } : null,
        },
        horizon: Math.min(60, Math.max(1, Number(horizon.value) || 14)),
        withForecast: (to - from) / (BUCKET_MS[s.bucket] ?? 86_400_000) >= 3,
      }, signal);
      if (left || signal.aborted) return;
      render(d, s.metric, s.bucket, { from, to, now, span, cutAtDataEnd: !!extent && extent.to < Math.min(chosenTo, now) });
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      showResult('', message('error', err instanceof Error ? err.message : String(err)));
    } finally {
      if (!signal.aborted) idle();
    }
  }

  function emptyState(text: string): HTMLElement {
    const all = h('button', { type: 'button', onclick: () => {
      const range = form.querySelector<HTMLSelectElement>('select[name=range]');
      if (range) {
        range.value = 'all';
        range.dispatchEvent(new Event('change'));
      }
    } }, 'Show all data');
    return h('div', { class: 'message empty trend-empty' }, text, ' ', all);
  }

  function render(d: Data, metric: string, bucket: string, w: { from: number; to: number; now: number; span: string; cutAtDataEnd: boolean }): void {
    const ts = d.timeSeries;
    const unit = metricUnit(metric);
    const partner = viewer.role !== 'ADMIN';
    const step = BUCKET_MS[bucket] ?? 86_400_000;
    // Incomplete buckets are the server's `partial` ones: the window ends at the earliest of the chosen
    // end, the data's end and now, so any bucket running past the data's end or now is cut by it.
    const pts = ts.points.map((p) => ({ t: Date.parse(p.bucketStart), v: p.value, anomaly: p.anomaly, partial: p.partial }));
    const full = pts.filter((p) => !p.partial); // what the server fitted trend, anomalies and forecast on
    const partial = pts.filter((p) => p.partial);
    const suppressed = full.filter((p) => p.v === null).length;
    const hasData = pts.some((p) => p.v !== null && p.v > 0);
    const per = bucket.toLowerCase();
    if (!hasData) {
      if (partner && suppressed > 0 && suppressed === full.length) {
        const text = `Every ${per} in this window rests on fewer than k distinct users, so none is published to a partner key (k-anonymity, docs/privacy.md). Try a longer bucket, a larger area or all categories.`;
        showResult(text, h('div', { class: 'message empty trend-empty' }, text));
      } else {
        const text = `No ${unit.name} between ${formatBucket(w.from, 'DAY')} and ${formatBucket(w.to - 1, 'DAY')}${metric === 'CONVERSION' ? ' (no views)' : ''}. ${w.span}`;
        showResult(text, emptyState(text));
      }
      return;
    }
    const series: SeriesPoint[] = full.map((p) => ({ t: p.t, v: p.v }));
    const trend = serverTrendLine(series, ts.trend.slopePerBucket);
    const anomalies: Point[] = full.filter((p) => p.anomaly && p.v !== null).map((p) => ({ t: p.t, v: p.v! }));
    const forecast: ForecastPoint[] = (ts.forecast?.points ?? []).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value, lo: p.lower, hi: p.upper }));
    const title = `${unit.title} per ${per}${unit.kind === 'money' ? ' (currency units)' : ''}`;
    const drawn = lineChart({
      series, partial: partial.map((p) => ({ t: p.t, v: p.v })), trend, forecast, highlights: anomalies, bucket, unit,
      label: title, seriesLabel: unit.kind === 'count' ? unit.title : `${unit.title} (${unit.name})`,
    });
    drawn.id = 'trend-chart';
    const tr = ts.trend;
    const slope = tr.slopePerDay;
    const slopeText = slope === null ? 'no daily slope'
      : unit.kind === 'ratio' ? `${signed((slope * 100).toFixed(3), slope)} percentage points per day`
        : `${signed(formatValue(unit.kind, slope), slope)} ${unit.name} per day`;
    const notes: HTMLElement[] = [
      h('p', { class: 'chart-note trend-caption', 'data-slope-per-day': slope ?? '', 'data-percent-change': tr.percentChange ?? '' },
        `Trend (the server's least-squares fit over ${plural(full.length, `complete ${per}`)}): ${slopeText}, ${tr.percentChange === null ? 'no percent change (starts at 0)' : `${signed(fmt(tr.percentChange, 1), tr.percentChange)}% over the window`} (R² ${fmt(tr.r2)}). ${plural(anomalies.length, 'anomaly', 'anomalies')} (red).`),
    ];
    if (partial.length) {
      const last = partial[partial.length - 1]!;
      const current = last.t + step > w.now;
      notes.push(h('p', { class: 'chart-note partial-note' },
        `${plural(partial.length, `incomplete ${per}`)} (hollow marker${partial.length === 1 ? '' : 's'}${current ? `; ${formatBucket(last.t, bucket)} is still under way` : ''}): cut by the window, which runs from ${formatBucket(w.from, 'HOUR')} to ${formatBucket(w.to, 'HOUR')} (the earliest of the chosen end, the data's end and now). Not drawn as a low value, and left out of the trend, anomalies and forecast.`));
    }
    if (w.cutAtDataEnd) notes.push(h('p', { class: 'chart-note' }, `The window is cut where the data ends. ${w.span}`));
    if (partner) {
      notes.push(h('p', { class: 'chart-note privacy', role: 'note' },
        `Partner key: these numbers are published with differential privacy — every count carries Laplace noise (revenue too), each answer spends part of the key's daily privacy budget, the window is cut to whole ${per}s, and a ${per} resting on fewer than k distinct users is not published (k-anonymity). ${suppressed ? `${plural(suppressed, per)} of ${full.length} suppressed here (gaps in the line).` : `No ${per} is suppressed here.`} Trend and forecast are computed from the noisy values. See docs/privacy.md.`));
    }
    const bt = ts.forecast?.backtest;
    const forecastNote = ts.forecast
      ? h('p', { class: 'chart-note' }, `Forecast: ${plural(forecast.length, per)} ahead (band = the server's prediction interval, clamped at 0); backtest MASE ${fmt(bt?.mase)} vs seasonal-naive ${fmt(bt?.naiveMase)} over ${plural(bt?.horizon ?? 0, per)}.`)
      : h('p', { class: 'chart-note' }, 'No forecast: the window holds fewer than 3 buckets.');
    const season = ts.seasonality;
    const daily = season.dailyProfile.length
      ? profile(season.dailyProfile, season.dailyProfile.map((_, i) => `${i}:00`), 'Mean per hour of day, UTC')
      : h('div', { class: 'message empty' }, partner ? 'Not published to partner keys (it would rest on single hours).' : 'No data.');
    const weekly = season.weeklyProfile.length
      ? profile(season.weeklyProfile, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], 'Mean per day of week')
      : h('div', { class: 'message empty' }, partner ? 'Not published to partner keys.' : 'No data.');
    showResult(`${title}: ${plural(full.length, `complete ${per}`)}${partial.length ? `, ${plural(partial.length, `incomplete ${per}`)}` : ''}, ${plural(anomalies.length, 'anomaly', 'anomalies')}${ts.forecast ? `, forecast of ${plural(forecast.length, per)}` : ''}.`,
      h('div', { class: 'panel' }, drawn, ...notes, forecastNote, dataTable(pts, trend, unit.kind, bucket)),
      h('div', { class: 'row' },
        h('div', { class: 'panel' }, h('h3', {}, 'Daily profile (hour of day, UTC)'), daily),
        h('div', { class: 'panel' }, h('h3', {}, 'Weekly profile (Mon → Sun)'), weekly),
        h('div', { class: 'panel' }, h('h3', {}, 'Dominant period'),
          h('p', {}, season.dominantPeriodHours !== null ? `${fmt(season.dominantPeriodHours, 0)} hours (autocorrelation ${fmt(season.periodStrength)})` : 'none detected'))),
    );
    chart = drawn;
  }

  void sel.ready.then(() => (left ? undefined : load()));
  return () => {
    left = true;
    slot.cancel();
    chart?.destroy();
    chart = null;
  };
}

/** The chart's numbers as a table (screen readers, copying). */
function dataTable(pts: { t: number; v: number | null; anomaly: boolean; partial: boolean }[], trend: Point[], kind: 'count' | 'money' | 'ratio', bucket: string): HTMLElement {
  const trendAt = new Map(trend.map((p) => [p.t, p.v]));
  return h('details', { class: 'chart-data' },
    h('summary', {}, `Data table (${pts.length} buckets)`),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Data table' },
      h('table', {},
        h('tr', {}, h('th', { scope: 'col' }, 'Bucket (UTC)'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Trend'), h('th', { scope: 'col' }, 'Note')),
        ...pts.map((p) => h('tr', {},
          h('td', {}, formatBucket(p.t, bucket)), h('td', {}, formatValue(kind, p.v)), h('td', {}, formatValue(kind, trendAt.get(p.t))),
          h('td', {}, [p.partial ? 'incomplete' : '', p.v === null ? 'suppressed or no data' : '', p.anomaly ? 'anomaly' : ''].filter(Boolean).join(', ')))))));
}
