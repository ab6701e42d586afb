/**
 * The WebGL map (loaded lazily with its page): MapLibre GL draws an offline base layer made only
 * from the shipped region boundaries (no tiles, no glyph server), deck.gl draws the data on top
 * (H3 hexagons or regions coloured by value, hot/cold spot outlines with ▲/▼ symbols, city names
 * with its own TextLayer). Zoom and pan are MapLibre's; hover shows a tooltip, a click picks a cell.
 */
import 'maplibre-gl/dist/maplibre-gl.css';
import './map.css';
import type { PickingInfo } from '@deck.gl/core';
import { H3HexagonLayer } from '@deck.gl/geo-layers';
import { GeoJsonLayer, TextLayer } from '@deck.gl/layers';
import { MapboxOverlay } from '@deck.gl/mapbox';
import { cellToLatLng } from 'h3-js';
import { Map as MapLibre, NavigationControl, type StyleSpecification } from 'maplibre-gl';
import { h } from '../dom';
import { labelPoint, type BBox, type Geometry } from './geo';
import { useBundledWorker } from './maplibre-worker';
import { COLD, COLD_SYMBOL, HOT, HOT_SYMBOL, type RGB } from './scale';

/** One drawn cell: an H3 hexagon (id = H3 index) or a region (id = region id, with its outline). */
export interface Shape {
  readonly id: string;
  readonly geometry?: Geometry;
  /** Null: no published value (suppressed for partners): drawn hatched grey. */
  readonly colour: RGB | null;
  readonly hotspot: 'HOT' | 'COLD' | null;
}

export interface MapView {
  /** Replaces the data layers; `describe` writes the tooltip of a shape. */
  draw(grid: 'h3' | 'regions', shapes: Shape[], showHotspots: boolean): void;
  fit(box: BBox): void;
  destroy(): void;
}

export interface MapViewOptions {
  regions: { id: string; name: string; geometry: Geometry }[];
  describe(shape: Shape): string;
  onPick(shape: Shape): void;
}

interface Label {
  name: string;
  position: [number, number];
}

const SUPPRESSED: [number, number, number, number] = [203, 213, 225, 150];

function baseStyle(regions: MapViewOptions['regions']): StyleSpecification {
  const graticule: GeoJSON.Feature[] = [];
  for (let lng = -180; lng <= 180; lng += 5) graticule.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[lng, -85], [lng, 85]] } });
  for (let lat = -80; lat <= 80; lat += 5) graticule.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[-180, lat], [180, lat]] } });
  return {
    version: 8,
    sources: {
      regions: {
        type: 'geojson',
        data: { type: 'FeatureCollection', features: regions.map((r) => ({ type: 'Feature', properties: { name: r.name }, geometry: r.geometry as GeoJSON.Geometry })) },
      },
      graticule: { type: 'geojson', data: { type: 'FeatureCollection', features: graticule } },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f1f5f9' } },
      { id: 'graticule', type: 'line', source: 'graticule', paint: { 'line-color': '#cbd5e1', 'line-width': 0.5 } },
      { id: 'regions-fill', type: 'fill', source: 'regions', paint: { 'fill-color': '#dbe4ee', 'fill-opacity': 0.9 } },
      { id: 'regions-line', type: 'line', source: 'regions', paint: { 'line-color': '#475569', 'line-width': 1.2, 'line-dasharray': [3, 2] } },
    ],
  };
}

/** The shape under the pointer: H3 layers pick the shape, the GeoJSON layer a feature holding it. */
function picked(info: PickingInfo): Shape | null {
  const o = info.object as (Shape & { properties?: undefined }) | { properties: Shape } | undefined;
  if (!o) return null;
  const shape = o.properties ?? o;
  return 'colour' in shape && typeof shape.id === 'string' ? shape : null;
}

