/**
 * Recommendations: candidates from the sequential (next-item) model, items similar to the user's
 * recent ones (item embeddings) and what is popular around the request location (candidates.ts);
 * re-ranked with context (area activity this week and at this hour of week), review sentiment and
 * ratings, and business rules (rerank.ts); each with a reason. A user without events gets
 * area/time popularity.
 *
 * Everything about the user is read fresh per request (user-context.reader.ts); product rows,
 * ratings, area popularity and sentiment summaries are cached for at most the serving cache TTL
 * (2 s by default). Users resolved together share every query and one model run.
 */
import type { DataSource } from 'typeorm';
import type { ProductEntity } from '../catalog/product.entity';
import type { ProductService } from '../catalog/product.service';
import type { RatingSummaryData, ReviewService } from '../catalog/review.service';
import { IssueCollector, NotFoundError } from '../common/errors';
import type { Logger } from '../common/logger';
import { TtlCache } from '../common/ttl-cache';
import type { LoadedModel } from '../inference/loaded-model';
import type { ModelRegistry } from '../inference/model-registry';
import type { SentimentSummaryData, TextClassifierService } from '../nlp/text-classifier.service';
import { AreaPopularity, type AreaHit } from './area-popularity';
import { type CandidateSignals, gatherCandidates, type RecommendationSource, sourcesOf } from './candidates';
import { similarProducts } from './item-similarity';
import { hourOfWeek } from './next-item-features';
import { historyLength, type PreparedUser, prepareUser, runNextItem } from './next-item-runner';
import { checkFirst, type NormalizedArgs, normalizeArgs, passesFilter, type RecommendArgs } from './recommend-args';
import { type Candidate, rerank } from './rerank';
import { type ContextKey, type UserContext, UserContextReader } from './user-context.reader';

export type { RecommendationSource } from './candidates';
export type { RecommendArgs, RecommendFilterData } from './recommend-args';
export type { ContextKey, UserContext } from './user-context.reader';

export interface RecommendationData {
  readonly product: ProductEntity;
  readonly score: number;
  readonly reason: string;
  readonly reasons: readonly string[];
  readonly sources: readonly RecommendationSource[];
}

/** User contexts for (user, instant) keys, in key order, null for unknown users: the per-request loader, or a fresh read. */
export type ContextSource = (keys: readonly ContextKey[]) => Promise<(UserContext | null)[]>;

/** What ranking reads about all candidates of a batch of users: rows, ratings and sentiment by product id. */
interface CandidateFacts {
  readonly products: ReadonlyMap<string, ProductEntity>;
  readonly ratings: ReadonlyMap<string, RatingSummaryData>;
  readonly sentiments: ReadonlyMap<string, SentimentSummaryData | null>;
}

/** One user's candidates, ready to rank. */
interface UserCandidates {
  readonly user: PreparedUser;
  readonly signals: ReadonlyMap<string, CandidateSignals>;
  readonly area: readonly AreaHit[];
}

export class RecommendationService {
  private readonly area: AreaPopularity;
  private readonly ratingCache: TtlCache<string, RatingSummaryData>;
  private readonly reader: UserContextReader;

  constructor(
    ds: DataSource,
    private readonly models: ModelRegistry,
    private readonly products: ProductService,
    private readonly reviews: ReviewService,
    private readonly text: TextClassifierService,
    cacheTtlMs: number,
    private readonly logger: Logger,
  ) {
    this.area = new AreaPopularity(ds, cacheTtlMs);
    this.reader = new UserContextReader(ds);
    this.ratingCache = new TtlCache(cacheTtlMs, 50_000);
  }

  /** Drops the caches aggregating users' events and reviews (called when a user is erased). */
  clearCaches(): void {
    this.area.clear();
    this.ratingCache.clear();
  }

  /**
   * In key order; an unknown user gets a NotFoundError in its place (DataLoader semantics).
   * `contexts` answers what is known about each user as of the request's instant: the request's
   * context loader (recommend.loaders.ts), which reads a (user, instant) once per request.
   */
  async recommendMany(
    userIds: readonly string[],
    args: RecommendArgs = {},
    contexts: ContextSource = (keys) => this.userContexts(keys),
  ): Promise<(RecommendationData[] | Error)[]> {
    const a = await normalizeArgs(args, () => this.products.cachedCategories());
    const keys = userIds.map((userId) => ({ userId, at: a.at }));
    const read = await contexts(keys);
    return this.models.use('next-item', async (model) => {
      // A context read for a shorter history (another model version was serving then) is read again.
      const lastN = historyLength(model.manifest);
      const short = keys.filter((_, i) => read[i] && read[i].lastN < lastN);
      const reread = short.length ? await this.reader.read(short, lastN) : [];
      const again = new Map(short.map((k, i) => [k.userId, reread[i] ?? null]));
      const users = userIds.map((id, i) => (again.has(id) ? again.get(id)! : read[i]!));
      const known = users.filter((c): c is UserContext => c !== null);
      const perUser = known.length ? await this.rankUsers(known, a, model) : new Map<string, RecommendationData[]>();
      return userIds.map((id, i) => (users[i] ? perUser.get(id)! : new NotFoundError('User', id)));
    });
  }

  /** Users as of instants (fresh; reads of the same event-loop turn share one statement), with the serving model's history length. */
  userContexts(keys: readonly ContextKey[]): Promise<(UserContext | null)[]> {
    return this.models.use('next-item', (model) => this.reader.read(keys, historyLength(model.manifest)));
  }

