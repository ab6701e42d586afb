/**
 * Recommendations: candidates from the sequential (next-item) model, items similar to the user's
 * recent ones (item embeddings) and what is popular around the request location; re-ranked with
 * context (area activity this week and at this hour of week), review sentiment and ratings, and
 * business rules (rerank.ts); each with a reason. A user without events gets area/time popularity.
 *
 * Everything about the user is read fresh per call; product rows, ratings, area popularity and
 * sentiment summaries are cached for at most the serving cache TTL (2 s by default). Users
 * resolved together share every query and one model run.
 */
import { cellToLatLng, latLngToCell } from 'h3-js';
import type { DataSource } from 'typeorm';
import type { ProductEntity } from '../catalog/product.entity';
import type { ProductService } from '../catalog/product.service';
import type { RatingSummaryData, ReviewService } from '../catalog/review.service';
import { IssueCollector, NotFoundError } from '../common/errors';
import { checkPoint, type GeoPoint } from '../common/geo';
import type { Logger } from '../common/logger';
import { TtlCache } from '../common/ttl-cache';
import type { LoadedModel } from '../inference/loaded-model';
import type { ItemEmbeddings, ItemVocabulary, NextItemManifest } from './next-item.kind';
import type { ModelRegistry } from '../inference/model-registry';
import { type Feeds, int64 } from '../inference/tensor';
import type { SentimentSummaryData, TextClassifierService } from '../nlp/text-classifier.service';
import { mostSimilarMemo } from './item-similarity';
import { cellBucket, hourOfWeek, itemSequence } from './next-item-features';
import { type AreaPopularityRow, PopularityRepository } from './popularity.repository';
import { RegionActivity } from './region-activity';
import { type Candidate, rerank } from './rerank';
import { type UserContext, UserContextReader, type UserWithContext } from './user-context.reader';

export type { UserContext, UserWithContext } from './user-context.reader';

export interface RecommendFilterData {
  /** Category ids or names. */
  readonly categories?: readonly string[] | null;
  readonly priceRange?: { readonly min?: number | null; readonly max?: number | null } | null;
  readonly inStockOnly?: boolean | null;
  readonly excludePurchased?: boolean | null;
  readonly excludeProductIds?: readonly string[] | null;
}

export interface RecommendArgs {
  readonly first?: number | null;
  readonly near?: GeoPoint | null;
  readonly at?: Date | null;
  readonly filter?: RecommendFilterData | null;
}

export type RecommendationSource = 'sequential' | 'similar' | 'area';
const SOURCES: readonly RecommendationSource[] = ['sequential', 'similar', 'area'];
/** Candidate sources as bits while gathering (hundreds of candidates per user, a few kept). */
const SOURCE_BIT: Readonly<Record<RecommendationSource, number>> = { sequential: 1, similar: 2, area: 4 };

export interface RecommendationData {
  readonly product: ProductEntity;
  readonly score: number;
  readonly reason: string;
  readonly reasons: readonly string[];
  readonly sources: readonly RecommendationSource[];
}

export const MAX_FIRST = 100;
export const DEFAULT_FIRST = 10;
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
const SIMILAR_SEEDS = 3;
const SIMILAR_PER_SEED = 20;
/** Events read per user for the sequence: dedupe and non-item events need more than L. */
const HISTORY_FACTOR = 4;
/** Requests whose `at` is this close to the clock read the shared "live" area caches. */
const LIVE_WINDOW_MS = 60_000;
/** Requests may look this far ahead of the clock (client skew). */
const FUTURE_SKEW_MS = 5 * 60_000;

interface NormalizedArgs {
  readonly first: number;
  readonly near: GeoPoint | null;
  readonly at: Date;
  readonly categories: readonly string[] | null;
  readonly minPrice: number | null;
  readonly maxPrice: number | null;
  readonly inStockOnly: boolean;
  readonly excludePurchased: boolean;
  readonly excludeIds: ReadonlySet<string>;
}

interface AreaHit extends AreaPopularityRow {
  /** The tier the product was found in; null = everywhere. */
  readonly radiusKm: number | null;
}

