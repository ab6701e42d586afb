/**
 * The same cells as a table: the map's accessible alternative (and all there is without WebGL).
 * One row per cell of the bucket shown, largest value first; each row opens that cell's series.
 */
import { h } from '../dom';
import { COLD_SYMBOL, HOT_SYMBOL } from './scale';

export interface TableRow {
  readonly id: string;
  readonly name: string;
  readonly value: string;
  readonly sortValue: number;
  readonly users: string;
  readonly hotspot: 'HOT' | 'COLD' | null;
  /** Why there is no value (partner suppression), when there is none. */
  readonly reason: string | null;
}

const MAX_ROWS = 300;

export function cellTable(caption: string, valueHeader: string, rows: TableRow[], onOpen: (id: string) => void): HTMLElement {
  const sorted = [...rows].sort((a, b) => b.sortValue - a.sortValue);
  const shown = sorted.slice(0, MAX_ROWS);
  const table = h('table', { id: 'map-table' },
    h('caption', {}, caption, rows.length > MAX_ROWS ? ` (the ${MAX_ROWS} largest of ${rows.length})` : ''),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Cell'), h('th', { scope: 'col' }, valueHeader), h('th', { scope: 'col' }, 'Distinct users'), h('th', { scope: 'col' }, 'Hot spot'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Series')))),
    h('tbody', {}, ...shown.map((r) =>
      h('tr', { 'data-cell': r.id },
        h('th', { scope: 'row' }, r.name),
        h('td', { class: 'num' }, r.reason ? h('span', { class: 'suppressed' }, r.reason) : r.value),
        h('td', { class: 'num' }, r.users),
        h('td', {}, r.hotspot === 'HOT' ? `${HOT_SYMBOL} hot` : r.hotspot === 'COLD' ? `${COLD_SYMBOL} cold` : ''),
        h('td', {}, h('button', { type: 'button', class: 'link', 'aria-label': `Series of ${r.name}`, onclick: () => onOpen(r.id) }, 'Series'))))));
  return h('div', { class: 'table-scroll' }, table);
}
