/**
 * Map: aggregates per H3 cell or region for a metric, time window and category, coloured by value
 * with a legend; a time slider (with play) steps through the buckets; significant hot/cold spots
 * are outlined; clicking a cell shows its time series.
 */
import { gql } from '../api';
import { lineChart } from '../chart';
import { field, h, message, showError } from '../dom';
import { legend, MapCanvas, type Geometry } from '../map-canvas';
import { cityRegions, selectionControls, type Selection } from './controls';

interface Cell {
  cellId: string;
  bucketStart: string;
  value: number | null;
  geometry: Geometry | null;
}

const AGGREGATES = `query MapCells($input: AggregateInput!) { aggregates(input: $input) { cellId bucketStart value geometry } }`;
const HOTSPOTS = `query MapHotspots($input: HotspotInput!) { hotspots(input: $input) { cellId classification } }`;
const SERIES = `query CellSeries($input: TimeSeriesInput!) { timeSeries(input: $input) { points { bucketStart value anomaly } } }`;

export function mapPage(root: HTMLElement): () => void {
  const sel = selectionControls(['DAY', 'WEEK', 'MONTH'], 'WEEK', 56);
  const grid = h('select', { name: 'grid' },
    h('option', { value: 'auto' }, 'H3 (auto resolution)'), ...[5, 6, 7, 8].map((r) => h('option', { value: String(r) }, `H3 resolution ${r}`)),
    h('option', { value: 'regions' }, 'regions'));
  const area = h('select', { name: 'area' }, h('option', { value: '' }, 'everywhere'));
  const canvas = h('canvas', { class: 'map', width: 900, height: 560, id: 'map-canvas' });
  const map = new MapCanvas(canvas);
  const slider = h('input', { type: 'range', min: 0, max: 0, value: 0, id: 'time-slider', disabled: true });
  const when = h('span', { id: 'bucket-label' });
  const play = h('button', { type: 'button', id: 'play' }, '▶ Play');
  const legendBox = h('div');
  const status = h('div');
  const detail = h('div', { class: 'panel', id: 'cell-detail' }, message('empty', 'Click a cell to see its time series.'));
  let timer: number | undefined;
  let buckets: string[] = [];
  let byBucket = new Map<string, Cell[]>();
  let outlines: Geometry[] = [];
  let hot = new Map<string, 'hot' | 'cold'>();
  let range = { min: 0, max: 1 };
  let selection: Selection | null = null;
  let geometries = new Map<string, Geometry>();

  const form = h('form', { class: 'controls panel', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    ...sel.elements, field('Area', area), field('Grid', grid), h('button', { type: 'submit' }, 'Draw'));
  root.replaceChildren(h('h2', {}, 'Map'), form, status,
    h('div', { class: 'row' }, h('div', { class: 'panel' }, canvas, h('div', { class: 'controls' }, play, slider, when), legendBox), detail));

  function show(i: number): void {
    const b = buckets[i];
    if (b === undefined) return;
    when.textContent = new Date(b).toISOString().slice(0, 16).replace('T', ' ');
    const cells = (byBucket.get(b) ?? []).filter((c) => c.value !== null && c.geometry);
    map.draw(cells.map((c) => ({ id: c.cellId, geometry: c.geometry!, value: c.value!, hotspot: hot.get(c.cellId) ?? null })), outlines, range);
  }

  async function load(): Promise<void> {
    stop();
    selection = sel.read();
    const gridInput = grid.value === 'regions' ? { regions: true } : grid.value === 'auto' ? null : { h3Resolution: Number(grid.value) };
    const where = area.value ? { regionIds: [area.value] } : null;
    const base = { metric: selection.metric, from: selection.from, to: selection.to, where, filter: selection.categoryIds ? { categoryIds: selection.categoryIds } : null };
    status.replaceChildren(message('info', 'Loading…'));
    try {
      const [agg, regions] = await Promise.all([
        gql<{ aggregates: Cell[] }>(AGGREGATES, { input: { ...base, bucket: selection.bucket, grid: gridInput } }),
        cityRegions().catch(() => []),
      ]);
      if (area.options.length === 1) area.append(...regions.map((r) => h('option', { value: r.id }, r.name)));
      outlines = regions.filter((r) => !area.value || r.id === area.value).map((r) => r.geometry);
      const cells = agg.aggregates.filter((c) => c.value !== null && c.geometry);
      if (cells.length === 0) {
        status.replaceChildren(message('empty', 'No data for this selection (or every cell is below the privacy threshold). Try a longer window or another metric.'));
        map.draw([], outlines, range);
        return;
      }
      hot = new Map();
      if (grid.value !== 'regions') {
        try {
          const hs = await gql<{ hotspots: { cellId: string; classification: string }[] }>(HOTSPOTS, {
            input: { ...base, h3Resolution: gridInput?.h3Resolution ?? null, onlySignificant: true },
          });
          for (const s of hs.hotspots) if (s.classification !== 'NOT_SIGNIFICANT') hot.set(s.cellId, s.classification === 'HOT' ? 'hot' : 'cold');
        } catch {
          // hot spots are an overlay; the map stands without them
        }
      }
      byBucket = new Map();
      geometries = new Map();
      for (const c of cells) {
        byBucket.set(c.bucketStart, [...(byBucket.get(c.bucketStart) ?? []), c]);
        geometries.set(c.cellId, c.geometry!);
      }
      buckets = [...byBucket.keys()].sort();
      const values = cells.map((c) => c.value!);
      range = { min: Math.min(...values), max: Math.max(...values) };
      map.fit(area.value ? outlines : cells.map((c) => c.geometry!));
      slider.max = String(buckets.length - 1);
      slider.value = String(buckets.length - 1);
      slider.disabled = buckets.length < 2;
      legendBox.replaceChildren(legend(range.min, range.max, selection.metric.toLowerCase()),
        h('div', { class: 'legend' }, `${cells.length} cells × buckets · ${hot.size} significant hot/cold spots outlined (red hot, blue cold)`));
      status.replaceChildren();
      show(buckets.length - 1);
    } catch (err) {
      showError(status, err);
    }
  }

  async function cellSeries(id: string): Promise<void> {
    const geometry = geometries.get(id);
    if (!geometry || !selection) return;
    detail.replaceChildren(h('h3', {}, `Cell ${id}`), message('info', 'Loading…'));
    try {
      const d = await gql<{ timeSeries: { points: { bucketStart: string; value: number | null; anomaly: boolean }[] } }>(SERIES, {
        input: { metric: selection.metric, bucket: 'DAY', from: selection.from, to: selection.to, where: { polygon: geometry }, filter: selection.categoryIds ? { categoryIds: selection.categoryIds } : null },
      });
      const pts = d.timeSeries.points.filter((p) => p.value !== null).map((p) => ({ t: Date.parse(p.bucketStart), v: p.value! }));
      detail.replaceChildren(h('h3', {}, `Cell ${id}`), pts.length ? lineChart({ series: pts, width: 420, height: 200, label: `${selection.metric.toLowerCase()} per day` }) : message('empty', 'No data in this cell.'));
    } catch (err) {
      showError(detail, err);
    }
  }

  function stop(): void {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
    play.textContent = '▶ Play';
  }

  slider.addEventListener('input', () => show(Number(slider.value)));
  play.addEventListener('click', () => {
    if (timer !== undefined) return stop();
    play.textContent = '❚❚ Pause';
    timer = window.setInterval(() => {
      const next = (Number(slider.value) + 1) % Math.max(1, buckets.length);
      slider.value = String(next);
      show(next);
    }, 700);
  });
  canvas.addEventListener('click', (e) => {
    const id = map.hit(e);
    if (id) void cellSeries(id);
  });
  void sel.ready.then(load);
  return stop;
}
