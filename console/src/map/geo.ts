/** GeoJSON helpers without a library: bounding boxes, areas and label points of region outlines. */
export interface Geometry {
  type: string;
  coordinates: unknown;
}

/** [west, south, east, north] in degrees. */
export type BBox = [number, number, number, number];

type Ring = number[][];

export function polygons(g: Geometry): Ring[][] {
  if (g.type === 'Polygon') return [g.coordinates as Ring[]];
  if (g.type === 'MultiPolygon') return g.coordinates as Ring[][];
  return [];
}

export function bbox(geometries: Geometry[]): BBox | null {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const g of geometries) {
    for (const poly of polygons(g)) {
      for (const [x, y] of poly[0] ?? []) {
        if (x === undefined || y === undefined) continue;
        w = Math.min(w, x); e = Math.max(e, x);
        s = Math.min(s, y); n = Math.max(n, y);
      }
    }
  }
  return Number.isFinite(w) ? [w, s, e, n] : null;
}

const KM_PER_DEG = 111.32;

/** The longer side of a box, in km (east-west measured at its middle latitude). */
export function extentKm([w, s, e, n]: BBox): number {
  const midLat = ((s + n) / 2) * (Math.PI / 180);
  return Math.max((e - w) * KM_PER_DEG * Math.cos(midLat), (n - s) * KM_PER_DEG);
}

/** Area of the outer rings in km² (equirectangular, fine at city scale). */
export function areaKm2(geometries: Geometry[]): number {
  let total = 0;
  for (const g of geometries) {
    for (const poly of polygons(g)) {
      const ring = poly[0] ?? [];
      const lat0 = ((ring[0]?.[1] ?? 0) * Math.PI) / 180;
      let a = 0;
      for (let i = 0; i + 1 < ring.length; i++) {
        const [x1 = 0, y1 = 0] = ring[i]!;
        const [x2 = 0, y2 = 0] = ring[i + 1]!;
        a += x1 * y2 - x2 * y1;
      }
      total += Math.abs(a / 2) * KM_PER_DEG * KM_PER_DEG * Math.cos(lat0);
    }
  }
  return total;
}

/** Where a region's name goes: the mean of its outer ring's vertices (regions are compact). */
export function labelPoint(g: Geometry): [number, number] | null {
  const ring = polygons(g)[0]?.[0];
  if (!ring?.length) return null;
  const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
  let sx = 0;
  let sy = 0;
  for (const [x = 0, y = 0] of pts) {
    sx += x;
    sy += y;
  }
  return [sx / pts.length, sy / pts.length];
}

/** Ray casting: is [lng, lat] inside the geometry's outer rings? */
export function contains(g: Geometry, [x, y]: [number, number]): boolean {
  for (const poly of polygons(g)) {
    const ring = poly[0] ?? [];
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi = 0, yi = 0] = ring[i]!;
      const [xj = 0, yj = 0] = ring[j]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    if (inside) return true;
  }
  return false;
}
