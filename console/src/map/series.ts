/**
 * The side panel: one cell's or region's series over the window (lineChart from ../chart), with
 * the buckets a partner may not see counted and explained, and a partial last bucket left out.
 * The chart carries the metric's unit (percent for conversion) and the bucket's grain (hover dates).
 */
import { lineChart } from '../chart';
import { formatBucket, metricUnit } from '../charts/format';
import { h, message } from '../dom';
import type { SeriesPoint } from './operations';
import { K_DEFAULT } from './privacy';

export function seriesPanel(detail: HTMLElement, title: string, subtitle: string, points: SeriesPoint[], metric: string, bucket: string, partner: boolean): void {
  const per = bucket.toLowerCase();
  const unit = metricUnit(metric);
  const full = points.filter((p) => !p.partial);
  const shown = full.filter((p) => p.value !== null).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value! }));
  const suppressed = full.filter((p) => p.value === null).length;
  const partial = points.filter((p) => p.partial);
  const notes: HTMLElement[] = [];
  if (suppressed && partner) {
    notes.push(h('p', { class: 'series-note', id: 'series-suppressed' },
      `${suppressed} of ${full.length} ${per}s suppressed: fewer than ${K_DEFAULT} distinct users in them (partner privacy, k-anonymity); the line skips them. Published values carry differential-privacy noise.`));
  } else if (suppressed) {
    notes.push(h('p', { class: 'series-note' }, `${suppressed} of ${full.length} ${per}s have no value (no views for conversion).`));
  }
  if (partial.length) notes.push(h('p', { class: 'muted' }, `Not drawn: ${partial.map((p) => formatBucket(Date.parse(p.bucketStart), bucket)).join(', ')} (partial ${per}, cut by the window).`));
  const width = Math.max(260, Math.min(560, detail.clientWidth - 24));
  let body: Node;
  if (shown.length) {
    body = lineChart({
      series: shown, width, height: 200, bucket, unit,
      label: `${unit.title} per ${per}${unit.kind === 'money' ? ' (currency units)' : ''}`,
      seriesLabel: unit.kind === 'count' ? unit.title : `${unit.title} (${unit.name})`,
    });
  } else if (partner && suppressed) body = message('empty', `Every ${per} here is suppressed for partner keys: each rests on fewer than ${K_DEFAULT} distinct users (k-anonymity). A larger area (a region) or a longer bucket keeps more of them.`);
  else body = message('empty', `No ${unit.name} here in this window.`);
  detail.replaceChildren(h('h3', {}, title), h('p', { class: 'muted' }, subtitle), body, ...notes);
}
