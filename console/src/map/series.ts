/**
 * The side panel: one cell's or region's series over the window (lineChart from ../chart), with
 * the buckets a partner may not see counted and explained, and a partial last bucket left out.
 */
import { lineChart } from '../chart';
import { h, message } from '../dom';
import { bucketLabel, metricLabel } from './format';
import type { SeriesPoint } from './operations';
import { K_DEFAULT } from './privacy';

export function seriesPanel(detail: HTMLElement, title: string, subtitle: string, points: SeriesPoint[], metric: string, bucket: string, partner: boolean): void {
  const unit = bucket.toLowerCase();
  const full = points.filter((p) => !p.partial);
  const shown = full.filter((p) => p.value !== null).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value! }));
  const suppressed = full.filter((p) => p.value === null).length;
  const partial = points.filter((p) => p.partial);
  const notes: HTMLElement[] = [];
  if (suppressed && partner) {
    notes.push(h('p', { class: 'series-note', id: 'series-suppressed' },
      `${suppressed} of ${full.length} ${unit}s suppressed: fewer than ${K_DEFAULT} distinct users in them (partner privacy, k-anonymity); the line skips them. Published values carry differential-privacy noise.`));
  } else if (suppressed) {
    notes.push(h('p', { class: 'series-note' }, `${suppressed} of ${full.length} ${unit}s have no value (no views for conversion).`));
  }
  if (partial.length) notes.push(h('p', { class: 'muted' }, `Not drawn: ${partial.map((p) => bucketLabel(p.bucketStart, bucket)).join(', ')} (partial ${unit}, cut by the window).`));
  const width = Math.max(260, Math.min(560, detail.clientWidth - 24));
  let body: Node;
  if (shown.length) body = lineChart({ series: shown, width, height: 200, label: `${metricLabel(metric)} per ${unit}` });
  else if (partner && suppressed) body = message('empty', `Every ${unit} here is suppressed for partner keys: each rests on fewer than ${K_DEFAULT} distinct users (k-anonymity). A larger area (a region) or a longer bucket keeps more of them.`);
  else body = message('empty', `No ${metricLabel(metric)} here in this window.`);
  detail.replaceChildren(h('h3', {}, title), h('p', { class: 'muted' }, subtitle), body, ...notes);
}
