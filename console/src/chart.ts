/**
 * SVG line chart: a series, optional trend line, optional forecast with its band, optional
 * highlighted points (anomalies). Pure DOM; no chart library.
 */
export interface Point {
  t: number; // epoch ms
  v: number;
}

export interface ChartInput {
  series: Point[];
  trend?: Point[];
  forecast?: { t: number; v: number; lo: number; hi: number }[];
  highlights?: Point[];
  width?: number;
  height?: number;
  label?: string;
}

const NS = 'http://www.w3.org/2000/svg';

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function lineChart(input: ChartInput): SVGSVGElement {
  const W = input.width ?? 760;
  const H = input.height ?? 260;
  const pad = { l: 48, r: 12, t: 16, b: 28 };
  const all = [
    ...input.series,
    ...(input.trend ?? []),
    ...(input.forecast ?? []).flatMap((f) => [{ t: f.t, v: f.lo }, { t: f.t, v: f.hi }]),
  ];
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' }) as SVGSVGElement;
  if (all.length === 0) return svg;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const v0 = Math.min(0, ...all.map((p) => p.v));
  const v1 = Math.max(...all.map((p) => p.v)) || 1;
  const x = (t: number) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - ((v - v0) / Math.max(1e-9, v1 - v0)) * (H - pad.t - pad.b);
  const line = (pts: Point[]) => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');

  for (const v of [v0, (v0 + v1) / 2, v1]) {
    svg.append(el('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), stroke: '#e5e7eb' }));
    const label = el('text', { x: 4, y: y(v) + 4, 'font-size': 10, fill: '#6b7280' });
    label.textContent = v.toLocaleString('en', { maximumFractionDigits: 1 });
    svg.append(label);
  }
  for (const t of [t0, (t0 + t1) / 2, t1]) {
    const label = el('text', { x: x(t) - 30, y: H - 8, 'font-size': 10, fill: '#6b7280' });
    label.textContent = new Date(t).toISOString().slice(0, 10);
    svg.append(label);
  }
  if (input.forecast?.length) {
    const f = input.forecast;
    const band = `${f.map((p, i) => `${i ? 'L' : 'M'}${x(p.t)},${y(p.hi)}`).join('')}${[...f].reverse().map((p) => `L${x(p.t)},${y(p.lo)}`).join('')}Z`;
    svg.append(el('path', { d: band, fill: '#fde68a', opacity: 0.6, class: 'forecast-band' }));
    svg.append(el('path', { d: line(f), fill: 'none', stroke: '#d97706', 'stroke-dasharray': '4 3', 'stroke-width': 1.5, class: 'forecast' }));
  }
  svg.append(el('path', { d: line(input.series), fill: 'none', stroke: '#2563eb', 'stroke-width': 1.5, class: 'series', 'data-points': input.series.length }));
  if (input.trend?.length) svg.append(el('path', { d: line(input.trend), fill: 'none', stroke: '#059669', 'stroke-width': 1.5, class: 'trend' }));
  for (const p of input.highlights ?? []) svg.append(el('circle', { cx: x(p.t), cy: y(p.v), r: 4, fill: '#dc2626', class: 'anomaly' }));
  if (input.label) {
    const t = el('text', { x: pad.l, y: 12, 'font-size': 11, fill: '#374151' });
    t.textContent = input.label;
    svg.append(t);
  }
  return svg;
}

/** Horizontal bars for a few labelled values in [0, 1] (e.g. probabilities). */
export function bars(rows: { label: string; value: number }[]): HTMLElement {
  const table = document.createElement('table');
  for (const r of rows) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = r.label;
    const cell = document.createElement('td');
    cell.style.width = '260px';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(1, Math.round(r.value * 250))}px`;
    cell.append(bar);
    const val = document.createElement('td');
    val.textContent = `${(r.value * 100).toFixed(1)}%`;
    tr.append(name, cell, val);
    table.append(tr);
  }
  return table;
}
