/**
 * A region's product activity per H3 resolution-9 cell, held for radius sums around any point in
 * it: each cell keeps its centre and its rows as product indices and scores in typed arrays, so a
 * sum over the cells within a radius adds numbers into one reused array instead of building a map
 * of strings per request (this runs for every recommendation request, twice).
 */
import { cellToLatLng } from 'h3-js';
import { haversineMeters, type GeoPoint } from '../common/geo';
import type { AreaPopularityRow, CellActivityRow } from './popularity.repository';

interface Cell {
  readonly centre: GeoPoint;
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
      return {
        centre: { latitude, longitude },
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
    const meters = radiusKm * 1000;
    const touched: number[] = [];
    for (const cell of this.cells) {
      if (haversineMeters(center, cell.centre) > meters) continue;
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
    const hits = touched.filter((p) => this.week[p]! > 0 || this.hour[p]! > 0);
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

/** String order of ids, as the ranking's last tie-break has always been. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
