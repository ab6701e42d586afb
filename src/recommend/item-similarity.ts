/** Cosine similarity between items of the next-item model's embedding table (rows are unit length). Pure. */
import type { ItemEmbeddings, NextItemAssets } from './next-item.kind';

export interface SimilarItem {
  readonly index: number;
  readonly similarity: number;
}

/** The `k` items most similar to item `index` (itself and padding excluded), best first. */
export function mostSimilar(emb: ItemEmbeddings, index: number, k: number, exclude: ReadonlySet<number> = new Set()): SimilarItem[] {
  if (index <= 0 || index >= emb.rows || k <= 0) return [];
  const { dim, unit } = emb;
  const base = index * dim;
  const top: SimilarItem[] = [];
  for (let r = 1; r < emb.rows; r++) {
    if (r === index || exclude.has(r)) continue;
    let dot = 0;
    const off = r * dim;
    for (let d = 0; d < dim; d++) dot += unit[base + d]! * unit[off + d]!;
    if (top.length < k) {
      top.push({ index: r, similarity: dot });
      if (top.length === k) top.sort((a, b) => b.similarity - a.similarity);
    } else if (dot > top[k - 1]!.similarity) {
      // Insert in order; k is small (≤ 100), so a linear insert beats a heap here.
      let i = k - 1;
      while (i > 0 && top[i - 1]!.similarity < dot) i--;
      top.splice(i, 0, { index: r, similarity: dot });
      top.pop();
    }
  }
  return top.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
}

export function cosine(emb: ItemEmbeddings, a: number, b: number): number {
  if (a <= 0 || b <= 0 || a >= emb.rows || b >= emb.rows) return 0;
  let dot = 0;
  for (let d = 0; d < emb.dim; d++) dot += emb.unit[a * emb.dim + d]! * emb.unit[b * emb.dim + d]!;
  return dot;
}

/** Memoised neighbours per embedding table (a model version never changes, so they stay exact). */
const memo = new WeakMap<ItemEmbeddings, Map<number, readonly SimilarItem[]>>();
const MEMO_ITEMS = 100_000;

/**
 * mostSimilar(emb, index, k) for the serving path, computed once per (table, item) with at least `k`
 * neighbours: each call would otherwise scan the whole table.
 */
export function mostSimilarMemo(emb: ItemEmbeddings, index: number, k: number): readonly SimilarItem[] {
  let byItem = memo.get(emb);
  if (!byItem) memo.set(emb, (byItem = new Map<number, readonly SimilarItem[]>()));
  const hit = byItem.get(index);
  if (hit && (hit.length >= k || hit.length === Math.max(0, emb.rows - 2))) return hit.length > k ? hit.slice(0, k) : hit;
  const list = mostSimilar(emb, index, k);
  if (byItem.size >= MEMO_ITEMS) byItem.delete(byItem.keys().next().value!);
  byItem.set(index, list);
  return list;
}

/** The `k` products most similar to `productId` (memoised), best first; [] for items the model does not know. */
export function similarProducts(assets: NextItemAssets, productId: string, k: number): { id: string; similarity: number }[] {
  const idx = assets.vocabulary.indexOf.get(productId);
  if (idx === undefined) return [];
  return mostSimilarMemo(assets.embeddings, idx, k).map((s) => ({ id: assets.vocabulary.items[s.index]!, similarity: s.similarity }));
}
