/**
 * A region's product activity per H3 resolution-9 cell, held for radius sums around any point in
 * it: each cell keeps its centre (as a unit vector) and its rows as product indices and scores in
 * typed arrays, so a sum over the cells within a radius adds numbers into one reused array instead
 * of building a map of strings per request (this runs for every recommendation request, twice).
 *
 * A cell counts when the great-circle distance from the point to its centre is at most the radius,
 * tested as a dot product of unit vectors against cos(radius / R): the same test as haversine's,
 * without trigonometry per cell.
 */
import { cellToLatLng } from 'h3-js';
import { type GeoPoint, EARTH_RADIUS_M } from '../common/geo';
import type { AreaPopularityRow, CellActivityRow } from './popularity.repository';

interface Cell {
  /** The centre as a unit vector. */
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly product: Int32Array; // index into RegionActivity.products
  readonly week: Float64Array;
  readonly hour: Float64Array;
}

export class RegionActivity {
  private readonly cells: readonly Cell[];
  /** Product ids by index, and each index's rank in id order (the tie-break of the ranking). */
  private readonly products: readonly string[];
  private readonly idRank: Int32Array;
  private readonly week: Float64Array;
  private readonly hour: Float64Array;
  private readonly seen: Uint8Array;

  constructor(rows: readonly CellActivityRow[]) {
    const index = new Map<string, number>();
    const byCell = new Map<string, CellActivityRow[]>();
    for (const r of rows) {
      if (!index.has(r.productId)) index.set(r.productId, index.size);
      const list = byCell.get(r.cell);
      if (list) list.push(r);
      else byCell.set(r.cell, [r]);
    }
    this.products = [...index.keys()];
    const order = this.products.map((_, i) => i).sort((a, b) => compareIds(this.products[a]!, this.products[b]!));
    this.idRank = new Int32Array(this.products.length);
    order.forEach((p, rank) => (this.idRank[p] = rank));
    this.cells = [...byCell].map(([cell, list]) => {
      const [latitude, longitude] = cellToLatLng(BigInt(cell).toString(16));
      const v = unitVector({ latitude, longitude });
      return {
        x: v.x,
        y: v.y,
        z: v.z,
        product: Int32Array.from(list, (r) => index.get(r.productId)!),
        week: Float64Array.from(list, (r) => r.weekScore),
        hour: Float64Array.from(list, (r) => r.hourScore),
      };
    });
    this.week = new Float64Array(this.products.length);
    this.hour = new Float64Array(this.products.length);
    this.seen = new Uint8Array(this.products.length);
  }

  /**
   * The `limit` products with the most activity in the cells whose centres lie within `radiusKm`
   * of `center`: by week score, then hour score, then product id. Synchronous, so the scratch
   * arrays are never shared between two calls.
   */
  top(center: GeoPoint, radiusKm: number, limit: number): AreaPopularityRow[] {
    const c = unitVector(center);
    const angle = (radiusKm * 1000) / EARTH_RADIUS_M;
    const minDot = angle >= Math.PI ? -2 : Math.cos(angle);
    const touched: number[] = [];
    for (const cell of this.cells) {
      if (c.x * cell.x + c.y * cell.y + c.z * cell.z < minDot) continue;
      for (let i = 0; i < cell.product.length; i++) {
        const p = cell.product[i]!;
        if (!this.seen[p]) {
          this.seen[p] = 1;
          touched.push(p);
        }
        this.week[p]! += cell.week[i]!;
        this.hour[p]! += cell.hour[i]!;
      }
    }
    let hits = touched.filter((p) => this.week[p]! > 0 || this.hour[p]! > 0);
    if (hits.length > 2 * limit && limit > 0) {
      // Only products whose week score reaches the limit-th best can be in the answer (ties included).
      const weeks = Float64Array.from(hits, (p) => this.week[p]!).sort();
      const floor = weeks[weeks.length - limit]!;
      hits = hits.filter((p) => this.week[p]! >= floor);
    }
    hits.sort((a, b) => this.week[b]! - this.week[a]! || this.hour[b]! - this.hour[a]! || this.idRank[a]! - this.idRank[b]!);
    const out = hits.slice(0, limit).map((p) => ({ productId: this.products[p]!, weekScore: this.week[p]!, hourScore: this.hour[p]! }));
    for (const p of touched) {
      this.seen[p] = 0;
      this.week[p] = 0;
      this.hour[p] = 0;
    }
    return out;
  }
}

function unitVector(p: GeoPoint): { x: number; y: number; z: number } {
  const lat = (p.latitude * Math.PI) / 180;
  const lng = (p.longitude * Math.PI) / 180;
  return { x: Math.cos(lat) * Math.cos(lng), y: Math.cos(lat) * Math.sin(lng), z: Math.sin(lat) };
}

/** Plain string order of ids: the ranking's last tie-break. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
