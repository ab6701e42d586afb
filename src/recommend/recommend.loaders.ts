/** Per-request DataLoaders for recommendations and similar items: a list of users/products shares one batch. */
import DataLoader from 'dataloader';
import type { ProductEntity } from '../catalog/product.entity';
import { byKeyLoader, perArgument } from '../graphql/loader-utils';
import type { ContextKey, ContextSource, RecommendArgs, RecommendationData, RecommendationService, UserContext } from './recommendation.service';
import { contextKeyOf } from './user-context.reader';

export interface RecommendLoaders {
  /** Keyed by user id, per argument set. */
  readonly recommendations: (args: RecommendArgs) => DataLoader<string, RecommendationData[]>;
  /** Keyed by product id, per `first`. */
  readonly similarProducts: (first: number) => DataLoader<string, { product: ProductEntity; similarity: number }[]>;
  /**
   * Keyed by (user id, instant): what recommendations need about the user as of then (latest
   * events, purchases, home), read once per request whatever the argument sets; null for an
   * unknown user.
   */
  readonly userContext: DataLoader<ContextKey, UserContext | null, string>;
}

export function createRecommendLoaders(s: { recommendations: RecommendationService }): RecommendLoaders {
  const userContext = new DataLoader<ContextKey, UserContext | null, string>((keys) => s.recommendations.userContexts(keys), {
    cacheKeyFn: contextKeyOf,
    maxBatchSize: 1000,
  });
  const contexts: ContextSource = (keys) => Promise.all(keys.map((k) => userContext.load(k)));
  const byArgs = perArgument((key: string) => {
    const args = JSON.parse(key, (k, v: unknown) => (k === 'at' && typeof v === 'string' ? new Date(v) : v)) as RecommendArgs;
    // recommendMany answers NotFoundError in place of an unknown user: DataLoader rejects just that key.
    return new DataLoader<string, RecommendationData[]>((ids) => s.recommendations.recommendMany(ids, args, contexts), { maxBatchSize: 1000 });
  });
  // One "now" per request, so a list of users is ranked against the same instant (and shares area queries and context reads).
  const now = new Date();
  return {
    userContext,
    recommendations: (args) => byArgs(JSON.stringify({ ...args, at: args.at ?? now })),
    similarProducts: perArgument((first: number) => byKeyLoader((ids) => s.recommendations.similarMany(ids, first))),
  };
}
