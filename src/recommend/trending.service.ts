/**
 * Trending products around a point: weighted activity (view 1, favorite 2, cart 3, purchase 5)
 * in the last window, with the change against the window before. No model involved; results are
 * cached for at most the serving cache TTL.
 */
import type { DataSource } from 'typeorm';
import type { ProductEntity } from '../catalog/product.entity';
import type { ProductService } from '../catalog/product.service';
import { IssueCollector } from '../common/errors';
import { checkPoint, type GeoPoint, MIN_PUBLIC_RADIUS_KM, snapToPublicGrid } from '../common/geo';
import { TtlCache } from '../common/ttl-cache';
import { PopularityRepository, type TrendingRow } from './popularity.repository';
import { checkFirst } from './recommend-args';

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

/**
 * What restricted callers (every key but admin: partners, frontend keys, anonymous ones) may ask
 * and see (docs/privacy.md). A tiny radius around one person's position with a short window used
 * to list that person's products with `users: 1`.
 */
export interface TrendingPrivacy {
  /** A product is shown only when at least this many distinct users are behind it in the window. */
  readonly minUsers: number;
  /** Smallest radius, km; smaller ones are refused. */
  readonly minRadiusKm: number;
}

const HOUR_MS = 3_600_000;

export class TrendingService {
  private readonly popularity: PopularityRepository;
  private readonly cache: TtlCache<string, TrendingRow[]>;

  constructor(
    ds: DataSource,
    private readonly products: ProductService,
    cacheTtlMs: number,
    /** The rule for every caller but admins. Defaults to k = 10 and a 2 km floor. */
    private readonly restricted: TrendingPrivacy = { minUsers: 10, minRadiusKm: MIN_PUBLIC_RADIUS_KM },
  ) {
    this.popularity = new PopularityRepository(ds);
    this.cache = new TtlCache(cacheTtlMs, 2_000);
  }

  /** What a caller of this role may see: admins in full, everyone else under the restricted rule. */
  privacyFor(role: string): TrendingPrivacy | null {
    return role === 'admin' ? null : this.restricted;
  }

  /** Drops cached results, which count users' events (called when a user is erased). */
  clearCache(): void {
    this.cache.clear();
  }

  /**
   * `privacy` null: full access (admins). Otherwise the radius has a floor, the window ends on a
   * whole hour, the centre snaps to a ~1 km grid and products need `minUsers` distinct users, so
   * two nearby circles or cut times cannot isolate one person's activity.
   */
  async trending(args: TrendingArgs, privacy: TrendingPrivacy | null = null): Promise<TrendingProductData[]> {
    const issues = new IssueCollector();
    checkPoint(args.near, 'near', issues);
    const radiusKm = args.radiusKm ?? 5;
    if (!Number.isFinite(radiusKm) || radiusKm <= 0 || radiusKm > MAX_TRENDING_RADIUS_KM) {
      issues.add('radiusKm', `must be greater than 0 and at most ${MAX_TRENDING_RADIUS_KM}`);
    } else if (privacy && radiusKm < privacy.minRadiusKm) {
      issues.add('radiusKm', `must be at least ${privacy.minRadiusKm} (smaller areas could single out one person)`);
    }
    const first = checkFirst(args.first, issues);
    let at = args.at ?? new Date();
    let near = args.near;
    if (privacy) {
      at = new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
      near = snapToPublicGrid(near);
    }
    if (!Number.isFinite(at.getTime())) issues.add('at', 'is not a valid time');
    const windowName = args.window ?? 'WEEK';
    if (!(windowName in TRENDING_WINDOWS)) issues.add('window', `must be one of ${Object.keys(TRENDING_WINDOWS).join(', ')}`);
    issues.throwIfAny();

    const minUsers = privacy?.minUsers ?? 1;
    const key = [near.latitude, near.longitude, radiusKm, windowName, first, Math.floor(at.getTime() / 1000), minUsers].join('|');
    const rows = await this.cache.getOrLoad(key, () =>
      this.popularity.trending(near, radiusKm, at, TRENDING_WINDOWS[windowName], first, minUsers),
    );
    const products = await this.products.cachedByIds(rows.map((r) => r.productId));
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
