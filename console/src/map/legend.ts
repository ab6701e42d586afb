/** The map's legend: colour classes with their ranges, suppressed cells, hot and cold spots. */
import { h } from '../dom';
import { metricLabel, metricValue } from './format';
import { SUPPRESSED_REASON } from './privacy';
import { COLD_SYMBOL, css, HOT_SYMBOL, type Scale } from './scale';

export function legend(scale: Scale, metric: string, opts: { suppressed: 'regions' | 'h3' | null; hotspots: boolean; gridNote: string }): HTMLElement[] {
  const classes = scale.breaks.map((b, i) => {
    const lo = i === 0 ? scale.min : scale.breaks[i - 1]!;
    const text = i === 0 ? `${metricValue(metric, lo)}–${metricValue(metric, b)}` : `> ${metricValue(metric, lo)}–${metricValue(metric, b)}`;
    return h('li', {}, h('span', { class: 'swatch', style: `background: ${css(scale.colour(b))}`, 'aria-hidden': 'true' }), text);
  });
  const out: HTMLElement[] = [
    h('span', { class: 'legend-title' }, h('strong', {}, metricLabel(metric)), ` · ${opts.gridNote}`),
    h('ul', { class: 'classes', 'aria-label': `Colour classes of ${metricLabel(metric)}` }, ...classes,
      opts.suppressed === 'regions' ? h('li', {}, h('span', { class: 'swatch suppressed', 'aria-hidden': 'true' }), `grey: ${SUPPRESSED_REASON}`) : null,
      opts.suppressed === 'h3' ? h('li', {}, h('span', { class: 'swatch blank', 'aria-hidden': 'true' }), `no hexagon: no data, or ${SUPPRESSED_REASON}`) : null),
  ];
  if (opts.hotspots) out.push(hotspotLegend());
  return out;
}

function hotspotLegend(): HTMLElement {
  return h('ul', { class: 'classes', id: 'hotspot-legend', 'aria-label': 'Hot and cold spots' },
    h('li', {}, h('span', { class: 'spot hot', 'aria-hidden': 'true' }, HOT_SYMBOL), 'hot spot: significantly high with its neighbours'),
    h('li', {}, h('span', { class: 'spot cold', 'aria-hidden': 'true' }, COLD_SYMBOL), 'cold spot: significantly low'),
    h('li', { class: 'muted' }, 'Getis-Ord Gi*, 5% false discovery rate, over the whole window'));
}
