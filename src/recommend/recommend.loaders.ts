/** Per-request DataLoaders for recommendations and similar items: a list of users/products shares one batch. */
import DataLoader from 'dataloader';
import type { ProductEntity } from '../catalog/product.entity';
import type { UserEntity } from '../catalog/user.entity';
import { NotFoundError } from '../common/errors';
import { byKeyLoader, perArgument } from '../graphql/loader-utils';
import type { RecommendArgs, RecommendationData, RecommendationService, UserContext } from './recommendation.service';

export interface RecommendLoaders {
  /** Keyed by user id, per argument set. */
  readonly recommendations: (args: RecommendArgs) => DataLoader<string, RecommendationData[]>;
  /** Keyed by product id, per `first`. */
  readonly similarProducts: (first: number) => DataLoader<string, { product: ProductEntity; similarity: number }[]>;
  /**
   * Keyed by user id: the user row, read in one statement with what this request's
   * recommendations need about the user (for `user(id) { recommendations }`).
   */
  readonly userWithRecommendationContext: DataLoader<string, UserEntity>;
}

export function createRecommendLoaders(s: { recommendations: RecommendationService }): RecommendLoaders {
  // Contexts read with user rows; recommendMany uses one only when it was read for the same instant.
  const prefetched = new Map<string, UserContext>();
  const byArgs = perArgument((key: string) => {
    const args = JSON.parse(key, (k, v: unknown) => (k === 'at' && typeof v === 'string' ? new Date(v) : v)) as RecommendArgs;
    // recommendMany answers NotFoundError in place of an unknown user: DataLoader rejects just that key.
    return new DataLoader<string, RecommendationData[]>((ids) => s.recommendations.recommendMany(ids, args, prefetched), { maxBatchSize: 1000 });
  });
  // One "now" per request, so a list of users is ranked against the same instant (and shares area queries).
  const now = new Date();
  return {
    userWithRecommendationContext: new DataLoader<string, UserEntity>(
      async (ids) =>
        (await s.recommendations.usersWithContexts(ids, now)).map((r, i) => {
          if (!r) return new NotFoundError('User', ids[i]!);
          prefetched.set(r.user.id, r.context);
          return r.user;
        }),
      { maxBatchSize: 1000 },
    ),
    recommendations: (args) => byArgs(JSON.stringify({ ...args, at: args.at ?? now })),
    similarProducts: perArgument((first: number) => byKeyLoader((ids) => s.recommendations.similarMany(ids, first))),
  };
}
