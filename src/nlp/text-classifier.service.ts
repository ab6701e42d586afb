/**
 * Text classification with the sentiment and intent models: review sentiment, product sentiment
 * summaries, and customer-message intent. Texts of one call run as one batch; results are
 * memoised per (model version, text), which is exact (a model version is immutable), and product
 * summaries are cached for at most the serving cache TTL.
 */
import type { DataSource } from 'typeorm';
import { ValidationError } from '../common/errors';
import type { ModelRegistry } from '../inference/model-registry';
import { TtlCache } from '../common/ttl-cache';
import { ModelUnavailableError } from '../inference/inference.errors';
import { encodeTexts } from './text-encoding';
import type { OutOfScopeRule } from './text.kind';

export type TextKind = 'sentiment' | 'intent';

export interface LabelScoreData {
  readonly label: string;
  readonly probability: number;
}

export interface TextClassificationData {
  /** The most probable label, or the manifest's out-of-scope label when the model's rule says so. */
  readonly label: string;
  /** Probability of the most probable class label (for an out-of-scope message: of the nearest intent). */
  readonly confidence: number;
  /** True when the out-of-scope rule replaced the nearest label. */
  readonly outOfScope: boolean;
  /** Every label, most probable first. */
  readonly scores: readonly LabelScoreData[];
  readonly modelVersion: string;
}

export interface SentimentSummaryData {
  /** Reviews with text that were classified (the newest SUMMARY_REVIEWS). */
  readonly reviewCount: number;
  /** Share classified positive; null without reviews. */
  readonly positiveShare: number | null;
  /** Mean P(positive); null without reviews. */
  readonly meanPositive: number | null;
  readonly modelVersion: string;
}

/** Longest message classifyMessage accepts, characters. */
export const MAX_MESSAGE_LENGTH = 2000;
/** Newest reviews per product that a sentiment summary reads. */
export const SUMMARY_REVIEWS = 50;
const MEMO_LIMIT = 50_000;

export class TextClassifierService {
  private readonly memo = new Map<string, TextClassificationData>();
  private readonly summaries: TtlCache<string, SentimentSummaryData>;

  constructor(
    private readonly ds: DataSource,
    private readonly models: ModelRegistry,
    cacheTtlMs: number,
  ) {
    this.summaries = new TtlCache(cacheTtlMs, 20_000);
  }

  /**
   * Drops review sentiment summaries and memoised classifications (called when a user is erased:
   * the memo is keyed by text, so it holds the bodies of the user's reviews).
   */
  clearCaches(): void {
    this.summaries.clear();
    this.memo.clear();
  }

