/**
 * The area candidate source: what is popular around a location this week and at this hour of
 * week, by tiers of distance, cached for at most the serving cache TTL.
 */
import { cellToLatLng, latLngToCell } from 'h3-js';
import type { DataSource } from 'typeorm';
import type { GeoPoint } from '../common/geo';
import { TtlCache } from '../common/ttl-cache';
import { hourOfWeek } from './next-item-features';
import { type AreaPopularityRow, PopularityRepository } from './popularity.repository';
import { RegionActivity } from './region-activity';

/**
 * Area popularity tiers: within 5 km of the location, then within 50 km, then everywhere, each
 * consulted only when the previous ones gave fewer candidates than the list needs (sparse areas,
 * cold start). A wider tier's activity counts less (weight), so nearby popularity ranks first.
 */
export const AREA_TIERS: readonly { readonly radiusKm: number | null; readonly weight: number }[] = [
  { radiusKm: 5, weight: 1 },
  { radiusKm: 50, weight: 0.5 },
  { radiusKm: null, weight: 0.25 },
];
/**
 * The 5 and 50 km tiers are summed in memory from per-(product, H3 r9 cell) activity of a region:
 * everything within REGION_RADIUS_KM of the centre of the H3 resolution-3 cell (edge ≈60 km, at
 * most ≈85 km from centre to corner) holding the location, read once per region and cache TTL
 * (single-flight). Exact to a resolution-9 cell (≈0.2 km). A region is about a metropolitan area:
 * the query's cost is set by the week of events it reads, not by the area, so few large regions
 * cost the database far less than many small ones (the test demo users' last locations fall in 62
 * res-5 cells but 13 res-3 cells).
 */
const REGION_H3_RESOLUTION = 3;
const REGION_RADIUS_KM = 50 + 90;
const AREA_CANDIDATES = 60;
/** Requests whose `at` is this close to the clock read the shared "live" area caches. */
const LIVE_WINDOW_MS = 60_000;

export interface AreaHit extends AreaPopularityRow {
  /** The tier the product was found in; null = everywhere. */
  readonly radiusKm: number | null;
}

export class AreaPopularity {
  private readonly popularity: PopularityRepository;
  private readonly globalCache: TtlCache<string, AreaPopularityRow[]>;
  private readonly regionCache: TtlCache<string, RegionActivity>;

  constructor(ds: DataSource, cacheTtlMs: number) {
    this.popularity = new PopularityRepository(ds);
    this.globalCache = new TtlCache(cacheTtlMs, 5_000);
    this.regionCache = new TtlCache(cacheTtlMs, 1_000);
  }

  /** Drops the cached aggregates of users' events (called when a user is erased). */
  clear(): void {
    this.globalCache.clear();
    this.regionCache.clear();
  }

  /**
   * Area popularity around the H3 cell of `center` by tier (AREA_TIERS), until `need` products
   * are found; each product keeps its nearest tier. Cached per cell and tier for the TTL.
   */
  async around(center: GeoPoint | null, at: Date, need: number): Promise<AreaHit[]> {
    const how = hourOfWeek(at);
    // Requests about the present share one entry per key (refreshed ahead, so they never wait for
    // a reload); a request about another time gets entries of its own minute.
    const stamp = Math.abs(at.getTime() - Date.now()) < LIVE_WINDOW_MS ? 'live' : String(Math.floor(at.getTime() / 60_000));
    const hits = new Map<string, AreaHit>();
    const add = (rows: readonly AreaPopularityRow[], tier: (typeof AREA_TIERS)[number]) => {
      for (const r of rows) {
        if (!hits.has(r.productId)) {
          hits.set(r.productId, { productId: r.productId, weekScore: r.weekScore * tier.weight, hourScore: r.hourScore * tier.weight, radiusKm: tier.radiusKm });
        }
      }
    };
    for (const tier of AREA_TIERS) {
      if (tier.radiusKm === null) {
        add(await this.globalCache.getOrLoad(`global|${how}|${stamp}`, () => this.popularity.area(null, 0, at, how, AREA_CANDIDATES)), tier);
      } else if (center) {
        add((await this.region(center, at, how, stamp)).top(center, tier.radiusKm, AREA_CANDIDATES), tier);
      }
      if (hits.size >= need) break;
    }
    return [...hits.values()];
  }

  /** Per-(product, r9 cell) activity around the region of `center`, grouped by cell with its centre; cached per region. */
  private region(center: GeoPoint, at: Date, how: number, stamp: string): Promise<RegionActivity> {
    const cell = latLngToCell(center.latitude, center.longitude, REGION_H3_RESOLUTION);
    return this.regionCache.getOrLoad(`${cell}|${how}|${stamp}`, async () => {
      const [lat, lng] = cellToLatLng(cell);
      return new RegionActivity(await this.popularity.cellActivity({ latitude: lat, longitude: lng }, REGION_RADIUS_KM, at, how));
    });
  }
}
