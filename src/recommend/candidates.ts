/**
 * A user's candidates from the three sources (pure): the next-item model's top items, items
 * similar to the user's latest ones, and area popularity; each with its signals and sources.
 */
import type { AreaHit } from './area-popularity';
import { similarProducts } from './item-similarity';
import type { NextItemAssets } from './next-item.kind';
import type { NextItemScore } from './next-item-runner';

export type RecommendationSource = 'sequential' | 'similar' | 'area';
const SOURCES: readonly RecommendationSource[] = ['sequential', 'similar', 'area'];
/** Candidate sources as bits while gathering (hundreds of candidates per user, a few kept). */
const SOURCE_BIT: Readonly<Record<RecommendationSource, number>> = { sequential: 1, similar: 2, area: 4 };

const SIMILAR_SEEDS = 3;
const SIMILAR_PER_SEED = 20;

export interface CandidateSignals {
  /** Next-item model probability, 0 if not among its top K. */
  seqProb: number;
  /** Best cosine to one of the user's latest items, and that item's id. */
  similarity: number;
  similarTo: string | null;
  /** SOURCE_BIT flags. */
  sources: number;
}

/**
 * Candidates by product id. `history` is the user's item sequence (oldest → newest), which the
 * sequential and similar sources leave out (recommend what comes next); `next` is null for a user
 * without a history, who gets area popularity only.
 */
export function gatherCandidates(
  history: readonly string[],
  next: readonly NextItemScore[] | null,
  assets: NextItemAssets,
  area: readonly AreaHit[],
): Map<string, CandidateSignals> {
  const cands = new Map<string, CandidateSignals>();
  const touch = (id: string) => {
    let c = cands.get(id);
    if (!c) cands.set(id, (c = { seqProb: 0, similarity: 0, similarTo: null, sources: 0 }));
    return c;
  };
  const seen = new Set(history);
  if (next) {
    for (const { productId, prob } of next) {
      if (seen.has(productId)) continue; // the model does not exclude history
      const c = touch(productId);
      c.seqProb = prob;
      c.sources |= SOURCE_BIT.sequential;
    }
    const seeds = [...new Set([...history].reverse())].slice(0, SIMILAR_SEEDS);
    for (const seed of seeds) {
      for (const s of similarProducts(assets, seed, SIMILAR_PER_SEED)) {
        if (seen.has(s.id)) continue;
        const c = touch(s.id);
        if (s.similarity > c.similarity) {
          c.similarity = s.similarity;
          c.similarTo = seed;
        }
        c.sources |= SOURCE_BIT.similar;
      }
    }
  }
  for (const row of area) touch(row.productId).sources |= SOURCE_BIT.area;
  return cands;
}

/** The sources a candidate came from, in SOURCES order. */
export function sourcesOf(c: CandidateSignals): RecommendationSource[] {
  return SOURCES.filter((src) => (c.sources & SOURCE_BIT[src]) !== 0);
}