/** `first` within 1..MAX_FIRST (default when absent); an issue naming `path` otherwise. */
export function checkFirst(first: number | null | undefined, issues: IssueCollector, path = 'first', def = DEFAULT_FIRST): number {
  if (first === null || first === undefined) return def;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    issues.add(path, `must be an integer between 1 and ${MAX_FIRST}`);
    return def;
  }
  return first;
}

export class RecommendationService {
  private readonly popularity: PopularityRepository;
  private readonly areaCache: TtlCache<string, AreaPopularityRow[]>;
  private readonly regionCache: TtlCache<string, RegionActivity>;
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
    this.popularity = new PopularityRepository(ds);
    this.reader = new UserContextReader(ds);
    this.areaCache = new TtlCache(cacheTtlMs, 5_000);
    this.regionCache = new TtlCache(cacheTtlMs, 1_000);
    this.ratingCache = new TtlCache(cacheTtlMs, 50_000);
  }

  /** Drops the caches aggregating users' events and reviews (called when a user is erased). */
  clearCaches(): void {
    this.areaCache.clear();
    this.regionCache.clear();
    this.ratingCache.clear();
  }

  async recommend(userId: string, args: RecommendArgs = {}): Promise<RecommendationData[]> {
    const [r] = await this.recommendMany([userId], args);
    if (r instanceof Error) throw r;
    return r!;
  }

  /**
   * In key order; an unknown user gets a NotFoundError in its place (DataLoader semantics).
   * `prefetched` contexts (read with the user row, see usersWithContexts) are used when they were
   * read for the same instant and enough events; the other users are read here.
   */
  async recommendMany(
    userIds: readonly string[],
    args: RecommendArgs = {},
    prefetched?: ReadonlyMap<string, UserContext>,
  ): Promise<(RecommendationData[] | Error)[]> {
    const a = await this.normalize(args);
    return this.models.use('next-item', async (model) => {
      const lastN = (model.manifest as NextItemManifest).maxLen * HISTORY_FACTOR;
      const usable = (c: UserContext | undefined) => (c && c.at === a.at.getTime() && c.lastN >= lastN ? c : undefined);
      const ready = userIds.map((id) => usable(prefetched?.get(id)));
      const todo = userIds.filter((_, i) => !ready[i]);
      const read = todo.length ? await this.userContexts(todo, a.at, lastN) : [];
      const readById = new Map(todo.map((id, i) => [id, read[i] ?? null]));
      const contexts = userIds.map((id, i) => ready[i] ?? readById.get(id) ?? null);
      const known = contexts.filter((c): c is UserContext => c !== null);
      const perUser = known.length ? await this.rankUsers(known, a, model) : new Map<string, RecommendationData[]>();
      return userIds.map((id, i) => (contexts[i] ? perUser.get(id)! : new NotFoundError('User', id)));
    });
  }

  // ------------------------------------------------------------------ validation

  private async normalize(args: RecommendArgs): Promise<NormalizedArgs> {
    const issues = new IssueCollector();
    const first = checkFirst(args.first, issues);
    if (args.near) checkPoint(args.near, 'near', issues);
    const at = args.at ?? new Date();
    if (!Number.isFinite(at.getTime())) issues.add('at', 'is not a valid time');
    else if (at.getTime() > Date.now() + FUTURE_SKEW_MS) issues.add('at', 'must not be in the future');
    const f = args.filter ?? {};
    const min = f.priceRange?.min ?? null;
    const max = f.priceRange?.max ?? null;
    if (min !== null && (!Number.isFinite(min) || min < 0)) issues.add('filter.priceRange.min', 'must be a number ≥ 0');
    if (max !== null && (!Number.isFinite(max) || max < 0)) issues.add('filter.priceRange.max', 'must be a number ≥ 0');
    if (min !== null && max !== null && min > max) issues.add('filter.priceRange.min', 'must not exceed max');
    (f.excludeProductIds ?? []).forEach((id, i) => {
      if (!/^\d{1,18}$/.test(id)) issues.add(`filter.excludeProductIds[${i}]`, 'is not a valid id');
    });
    if ((f.excludeProductIds ?? []).length > 1000) issues.add('filter.excludeProductIds', 'at most 1000 ids');
    let categories: string[] | null = null;
    if (f.categories && f.categories.length) {
      const all = await this.products.cachedCategories();
      categories = [];
      f.categories.forEach((c, i) => {
        const hit = all.find((row) => row.id === c || row.name.toLowerCase() === c.trim().toLowerCase());
        if (!hit) issues.add(`filter.categories[${i}]`, `unknown category "${c}"`);
        else categories!.push(hit.id);
      });
    }
    issues.throwIfAny();
    return {
      first,
      near: args.near ?? null,
      at,
      categories,
      minPrice: min,
      maxPrice: max,
      inStockOnly: f.inStockOnly ?? false,
      excludePurchased: f.excludePurchased ?? false,
      excludeIds: new Set(f.excludeProductIds ?? []),
    };
  }

  // ------------------------------------------------------------------ reads

  /** Users, their latest events and their purchases, in one statement (fresh on every call). */
  private async userContexts(userIds: readonly string[], at: Date, lastN: number): Promise<(UserContext | null)[]> {
    return (await this.reader.read(userIds, at, lastN)).map((r) => r?.context ?? null);
  }

  /**
   * User rows with their recommendation contexts as of `at`, in key order (null for unknown ids):
   * for `user(id) { recommendations }`, which would otherwise read the user twice in two statements.
   */
  usersWithContexts(userIds: readonly string[], at: Date): Promise<(UserWithContext | null)[]> {
    return this.reader.read(userIds, at, this.historyLength());
  }

  /** Latest events a context needs: the serving next-item model's L × HISTORY_FACTOR (L = 50 while none serves). */
  private historyLength(): number {
    const maxLen = Number(this.models.active('next-item')?.manifest.max_len);
    return (Number.isInteger(maxLen) && maxLen > 0 ? maxLen : 50) * HISTORY_FACTOR;
  }

  /**
   * Area popularity around the H3 cell of `center` by tier (area-tiers above), until `need`
   * products are found; each product keeps its nearest tier. Cached per cell and tier for the TTL.
   */
  private async area(center: GeoPoint | null, at: Date, need: number): Promise<AreaHit[]> {
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
        add(await this.areaCache.getOrLoad(`global|${how}|${stamp}`, () => this.popularity.area(null, 0, at, how, AREA_CANDIDATES)), tier);
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

  // ------------------------------------------------------------------ ranking

  private async rankUsers(users: readonly UserContext[], a: NormalizedArgs, model: LoadedModel): Promise<Map<string, RecommendationData[]>> {
    const m = model.manifest as NextItemManifest;
    if (model.assets.kind !== 'next-item') throw new Error('next-item model without item assets');
    const { vocabulary, embeddings } = model.assets;
    const how = hourOfWeek(a.at);

    const prepared = users.map((u) => {
      const seq = itemSequence(u.events, m, vocabulary.indexOf);
      const lastLoc = [...u.events].reverse().find((e) => e.lat !== null && e.lng !== null);
      const location = a.near ?? (lastLoc ? { latitude: lastLoc.lat!, longitude: lastLoc.lng! } : u.home);
      const lastItem = [...u.events].reverse().find((e) => e.productId && seq.productIds.includes(e.productId)) ?? null;
      return { u, seq, location, lastItem };
    });

    // Sequential candidates (one model run for every user with a history; cold users skip it) and
    // area popularity are independent: both run at once.
    const warm = prepared.filter((p) => p.seq.productIds.length > 0);
    const need = Math.max(3 * a.first, 30);
    const [seqScores, areas] = await Promise.all([
      warm.length ? this.runNextItem(model, m, warm.map((p) => ({ seq: p.seq.seq, location: p.location })), how) : Promise.resolve([]),
      Promise.all(prepared.map((p) => this.area(p.location, a.at, need))),
    ]);

    // Gather every product any user might see, plus names of the items reasons mention.
    const perUserCandidates = prepared.map((p, i) => {
      const cands = new Map<string, { seqProb: number; similarity: number; similarTo: string | null; sources: number }>();
      const touch = (id: string) => {
        let c = cands.get(id);
        if (!c) cands.set(id, (c = { seqProb: 0, similarity: 0, similarTo: null, sources: 0 }));
        return c;
      };
      const seen = new Set(p.seq.productIds);
      const w = warm.indexOf(p);
      if (w >= 0) {
        for (const { productId, prob } of seqScores[w]!) {
          if (seen.has(productId)) continue; // the model does not exclude history; recommend what comes next
          const c = touch(productId);
          c.seqProb = prob;
          c.sources |= SOURCE_BIT.sequential;
        }
        const seeds = [...new Set([...p.seq.productIds].reverse())].slice(0, SIMILAR_SEEDS);
        for (const seed of seeds) {
          for (const s of mostSimilarMemo(embeddings, vocabulary.indexOf.get(seed)!, SIMILAR_PER_SEED)) {
            const id = vocabulary.items[s.index]!;
            if (seen.has(id)) continue;
            const c = touch(id);
            if (s.similarity > c.similarity) {
              c.similarity = s.similarity;
              c.similarTo = seed;
            }
            c.sources |= SOURCE_BIT.similar;
          }
        }
      }
      for (const row of areas[i]!) touch(row.productId).sources |= SOURCE_BIT.area;
      return cands;
    });

    const ids = new Set<string>();
    perUserCandidates.forEach((c) => c.forEach((_, id) => ids.add(id)));
    prepared.forEach((p) => p.seq.productIds.forEach((id) => ids.add(id)));
    const idList = [...ids];
    const [productRows, ratings, sentiments] = await Promise.all([
      this.products.cachedByIds(idList),
      this.ratings(idList),
      this.sentimentSummaries(idList),
    ]);
    const productById = new Map<string, ProductEntity>();
    productRows.forEach((p) => p && productById.set(p.id, p));
    const ratingById = new Map(idList.map((id, i) => [id, ratings[i]!]));
    const sentimentById = new Map(idList.map((id, i) => [id, sentiments[i] ?? null]));

    const out = new Map<string, RecommendationData[]>();
    prepared.forEach((p, i) => {
      const areaById = new Map(areas[i]!.map((r) => [r.productId, r]));
      const candidates: Candidate[] = [];
      for (const [id, c] of perUserCandidates[i]!) {
        const product = productById.get(id);
        if (!product || !this.passes(product, p.u, a)) continue;
        const rating = ratingById.get(id)!;
        const sentiment = sentimentById.get(id) ?? null;
        const area = areaById.get(id);
        candidates.push({
          productId: id,
          name: product.name,
          categoryId: product.categoryId,
          stock: product.stock,
          seqProb: c.seqProb,
          similarity: c.similarity,
          similarTo: c.similarTo ? (productById.get(c.similarTo)?.name ?? null) : null,
          weekScore: area?.weekScore ?? 0,
          hourScore: area?.hourScore ?? 0,
          areaRadiusKm: area ? area.radiusKm : null,
          sentiment: sentiment?.meanPositive ?? null,
          positiveShare: sentiment?.positiveShare ?? null,
          sentimentReviews: sentiment?.reviewCount ?? 0,
          ratingAverage: rating.average,
          ratingCount: rating.count,
          purchased: p.u.purchased.has(id),
        });
      }
      const ranked = rerank(
        candidates,
        {
          lastItemName: p.lastItem?.productId ? (productById.get(p.lastItem.productId)?.name ?? null) : null,
          lastItemAction: p.lastItem?.type ?? null,
          at: a.at,
        },
        a.first,
      );
      out.set(
        p.u.userId,
        ranked.map((r) => ({
          product: productById.get(r.productId)!,
          score: r.score,
          reason: r.reason,
          reasons: r.reasons,
          sources: SOURCES.filter((src) => (perUserCandidates[i]!.get(r.productId)!.sources & SOURCE_BIT[src]) !== 0),
        })),
      );
    });
    return out;
  }

  /** Business-rule filters; purchased items are penalised in rerank when not excluded here. */
  private passes(p: ProductEntity, u: UserContext, a: NormalizedArgs): boolean {
    if (a.excludeIds.has(p.id)) return false;
    if (a.excludePurchased && u.purchased.has(p.id)) return false;
    if (a.inStockOnly && p.stock <= 0) return false;
    if (a.minPrice !== null && p.price < a.minPrice) return false;
    if (a.maxPrice !== null && p.price > a.maxPrice) return false;
    if (a.categories && (!p.categoryId || !a.categories.includes(p.categoryId))) return false;
    return true;
  }

  /** Rating summaries of candidates, cached for the TTL; one query for the misses. */
  private ratings(ids: readonly string[]): Promise<RatingSummaryData[]> {
    return this.ratingCache.getMany(ids, (missing) => this.reviews.ratingSummaries(missing));
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

  /** Top-K next items per user as product ids with probabilities. */
  private async runNextItem(
    model: LoadedModel,
    m: NextItemManifest,
    rows: readonly { seq: BigInt64Array; location: GeoPoint | null }[],
    how: number,
  ): Promise<{ productId: string; prob: number }[][]> {
    const vocabulary = (model.assets as { vocabulary: ItemVocabulary }).vocabulary;
    const B = rows.length;
    const L = m.maxLen;
    const seq = new BigInt64Array(B * L);
    rows.forEach((r, i) => seq.set(r.seq, i * L));
    const names = new Set(m.inputs.map((s) => s.name));
    const feeds: Record<string, Feeds[string]> = { item_seq: int64(seq, [B, L]) };
    if (names.has('hour_of_week')) feeds.hour_of_week = int64(new BigInt64Array(B).fill(BigInt(how)), [B]);
    if (names.has('cell')) {
      feeds.cell = int64(
        BigInt64Array.from(rows, (r) => BigInt(cellBucket(r.location?.latitude ?? null, r.location?.longitude ?? null, m.context.nCells, m.context.cellDeg))),
        [B],
      );
    }
    const out = await model.run(feeds);
    const ids = out.top_ids!;
    const scores = out.top_scores!;
    const K = ids.dims[1]!;
    return rows.map((_, i) => {
      const list: { productId: string; prob: number }[] = [];
      for (let k = 0; k < K; k++) {
        const id = vocabulary.items[Number(ids.data[i * K + k])];
        if (id) list.push({ productId: id, prob: Math.exp(Number(scores.data[i * K + k])) });
      }
      return list;
    });
  }

  // ------------------------------------------------------------------ similar items

  /** Products most similar to each product by item-embedding cosine, in key order; [] for items the model does not know. */
  async similarMany(productIds: readonly string[], first: number): Promise<{ product: ProductEntity; similarity: number }[][]> {
    const issues = new IssueCollector();
    const k = checkFirst(first, issues);
    issues.throwIfAny();
    return this.models.use('next-item', async (model) => {
      if (model.assets.kind !== 'next-item') throw new Error('next-item model without item assets');
      const { vocabulary, embeddings } = model.assets;
      // Ask for a few more than needed: items missing from the catalog are dropped below.
      const lists = productIds.map((id) => similarIds(vocabulary, embeddings, id, k + 10));
      const all = [...new Set(lists.flat().map((s) => s.id))];
      const rows = await this.products.cachedByIds(all);
      const byId = new Map<string, ProductEntity>();
      rows.forEach((p) => p && byId.set(p.id, p));
      return lists.map((list) =>
        list.filter((s) => byId.has(s.id)).slice(0, k).map((s) => ({ product: byId.get(s.id)!, similarity: s.similarity })),
      );
    });
  }
}

function similarIds(vocabulary: ItemVocabulary, embeddings: ItemEmbeddings, productId: string, k: number) {
  const idx = vocabulary.indexOf.get(productId);
  if (idx === undefined) return [];
  return mostSimilarMemo(embeddings, idx, k).map((s) => ({ id: vocabulary.items[s.index]!, similarity: s.similarity }));
}
