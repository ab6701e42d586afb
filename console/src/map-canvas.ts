/**
 * A small map renderer: GeoJSON polygons on a canvas in Web Mercator, fitted to the data, no
 * tiles (none are reachable). Cells are filled by value on a colour ramp; region outlines and
 * hotspots are stroked; clicks are hit-tested against the drawn paths.
 */
export interface Geometry {
  type: string;
  coordinates: unknown;
}

export interface MapFeature {
  id: string;
  geometry: Geometry;
  value: number;
  /** Stroke it as a hotspot (hot: red, cold: blue). */
  hotspot?: 'hot' | 'cold' | null;
}

type Ring = number[][];

function polygons(g: Geometry): Ring[][] {
  if (g.type === 'Polygon') return [g.coordinates as Ring[]];
  if (g.type === 'MultiPolygon') return g.coordinates as Ring[][];
  return [];
}

function mercator([lng, lat]: number[]): [number, number] {
  const x = ((lng ?? 0) * Math.PI) / 180;
  const clamped = Math.max(-85, Math.min(85, lat ?? 0));
  const y = Math.log(Math.tan(Math.PI / 4 + (clamped * Math.PI) / 360));
  return [x, y];
}

/** Viridis-like ramp, t in [0, 1]. */
export function ramp(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, k) => Math.round(v + (stops[i + 1]![k]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export class MapCanvas {
  private paths: { id: string; path: Path2D }[] = [];
  private transform: (p: number[]) => [number, number] = () => [0, 0];

  constructor(readonly canvas: HTMLCanvasElement) {}

  /** Fits the view to every geometry given (cells and outlines). */
  fit(geometries: Geometry[]): void {
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const g of geometries) {
      for (const poly of polygons(g)) {
        for (const ring of poly) {
          for (const p of ring) {
            const [x, y] = mercator(p);
            minX = Math.min(minX, x); maxX = Math.max(maxX, x);
            minY = Math.min(minY, y); maxY = Math.max(maxY, y);
          }
        }
      }
    }
    if (!Number.isFinite(minX)) return;
    const pad = 16;
    const w = this.canvas.width - 2 * pad;
    const hgt = this.canvas.height - 2 * pad;
    const scale = Math.min(w / Math.max(maxX - minX, 1e-9), hgt / Math.max(maxY - minY, 1e-9));
    const ox = pad + (w - (maxX - minX) * scale) / 2;
    const oy = pad + (hgt - (maxY - minY) * scale) / 2;
    this.transform = (p) => {
      const [x, y] = mercator(p);
      return [ox + (x - minX) * scale, oy + (maxY - y) * scale];
    };
  }

  private path(g: Geometry): Path2D {
    const path = new Path2D();
    for (const poly of polygons(g)) {
      for (const ring of poly) {
        ring.forEach((p, i) => {
          const [x, y] = this.transform(p);
          if (i === 0) path.moveTo(x, y);
          else path.lineTo(x, y);
        });
        path.closePath();
      }
    }
    return path;
  }

  /** Draws outlines, then cells coloured between min and max; returns the number of cells drawn. */
  draw(cells: MapFeature[], outlines: Geometry[], range: { min: number; max: number }): number {
    const ctx = this.canvas.getContext('2d')!;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#94a3b8';
    for (const o of outlines) ctx.stroke(this.path(o));
    this.paths = [];
    const span = range.max - range.min || 1;
    for (const c of cells) {
      const p = this.path(c.geometry);
      ctx.globalAlpha = 0.85;
      ctx.fillStyle = ramp((c.value - range.min) / span);
      ctx.fill(p);
      ctx.globalAlpha = 1;
      if (c.hotspot) {
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = c.hotspot === 'hot' ? '#dc2626' : '#2563eb';
        ctx.stroke(p);
        ctx.lineWidth = 1;
      }
      this.paths.push({ id: c.id, path: p });
    }
    this.canvas.dataset.cells = String(cells.length);
    return cells.length;
  }

  /** The id of the cell under a mouse event, if any. */
  hit(e: MouseEvent): string | null {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * this.canvas.width) / r.width;
    const y = ((e.clientY - r.top) * this.canvas.height) / r.height;
    const ctx = this.canvas.getContext('2d')!;
    for (let i = this.paths.length - 1; i >= 0; i--) if (ctx.isPointInPath(this.paths[i]!.path, x, y)) return this.paths[i]!.id;
    return null;
  }
}

/** A legend: the colour ramp with its min and max. */
export function legend(min: number, max: number, label: string): HTMLElement {
  const c = document.createElement('canvas');
  c.width = 180;
  c.height = 10;
  c.className = 'ramp';
  const ctx = c.getContext('2d')!;
  for (let x = 0; x < 180; x++) {
    ctx.fillStyle = ramp(x / 179);
    ctx.fillRect(x, 0, 1, 10);
  }
  const el = document.createElement('div');
  el.className = 'legend';
  el.append(`${label}: ${min.toLocaleString('en', { maximumFractionDigits: 2 })}`, c, max.toLocaleString('en', { maximumFractionDigits: 2 }));
  return el;
}