export function createMapView(container: HTMLElement, opts: MapViewOptions): MapView {
  useBundledWorker();
  const map = new MapLibre({
    container,
    style: baseStyle(opts.regions),
    center: [-47, -18],
    zoom: 3,
    minZoom: 1,
    maxZoom: 13,
    attributionControl: false,
    renderWorldCopies: false,
    dragRotate: false,
    pitchWithRotate: false,
    // On a phone one finger scrolls the page; two fingers move the map.
    cooperativeGestures: matchMedia('(pointer: coarse)').matches,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.on('error', (e) => {
    container.dataset.error = e.error?.message ?? 'map error';
  });

  const tooltip = h('div', { class: 'map-tooltip', id: 'map-tooltip', hidden: true });
  container.append(tooltip);

  const labels = opts.regions.flatMap((r): Label[] => {
    const p = labelPoint(r.geometry);
    return p ? [{ name: r.name, position: p }] : [];
  });
  let frames = 0;
  const overlay = new MapboxOverlay({
    interleaved: false,
    layers: [],
    onAfterRender: () => {
      container.dataset.frames = String(++frames);
      container.dataset.rendered = '1';
    },
    onHover: (info: PickingInfo) => {
      const shape = picked(info);
      if (!shape) {
        tooltip.hidden = true;
        return;
      }
      tooltip.textContent = opts.describe(shape);
      tooltip.hidden = false;
      const left = Math.min(info.x + 12, container.clientWidth - tooltip.offsetWidth - 4);
      tooltip.style.left = `${Math.max(4, left)}px`;
      tooltip.style.top = `${Math.max(4, info.y - tooltip.offsetHeight - 10)}px`;
    },
    onClick: (info: PickingInfo) => {
      const shape = picked(info);
      if (shape) opts.onPick(shape);
    },
    getCursor: ({ isHovering, isDragging }) => (isDragging ? 'grabbing' : isHovering ? 'pointer' : 'grab'),
  });
  map.addControl(overlay);

  const labelLayer = () =>
    new TextLayer<Label>({
      id: 'city-labels',
      data: labels,
      getPosition: (d) => d.position,
      getText: (d) => d.name,
      getSize: 13,
      sizeUnits: 'pixels',
      getColor: [15, 23, 42, 255],
      fontFamily: 'system-ui, "DejaVu Sans", sans-serif',
      fontWeight: 600,
      characterSet: 'auto',
      fontSettings: { sdf: true },
      outlineWidth: 3,
      outlineColor: [255, 255, 255, 230],
      getTextAnchor: 'middle',
      getAlignmentBaseline: 'bottom',
      getPixelOffset: [0, -4],
    });

  overlay.setProps({ layers: [labelLayer()] });

  return {
    draw(grid, shapes, showHotspots) {
      const fill = (s: Shape): [number, number, number, number] => (s.colour ? [...s.colour, 205] : SUPPRESSED);
      const data = grid === 'h3'
        ? new H3HexagonLayer<Shape>({
            id: 'cells',
            data: shapes,
            getHexagon: (s) => s.id,
            getFillColor: fill,
            getLineColor: [255, 255, 255, 200],
            lineWidthMinPixels: 0.5,
            extruded: false,
            pickable: true,
            highPrecision: 'auto',
          })
        : new GeoJsonLayer<Shape>({
            id: 'regions-data',
            data: { type: 'FeatureCollection', features: shapes.map((s) => ({ type: 'Feature', properties: s, geometry: s.geometry as GeoJSON.Geometry })) } as never,
            getFillColor: (f: { properties: Shape }) => fill(f.properties),
            getLineColor: [30, 41, 59, 255],
            lineWidthMinPixels: 1.5,
            pickable: true,
          });
      const spots = showHotspots && grid === 'h3' ? shapes.filter((s) => s.hotspot) : [];
      const layers = [
        data,
        new H3HexagonLayer<Shape>({
          id: 'hotspot-outlines',
          data: spots,
          getHexagon: (s) => s.id,
          filled: false,
          stroked: true,
          extruded: false,
          getLineColor: (s) => (s.hotspot === 'HOT' ? HOT : COLD),
          lineWidthMinPixels: 3,
          lineWidthUnits: 'pixels',
          getLineWidth: 3,
        }),
        new TextLayer<Shape>({
          id: 'hotspot-symbols',
          data: spots,
          getPosition: (s) => {
            const [lat, lng] = cellToLatLng(s.id);
            return [lng, lat];
          },
          getText: (s) => (s.hotspot === 'HOT' ? HOT_SYMBOL : COLD_SYMBOL),
          getColor: (s) => [...(s.hotspot === 'HOT' ? HOT : COLD), 255],
          getSize: 14,
          sizeUnits: 'pixels',
          characterSet: [HOT_SYMBOL, COLD_SYMBOL],
          fontFamily: '"DejaVu Sans", system-ui, sans-serif',
          fontSettings: { sdf: true },
          outlineWidth: 4,
          outlineColor: [255, 255, 255, 255],
        }),
        labelLayer(),
      ];
      container.dataset.rendered = '0'; // until deck.gl has drawn these layers
      overlay.setProps({ layers });
      container.dataset.cells = String(shapes.filter((s) => s.colour).length);
      container.dataset.hotspots = String(spots.length);
      tooltip.hidden = true;
    },
    fit([w, s, e, n]) {
      map.fitBounds([[w, s], [e, n]], { padding: { top: 40, bottom: 30, left: 30, right: 50 }, animate: false, maxZoom: 11 });
    },
    destroy() {
      map.remove();
    },
  };
}
