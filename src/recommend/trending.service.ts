/**
 * Trending products around a point: weighted activity (view 1, favorite 2, cart 3, purchase 5)
 * in the last window, with the change against the window before. No model involved; results are
 * cached for at most the serving cache TTL.
 */
import type { DataSource } from 'typeorm';
import type { ProductEntity } from '../catalog/product.entity';
import type { ProductLookup } from './product-lookup';
import { IssueCollector } from '../common/errors';
import { checkPoint, type GeoPoint } from '../common/geo';
import { TtlCache } from '../inference/ttl-cache';
import { PopularityRepository, type TrendingRow } from './popularity.repository';
import { checkFirst } from './recommendation.service';

export const TRENDING_WINDOWS = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30 * 86_400_000 } as const;
export type TrendingWindowName = keyof typeof TRENDING_WINDOWS;

export interface TrendingArgs {
  readonly near: GeoPoint;
  /** Defaults to 5. */
  readonly radiusKm?: number | null;
  /** Defaults to WEEK. */
  readonly window?: TrendingWindowName | null;
  readonly first?: number | null;
  /** End of the window; defaults to now. */
  readonly at?: Date | null;
}

export interface TrendingProductData {
  readonly product: ProductEntity;
  readonly score: number;
  readonly events: number;
  readonly purchases: number;
  readonly users: number;
  /** (score − previous window's score) / previous; null when the previous window had none. */
  readonly change: number | null;
}

export const MAX_TRENDING_RADIUS_KM = 500;

export class TrendingService {
  private readonly popularity: PopularityRepository;
  private readonly cache: TtlCache<string, TrendingRow[]>;

  constructor(
    ds: DataSource,
    private readonly products: ProductLookup,
    cacheTtlMs: number,
  ) {
    this.popularity = new PopularityRepository(ds);
    this.cache = new TtlCache(cacheTtlMs, 2_000);
  }

  /** Drops cached results, which count users' events (called when a user is erased). */
  clearCache(): void {
    this.cache.clear();
  }

  async trending(args: TrendingArgs): Promise<TrendingProductData[]> {
    const issues = new IssueCollector();
    checkPoint(args.near, 'near', issues);
    const radiusKm = args.radiusKm ?? 5;
    if (!Number.isFinite(radiusKm) || radiusKm <= 0 || radiusKm > MAX_TRENDING_RADIUS_KM) {
      issues.add('radiusKm', `must be greater than 0 and at most ${MAX_TRENDING_RADIUS_KM}`);
    }
    const first = checkFirst(args.first, issues);
    const at = args.at ?? new Date();
    if (!Number.isFinite(at.getTime())) issues.add('at', 'is not a valid time');
    const windowName = args.window ?? 'WEEK';
    if (!(windowName in TRENDING_WINDOWS)) issues.add('window', `must be one of ${Object.keys(TRENDING_WINDOWS).join(', ')}`);
    issues.throwIfAny();

    const key = [args.near.latitude, args.near.longitude, radiusKm, windowName, first, Math.floor(at.getTime() / 1000)].join('|');
    const rows = await this.cache.getOrLoad(key, () =>
      this.popularity.trending(args.near, radiusKm, at, TRENDING_WINDOWS[windowName], first),
    );
    const products = await this.products.byIds(rows.map((r) => r.productId));
    return rows.flatMap((r, i) => {
      const product = products[i];
      if (!product) return [];
      return [{
        product,
        score: r.score,
        events: r.events,
        purchases: r.purchases,
        users: r.users,
        change: r.previousScore > 0 ? (r.score - r.previousScore) / r.previousScore : null,
      }];
    });
  }
}
