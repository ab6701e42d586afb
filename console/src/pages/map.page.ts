/**
 * Map: a metric per H3 cell or region and time bucket over a window, on a WebGL map (MapLibre GL +
 * deck.gl, loaded with this page) whose base layer is the shipped region boundaries; a time slider
 * steps through the buckets; hot and cold spots can be shown; the same cells as a table (the
 * accessible view, and the only one without WebGL); a click on a cell or region opens its series.
 * Partner keys get every suppressed number explained (docs/privacy.md).
 */
import '../map/map.css';
import { gql, isAborted, requestSlot } from '../api';
import { field, h, message, showError } from '../dom';
import { readParams, writeParams } from '../url-state';
import type { Viewer } from '../viewer';
import { bbox, contains, type BBox } from '../map/geo';
import { formatBucket } from '../charts/format';
import { metricLabel, metricValue, shortCell } from '../map/format';
import { legend } from '../map/legend';
import { MAP_CELLS, MAP_HOTSPOTS, MAP_REGIONS, MAP_SERIES, type CellRow, type HotspotRow, type Region, type SeriesPoint } from '../map/operations';
import { partnerEmpty, partnerNote, SUPPRESSED_REASON } from '../map/privacy';
import { autoResolution, bucketCount, MAX_RES, MIN_RES } from '../map/resolution';
import { quantileScale, type Scale } from '../map/scale';
import { seriesPanel } from '../map/series';
import { cellTable, type TableRow } from '../map/table';
import type { MapView, Shape } from '../map/view';
import { webglAvailable } from '../map/webgl';
import { selectionControls, type Selection } from './controls';

type H3 = typeof import('h3-js');

/** A row with a value: the only ones kept (an answer's null values are not drawn). */
type Cell = CellRow & { value: number };

/** Why a region of the regions grid has no row: partner keys get the privacy reason. */
const NO_DATA = 'no data in this bucket';

/** What one answer drew: kept for the slider, the table, hot spots and clicks. */
interface Drawn {
  readonly selection: Selection;
  readonly grid: 'h3' | 'regions';
  readonly resolution: number | null;
  readonly where: { regionIds: string[] } | null;
  readonly buckets: string[];
  readonly byBucket: Map<string, Map<string, Cell>>;
  readonly scale: Scale;
  readonly gridNote: string;
  /** Drawn for a partner key: a missing value is suppressed rather than absent. */
  readonly partner: boolean;
}