  /** One batched run for the texts not memoised yet; results in input order. */
  async classify(kind: TextKind, texts: readonly string[]): Promise<TextClassificationData[]> {
    return this.models.use(kind, async (model) => {
      const m = model.manifest;
      const key = (t: string) => `${model.record.id}\u0000${t}`;
      const missing = [...new Set(texts.filter((t) => !this.memo.has(key(t))))];
      if (missing.length) {
        const assets = model.assets;
        const out = await model.run(encodeTexts(missing, assets.tokenizer, assets.maxLength));
        const probs = out.probs!;
        missing.forEach((text, i) => {
          const scores = rankedScores(m.labels, probs.data as Float32Array, i);
          const oos = isOutOfScope(m.outOfScope, scores[0]!.probability, out.known_score?.data[i]);
          if (this.memo.size >= MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
          this.memo.set(key(text), {
            label: oos ? m.outOfScope!.label : scores[0]!.label, confidence: scores[0]!.probability, outOfScope: oos, scores, modelVersion: model.version,
          });
        });
      }
      return texts.map((t) => this.memo.get(key(t))!);
    });
  }

  /**
   * Intents and sentence embeddings of `texts` in one run of the intent model (not memoised: the
   * embedding is 384 floats). Throws when the serving intent model has no `embedding` output.
   */
  async intentsWithEmbeddings(texts: readonly string[]): Promise<{
    classes: TextClassificationData[];
    embeddings: Float32Array[];
    /** Per text, where the graph has an exemplar bank: the cosine to the nearest training message and the neighbours' vote. */
    neighbors: ({ knownScore: number; scores: LabelScoreData[] } | null)[];
    modelVersion: string;
  }> {
    return this.models.use('intent', async (model) => {
      const m = model.manifest;
      if (m.embeddingDim === null) throw new ModelUnavailableError('intent', `version ${model.version} has no embedding output (retrain it with the current trainer)`);
      const out = await model.run(encodeTexts(texts, model.assets.tokenizer, model.assets.maxLength));
      const D = m.embeddingDim;
      const probs = out.probs!.data as Float32Array;
      const emb = out.embedding!.data as Float32Array;
      const classes = texts.map((_, i) => {
        const scores = rankedScores(m.labels, probs, i);
        const oos = isOutOfScope(m.outOfScope, scores[0]!.probability, out.known_score?.data[i]);
        return { label: oos ? m.outOfScope!.label : scores[0]!.label, confidence: scores[0]!.probability, outOfScope: oos, scores, modelVersion: model.version };
      });
      const known = out.known_score?.data as Float32Array | undefined;
      const votes = out.neighbor_probs?.data as Float32Array | undefined;
      const neighbors = texts.map((_, i) => (known && votes ? {
        knownScore: known[i]!,
        scores: rankedScores(m.labels, votes, i),
      } : null));
      return { classes, embeddings: texts.map((_, i) => emb.slice(i * D, (i + 1) * D)), neighbors, modelVersion: model.version };
    });
  }

  async classifyMessage(text: string): Promise<TextClassificationData> {
    if (typeof text !== 'string' || text.trim() === '') throw ValidationError.of('text', 'must not be empty');
    if (text.length > MAX_MESSAGE_LENGTH) throw ValidationError.of('text', `must be at most ${MAX_MESSAGE_LENGTH} characters`);
    const [r] = await this.classify('intent', [text]);
    return r!;
  }

  /** Sentiment of review texts; null for an empty text (the model was never trained on one). */
  async reviewSentiments(bodies: readonly string[]): Promise<(TextClassificationData | null)[]> {
    const texts = bodies.filter((b) => b.trim() !== '');
    const results = texts.length ? await this.classify('sentiment', texts) : [];
    const byText = new Map(texts.map((t, i) => [t, results[i]!]));
    return bodies.map((b) => byText.get(b) ?? null);
  }

  /**
   * Summaries over each product's newest reviews with text, in key order; one query for the
   * products not cached (cached per sentiment model version, refreshed ahead like the other
   * serving caches).
   */
  async productSummaries(productIds: readonly string[]): Promise<SentimentSummaryData[]> {
    const version = this.models.active('sentiment');
    const valid = productIds.filter((id) => /^\d{1,18}$/.test(id));
    const values = await this.summaries.getMany(
      valid.map((id) => `${version?.id}:${id}`),
      (keys) => this.summarize(keys.map((k) => k.slice(k.indexOf(':') + 1)), version?.version ?? ''),
    );
    const byId = new Map(valid.map((id, i) => [id, values[i]!]));
    const empty: SentimentSummaryData = { reviewCount: 0, positiveShare: null, meanPositive: null, modelVersion: version?.version ?? '' };
    return productIds.map((id) => byId.get(id) ?? empty);
  }

  /** Reads and classifies the newest reviews of `productIds`: one query, one batched model run. */
  private async summarize(productIds: readonly string[], fallbackVersion: string): Promise<SentimentSummaryData[]> {
    const rows = await this.ds.query<{ product_id: string; body: string }[]>(
      `SELECT k.v::text AS product_id, x.body FROM unnest($1::bigint[]) k(v)
       CROSS JOIN LATERAL (SELECT body FROM reviews WHERE product_id = k.v AND btrim(body) <> ''
                           ORDER BY created_at DESC, id DESC LIMIT $2) x`,
      [productIds, SUMMARY_REVIEWS],
    );
    const results = rows.length ? await this.classify('sentiment', rows.map((r) => r.body)) : [];
    const modelVersion = results[0]?.modelVersion ?? fallbackVersion;
    const acc = new Map<string, { n: number; pos: number; mean: number }>();
    rows.forEach((r, i) => {
      const c = results[i]!;
      const p = c.scores.find((s) => s.label === 'positive')?.probability ?? 0;
      const a = acc.get(r.product_id) ?? { n: 0, pos: 0, mean: 0 };
      a.n++;
      if (c.label === 'positive') a.pos++;
      a.mean += p;
      acc.set(r.product_id, a);
    });
    return productIds.map((id) => {
      const a = acc.get(id);
      return { reviewCount: a?.n ?? 0, positiveShare: a ? a.pos / a.n : null, meanPositive: a ? a.mean / a.n : null, modelVersion };
    });
  }
}

/** The manifest's open-intent rule: below the threshold, the message is out of scope. */
function isOutOfScope(rule: OutOfScopeRule | null, maxProb: number, knownScore: number | bigint | undefined): boolean {
  if (!rule) return false;
  const score = rule.score === 'known_score' ? Number(knownScore ?? 0) : maxProb;
  return score < rule.threshold;
}

/** Row `i` of a (rows, labels) probability matrix as label scores, renormalised to sum to one, most probable first. */
function rankedScores(labels: readonly string[], probs: Float32Array, i: number): LabelScoreData[] {
  const C = labels.length;
  let total = 0;
  for (let j = 0; j < C; j++) total += probs[i * C + j]!;
  return labels.map((label, j) => ({ label, probability: probs[i * C + j]! / (total || 1) })).sort((a, b) => b.probability - a.probability);
}