  /** Products most similar to each product by item-embedding cosine, in key order; [] for items the model does not know. */
  async similarMany(productIds: readonly string[], first: number): Promise<{ product: ProductEntity; similarity: number }[][]> {
    const issues = new IssueCollector();
    const k = checkFirst(first, issues);
    issues.throwIfAny();
    return this.models.use('next-item', async (model) => {
      // Ask for a few more than needed: items missing from the catalog are dropped below.
      const lists = productIds.map((id) => similarProducts(model.assets, id, k + 10));
      const byId = await this.productMap([...new Set(lists.flat().map((s) => s.id))]);
      return lists.map((list) =>
        list.filter((s) => byId.has(s.id)).slice(0, k).map((s) => ({ product: byId.get(s.id)!, similarity: s.similarity })),
      );
    });
  }

  // ------------------------------------------------------------------ ranking

  private async rankUsers(users: readonly UserContext[], a: NormalizedArgs, model: LoadedModel<'next-item'>): Promise<Map<string, RecommendationData[]>> {
    const prepared = users.map((u) => prepareUser(u, a.near, model));
    // Sequential candidates (one model run for every user with a history; cold users skip it) and
    // area popularity are independent: both run at once.
    const need = Math.max(3 * a.first, 30);
    const [next, areas] = await Promise.all([
      runNextItem(model, prepared, hourOfWeek(a.at)),
      Promise.all(prepared.map((p) => this.area.around(p.location, a.at, need))),
    ]);
    const perUser: UserCandidates[] = prepared.map((p, i) => ({
      user: p,
      signals: gatherCandidates(p.seq.productIds, next[i]!, model.assets, areas[i]!),
      area: areas[i]!,
    }));
    const facts = await this.candidateFacts(perUser);
    return new Map(perUser.map((c) => [c.user.context.userId, this.rankOne(c, facts, a)]));
  }

  /** Rows, ratings and sentiment of every product any user might see, plus the items reasons mention. */
  private async candidateFacts(perUser: readonly UserCandidates[]): Promise<CandidateFacts> {
    const ids = new Set<string>();
    for (const c of perUser) {
      c.signals.forEach((_, id) => ids.add(id));
      c.user.seq.productIds.forEach((id) => ids.add(id));
    }
    const idList = [...ids];
    const [products, ratings, sentiments] = await Promise.all([
      this.productMap(idList),
      this.ratingCache.getMany(idList, (missing) => this.reviews.ratingSummaries(missing)),
      this.sentimentSummaries(idList),
    ]);
    return {
      products,
      ratings: new Map(idList.map((id, i) => [id, ratings[i]!])),
      sentiments: new Map(idList.map((id, i) => [id, sentiments[i] ?? null])),
    };
  }

  /** One user's candidates that pass the filters, re-ranked, the best `first`. */
  private rankOne({ user, signals, area }: UserCandidates, facts: CandidateFacts, a: NormalizedArgs): RecommendationData[] {
    const { products } = facts;
    const areaById = new Map(area.map((r) => [r.productId, r]));
    const candidates: Candidate[] = [];
    for (const [id, c] of signals) {
      const product = products.get(id);
      if (!product || !passesFilter(product, user.context.purchased, a)) continue;
      candidates.push(candidate(product, c, areaById.get(id), facts, user.context.purchased.has(id)));
    }
    const lastId = user.lastItem?.productId;
    const ranked = rerank(
      candidates,
      { lastItemName: lastId ? (products.get(lastId)?.name ?? null) : null, lastItemAction: user.lastItem?.type ?? null, at: a.at },
      a.first,
    );
    return ranked.map((r) => ({
      product: products.get(r.productId)!,
      score: r.score,
      reason: r.reason,
      reasons: r.reasons,
      sources: sourcesOf(signals.get(r.productId)!),
    }));
  }

  private async productMap(ids: readonly string[]): Promise<Map<string, ProductEntity>> {
    const byId = new Map<string, ProductEntity>();
    for (const p of await this.products.cachedByIds(ids)) if (p) byId.set(p.id, p);
    return byId;
  }

  /** Sentiment is an optional ranking signal: without a sentiment model, ranking goes on without it. */
  private async sentimentSummaries(ids: readonly string[]): Promise<(SentimentSummaryData | null)[]> {
    if (!this.models.isServing('sentiment')) return ids.map(() => null);
    try {
      return await this.text.productSummaries(ids);
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sentiment signal skipped');
      return ids.map(() => null);
    }
  }
}

/** A candidate's ranking inputs: its row, its signals, area activity, rating and sentiment. */
function candidate(product: ProductEntity, c: CandidateSignals, area: AreaHit | undefined, facts: CandidateFacts, purchased: boolean): Candidate {
  const rating = facts.ratings.get(product.id)!;
  const sentiment = facts.sentiments.get(product.id) ?? null;
  return {
    productId: product.id,
    name: product.name,
    categoryId: product.categoryId,
    stock: product.stock,
    seqProb: c.seqProb,
    similarity: c.similarity,
    similarTo: c.similarTo ? (facts.products.get(c.similarTo)?.name ?? null) : null,
    weekScore: area?.weekScore ?? 0,
    hourScore: area?.hourScore ?? 0,
    areaRadiusKm: area ? area.radiusKm : null,
    sentiment: sentiment?.meanPositive ?? null,
    positiveShare: sentiment?.positiveShare ?? null,
    sentimentReviews: sentiment?.reviewCount ?? 0,
    ratingAverage: rating.average,
    ratingCount: rating.count,
    purchased,
  };
}