export function mapPage(root: HTMLElement, viewer: Viewer): () => void {
  const params = readParams();
  const sel = selectionControls(['DAY', 'WEEK', 'MONTH'], 'WEEK', 56);
  const grid = h('select', { name: 'grid' },
    h('option', { value: 'auto' }, 'H3, resolution fitted to the area'),
    ...Array.from({ length: MAX_RES - MIN_RES + 1 }, (_, i) => MIN_RES + i).map((r) => h('option', { value: String(r) }, `H3 resolution ${r}`)),
    h('option', { value: 'regions' }, 'regions (cities)'));
  grid.value = params.get('grid') ?? 'auto';
  if (!grid.value) grid.value = 'auto';
  const area = h('select', { name: 'area' }, h('option', { value: '' }, 'everywhere'));
  const draw = h('button', { type: 'submit', id: 'draw' }, 'Draw');
  const form = h('form', { class: 'controls panel', 'aria-label': 'Map selection' }, ...sel.elements, field('Area', area), field('Grid', grid), draw);
  const status = h('div', { id: 'map-status' });

  const mapButton = h('button', { type: 'button', 'aria-pressed': 'true', id: 'show-map' }, 'Map');
  const tableButton = h('button', { type: 'button', 'aria-pressed': 'false', id: 'show-table' }, 'Table');
  const hotspotToggle = h('input', { type: 'checkbox', id: 'hotspot-toggle', checked: params.get('hotspots') !== 'off' });
  const frame = h('div', { class: 'map-frame', id: 'map', role: 'region', 'aria-label': 'Map of the selected metric; the Table view lists the same cells', 'aria-describedby': 'map-summary' });
  const summary = h('p', { id: 'map-summary', class: 'sr-only' });
  const tableBox = h('div', { id: 'map-table-box', hidden: true });
  const slider = h('input', { type: 'range', min: 0, max: 0, value: 0, id: 'time-slider', disabled: true, 'aria-valuetext': 'no data' });
  const when = h('output', { id: 'bucket-label', for: 'time-slider' });
  const play = h('button', { type: 'button', id: 'play', disabled: true }, '▶ Play');
  const legendBox = h('div', { class: 'map-legend', id: 'map-legend' });
  const privacyBox = h('div', { id: 'privacy-box' });
  // Only the one-line status is live; the chart and its notes are not read out on every change.
  const detailStatus = h('p', { id: 'cell-detail-status', class: 'sr-only', role: 'status' });
  const detailBody = h('div', { id: 'cell-detail-body' });
  const detail = h('section', { class: 'panel', id: 'cell-detail', 'aria-label': 'Series of the chosen cell' }, detailStatus, detailBody);
  const placeholder = (): void => {
    detailBody.replaceChildren(message('empty', 'Click a cell or region on the map (or Series in the table) to see its time series.'));
    detailStatus.textContent = '';
  };
  placeholder();

  root.replaceChildren(
    h('h2', {}, 'Map'),
    form,
    status,
    h('div', { class: 'map-layout' },
      h('section', { class: 'panel', 'aria-label': 'Map' },
        h('div', { class: 'map-toolbar' },
          h('div', { class: 'view-switch', role: 'group', 'aria-label': 'View' }, mapButton, tableButton),
          h('label', { class: 'toggle' }, hotspotToggle, 'Hot spots')),
        frame, summary, tableBox,
        h('div', { class: 'time-row' }, h('label', { for: 'time-slider' }, 'Time bucket', slider), when, play),
        legendBox, privacyBox),
      detail),
  );

  const loads = requestSlot();
  const spotsSlot = requestSlot();
  const seriesSlot = requestSlot();
  let timer: number | undefined;
  let left = false;
  let drawn: Drawn | null = null;
  let hot = new Map<string, 'HOT' | 'COLD'>();
  let view: MapView | null = null;
  let viewFailed = !webglAvailable();
  let showing: 'map' | 'table' = params.get('view') === 'table' || viewFailed ? 'table' : 'map';
  let h3: H3 | null = null;
  let regions: Region[] = [];
  const regionById = new Map<string, Region>();

  const regionsReady = gql<{ regions: Region[] }>(MAP_REGIONS)
    .then((d) => {
      regions = d.regions;
      for (const r of regions) regionById.set(r.id, r);
      area.append(...regions.map((r) => h('option', { value: r.id, selected: r.id === params.get('area') }, r.name)));
    })
    .catch((err) => showError(status, err));
  const h3Ready = import('h3-js').then((m) => { h3 = m; }).catch(() => undefined);
  /** The role decides whether suppression is explained (the shell already knows the key). */
  const isPartner = viewer.role === 'PARTNER';

  /** Creates the WebGL map on first need (once, however many callers wait); a failure leaves the table. */
  let viewLoading: Promise<MapView | null> | null = null;
  function ensureView(): Promise<MapView | null> {
    if (view || viewFailed) return Promise.resolve(view);
    viewLoading ??= (async () => {
      try {
        await regionsReady; // the base layer is made of them
        const { createMapView } = await import('../map/view');
        if (left) return null;
        view = createMapView(frame, { regions, describe, onPick: (s) => void openSeries(s.id) });
      } catch (err) {
        viewFailed = true;
        frame.replaceChildren(message('info', `The map cannot be drawn here (${err instanceof Error ? err.message : 'WebGL unavailable'}); the table shows the same cells.`));
        setView('table');
      }
      return view;
    })();
    return viewLoading;
  }

  function setView(v: 'map' | 'table'): void {
    showing = viewFailed ? 'table' : v;
    mapButton.setAttribute('aria-pressed', String(showing === 'map'));
    tableButton.setAttribute('aria-pressed', String(showing === 'table'));
    mapButton.disabled = viewFailed;
    frame.hidden = showing !== 'map' && !viewFailed;
    tableBox.hidden = showing !== 'table';
    writeParams({ view: showing === 'table' ? 'table' : null });
    if (showing === 'map') {
      void ensureView().then(() => {
        if (!left) render();
      });
    }
    else render();
  }

  function cellName(id: string): string {
    const region = regionById.get(id);
    if (region) return region.name;
    const inside = cityOf(id);
    return inside ? `${inside} · ${shortCell(id)}` : `H3 ${shortCell(id)}`;
  }

  function cityOf(cell: string): string | null {
    if (!h3) return null;
    const [lat, lng] = h3.cellToLatLng(cell);
    return regions.find((r) => contains(r.geometry, [lng, lat]))?.name ?? null;
  }

  function current(): { bucket: string; rows: Map<string, Cell> } | null {
    if (!drawn) return null;
    const bucket = drawn.buckets[Number(slider.value)];
    return bucket === undefined ? null : { bucket, rows: drawn.byBucket.get(bucket) ?? new Map<string, Cell>() };
  }

  /** Why a shape has no value: suppression only for partner keys. */
  function noValueReason(d: Drawn): string {
    return d.partner ? SUPPRESSED_REASON : NO_DATA;
  }

  function describe(shape: Shape): string {
    const cur = current();
    if (!drawn || !cur) return '';
    const row = cur.rows.get(shape.id);
    const lines = [cellName(shape.id), formatBucket(Date.parse(cur.bucket), drawn.selection.bucket)];
    if (!row) lines.push(`${metricLabel(drawn.selection.metric)}: ${noValueReason(drawn)}`);
    else {
      const cls = drawn.scale.bucket(row.value);
      lines.push(`${metricLabel(drawn.selection.metric)}: ${metricValue(drawn.selection.metric, row.value)} (colour class ${cls + 1} of ${drawn.scale.breaks.length})`);
      if (row.users !== null) lines.push(`${row.users.toLocaleString('en')} distinct users`);
    }
    if (shape.hotspot) lines.push(shape.hotspot === 'HOT' ? '▲ hot spot' : '▼ cold spot');
    return lines.join('\n');
  }

  /** Draws the bucket the slider points at: map, table, summary. */
  function render(): void {
    const cur = current();
    if (!drawn || !cur) return;
    const { selection } = drawn;
    when.textContent = formatBucket(Date.parse(cur.bucket), selection.bucket);
    slider.setAttribute('aria-valuetext', when.textContent);
    const showSpots = hotspotToggle.checked && drawn.grid === 'h3';
    const shapes: Shape[] = [];
    const rows: TableRow[] = [];
    for (const row of cur.rows.values()) {
      const hotspot = showSpots ? hot.get(row.cellId) ?? null : null;
      shapes.push({ id: row.cellId, geometry: regionById.get(row.cellId)?.geometry, colour: drawn.scale.colour(row.value), hotspot });
      rows.push({ id: row.cellId, name: cellName(row.cellId), value: metricValue(selection.metric, row.value), sortValue: row.value, users: row.users === null ? '–' : row.users.toLocaleString('en'), hotspot, reason: null });
    }
    // Regions with no value (for a partner key, suppressed): drawn grey, listed with the reason.
    if (drawn.grid === 'regions') {
      for (const r of regions) {
        if (cur.rows.has(r.id) || (drawn.where && !drawn.where.regionIds.includes(r.id))) continue;
        shapes.push({ id: r.id, geometry: r.geometry, colour: null, hotspot: null });
        rows.push({ id: r.id, name: r.name, value: '–', sortValue: -Infinity, users: '–', hotspot: null, reason: noValueReason(drawn) });
      }
    }
    summary.textContent = `${metricLabel(selection.metric)}, ${when.textContent}: ${rows.filter((r) => !r.reason).length} ${drawn.grid === 'h3' ? 'cells' : 'regions'} with data${showSpots ? `, ${shapes.filter((s) => s.hotspot).length} hot or cold spots` : ''}.`;
    frame.dataset.cells = String(shapes.filter((s) => s.colour).length);
    if (showing === 'map') view?.draw(drawn.grid, shapes, showSpots);
    else tableBox.replaceChildren(cellTable(`${metricLabel(selection.metric)}, ${when.textContent}`, metricLabel(selection.metric), rows, (id) => void openSeries(id)));
  }

  function renderLegend(): void {
    if (!drawn) return void legendBox.replaceChildren();
    legendBox.replaceChildren(...legend(drawn.scale, drawn.selection.metric, { suppressed: drawn.partner ? (drawn.grid === 'regions' ? 'regions' : 'h3') : null, hotspots: hotspotToggle.checked && drawn.grid === 'h3', gridNote: drawn.gridNote }));
  }

  /** Forgets what was drawn: an empty answer must not keep the last legend, slider or cells. */
  function clear(): void {
    stop();
    drawn = null;
    hot = new Map();
    legendBox.replaceChildren();
    slider.max = '0';
    slider.value = '0';
    slider.disabled = true;
    slider.setAttribute('aria-valuetext', 'no data');
    play.disabled = true;
    when.textContent = '';
    summary.textContent = 'No cells drawn.';
    frame.dataset.cells = '0';
    view?.draw('h3', [], false);
    tableBox.replaceChildren();
  }

  async function load(): Promise<void> {
    if (left) return; // requestSlot().next() would work again after cancel()
    const signal = loads.next();
    /** After an await that is not a gql call: a newer load or leaving the page ends this one. */
    const stale = (): boolean => left || signal.aborted;
    spotsSlot.cancel();
    // The series shown belongs to the last drawing: forget it, and the request for one.
    seriesSlot.cancel();
    placeholder();
    stop();
    draw.disabled = true;
    draw.textContent = 'Drawing…';
    status.replaceChildren(message('info', 'Loading…'));
    try {
      await Promise.all([regionsReady, h3Ready]);
      if (stale()) return;
      const invalid = sel.validate();
      if (invalid) {
        status.replaceChildren(message('error', invalid));
        return;
      }
      const selection = sel.read();
      writeParams({ area: area.value || null, grid: grid.value === 'auto' ? null : grid.value });
      privacyBox.replaceChildren(...(isPartner ? [partnerNote()] : []));
      const where = area.value ? { regionIds: [area.value] } : null;
      const areas = (area.value ? regions.filter((r) => r.id === area.value) : regions).map((r) => r.geometry);
      const gridKind = grid.value === 'regions' ? 'regions' : 'h3';
      const resolution = gridKind === 'regions' ? null : grid.value === 'auto' ? autoResolution(areas, bucketCount(selection.from, selection.to, selection.bucket)) : Number(grid.value);
      const base = { metric: selection.metric, from: selection.from, to: selection.to, where, filter: selection.categoryIds ? { categoryIds: selection.categoryIds } : null };
      const gridInput = gridKind === 'regions' ? { regions: true } : { h3Resolution: resolution };
      const mapReady = showing === 'map' ? ensureView() : Promise.resolve(null);
      const { aggregates } = await gql<{ aggregates: CellRow[] }>(MAP_CELLS, { input: { ...base, bucket: selection.bucket, grid: gridInput } }, signal);
      await mapReady;
      if (stale()) return;
      const cells = aggregates.filter((c): c is Cell => c.value !== null && c.cellId !== 'all');
      const box: BBox | null = bbox(areas);
      if (box) view?.fit(box);
      if (cells.length === 0) {
        clear();
        status.replaceChildren(message('empty', isPartner ? partnerEmpty(gridKind === 'h3' ? 'cell' : 'region') : 'No data for this selection. Try a longer window, another metric or everywhere.'));
        return;
      }
      const byBucket = new Map<string, Map<string, Cell>>();
      for (const c of cells) {
        let rows = byBucket.get(c.bucketStart);
        if (!rows) byBucket.set(c.bucketStart, (rows = new Map<string, Cell>()));
        rows.set(c.cellId, c);
      }
      const buckets = [...byBucket.keys()].sort();
      const gridNote = gridKind === 'regions' ? 'one colour per region' : `H3 resolution ${resolution}${grid.value === 'auto' ? ' (fitted to the area)' : ''}`;
      drawn = { selection, grid: gridKind, resolution, where, buckets, byBucket, scale: quantileScale(cells.map((c) => c.value))!, gridNote, partner: isPartner };
      hot = new Map();
      slider.max = String(buckets.length - 1);
      slider.value = String(buckets.length - 1);
      slider.disabled = buckets.length < 2;
      play.disabled = buckets.length < 2;
      renderLegend();
      status.replaceChildren();
      render();
      if (hotspotToggle.checked) void loadHotspots();
    } catch (err) {
      if (isAborted(err) || stale()) return;
      clear();
      showError(status, err);
    } finally {
      if (!stale()) {
        draw.disabled = false;
        draw.textContent = 'Draw';
      }
    }
  }

  async function loadHotspots(): Promise<void> {
    const d = drawn;
    if (left || !d || d.grid !== 'h3' || d.resolution === null) return;
    const signal = spotsSlot.next();
    try {
      const { hotspots } = await gql<{ hotspots: HotspotRow[] }>(MAP_HOTSPOTS, {
        input: { metric: d.selection.metric, from: d.selection.from, to: d.selection.to, where: d.where, filter: d.selection.categoryIds ? { categoryIds: d.selection.categoryIds } : null, h3Resolution: d.resolution, onlySignificant: true },
      }, signal);
      if (drawn !== d) return;
      hot = new Map(hotspots.filter((s) => s.classification !== 'NOT_SIGNIFICANT').map((s) => [s.cellId, s.classification as 'HOT' | 'COLD']));
      renderLegend();
      legendBox.dataset.hotspots = String(hot.size);
      render();
    } catch (err) {
      if (isAborted(err) || drawn !== d) return;
      legendBox.append(h('p', { class: 'muted', id: 'hotspot-error' }, `Hot spots unavailable: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  async function openSeries(id: string): Promise<void> {
    const d = drawn;
    if (left || !d) return;
    const signal = seriesSlot.next();
    const region = d.grid === 'regions' ? regionById.get(id) : undefined;
    const title = region ? region.name : cellName(id);
    const fail = (err: unknown): void => {
      detailBody.replaceChildren(h('h3', {}, title), h('div'));
      showError(detailBody.lastElementChild as HTMLElement, err);
      detailStatus.textContent = `The series of ${title} could not be loaded.`;
    };
    detailBody.replaceChildren(h('h3', {}, title), message('info', 'Loading…'));
    detailStatus.textContent = `Loading the series of ${title}…`;
    let where: { regionIds: string[] } | { bbox: { minLongitude: number; minLatitude: number; maxLongitude: number; maxLatitude: number } };
    let subtitle: string;
    if (region) {
      where = { regionIds: [region.id] };
      subtitle = `Region ${region.name}`;
    } else {
      if (!h3) return fail(new Error('The H3 library failed to load, so this cell\'s area cannot be computed. Reload the page, or use the regions grid.'));
      // An H3 cell has no area filter of its own: its bounding box (fast, and allowed for partners).
      const ring = h3.cellToBoundary(id, true);
      const lngs = ring.map((p) => p[0]);
      const lats = ring.map((p) => p[1]);
      where = { bbox: { minLongitude: Math.min(...lngs), minLatitude: Math.min(...lats), maxLongitude: Math.max(...lngs), maxLatitude: Math.max(...lats) } };
      subtitle = `H3 cell ${id} (resolution ${h3.getResolution(id)}), its bounding box`;
    }
    try {
      const { timeSeries } = await gql<{ timeSeries: { points: SeriesPoint[] } }>(MAP_SERIES, {
        input: { metric: d.selection.metric, bucket: d.selection.bucket, from: d.selection.from, to: d.selection.to, where, filter: d.selection.categoryIds ? { categoryIds: d.selection.categoryIds } : null },
      }, signal);
      if (signal.aborted || left) return;
      seriesPanel(detailBody, title, subtitle, timeSeries.points, d.selection.metric, d.selection.bucket, d.partner);
      const points = detailBody.querySelector<HTMLElement>('.chart[data-points]')?.dataset.points;
      detailStatus.textContent = points ? `The series of ${title}: ${points} ${d.selection.bucket.toLowerCase()}s drawn.` : `The series of ${title}: no values to draw.`;
    } catch (err) {
      if (isAborted(err) || signal.aborted || left) return;
      fail(err);
    }
  }

  function stop(): void {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
    play.textContent = '▶ Play';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  for (const s of [area, grid]) s.addEventListener('change', () => void load());
  slider.addEventListener('input', () => render());
  hotspotToggle.addEventListener('change', () => {
    writeParams({ hotspots: hotspotToggle.checked ? null : 'off' });
    if (hotspotToggle.checked && drawn && hot.size === 0) void loadHotspots();
    else spotsSlot.cancel();
    renderLegend();
    render();
  });
  mapButton.addEventListener('click', () => setView('map'));
  tableButton.addEventListener('click', () => setView('table'));
  play.addEventListener('click', () => {
    if (timer !== undefined) return stop();
    play.textContent = '❚❚ Pause';
    timer = window.setInterval(() => {
      const n = drawn?.buckets.length ?? 1;
      slider.value = String((Number(slider.value) + 1) % Math.max(1, n));
      render();
    }, 900);
  });
  setView(showing);
  void sel.ready.then(() => {
    if (!left) void load();
  });
  return () => {
    left = true;
    stop();
    loads.cancel();
    spotsSlot.cancel();
    seriesSlot.cancel();
    view?.destroy();
    view = null;
  };
}
