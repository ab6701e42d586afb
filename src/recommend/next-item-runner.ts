/**
 * The sequential candidate source: each user's inputs to the next-item model (item sequence,
 * location, hour of week) and one batched model run for every user with a history.
 */
import type { GeoPoint } from '../common/geo';
import type { LoadedModel } from '../inference/loaded-model';
import { type Feeds, int64 } from '../inference/tensor';
import type { NextItemManifest } from './next-item.kind';
import { cellBucket, type ItemSequence, itemSequence } from './next-item-features';
import type { UserContext } from './user-context.reader';

/** Events read per user for the sequence: dedupe and non-item events need more than L. */
const HISTORY_FACTOR = 4;

/** Latest events a user context needs for this model: L × HISTORY_FACTOR. */
export function historyLength(manifest: NextItemManifest): number {
  return manifest.maxLen * HISTORY_FACTOR;
}

export interface PreparedUser {
  readonly context: UserContext;
  readonly seq: ItemSequence;
  /** Where the user is: the request's `near`, else the last event's location, else home. */
  readonly location: GeoPoint | null;
  /** The latest event on an item of the sequence, for reasons. */
  readonly lastItem: UserContext['events'][number] | null;
}

export interface NextItemScore {
  readonly productId: string;
  readonly prob: number;
}

export function prepareUser(u: UserContext, near: GeoPoint | null, model: LoadedModel<'next-item'>): PreparedUser {
  const seq = itemSequence(u.events, model.manifest, model.assets.vocabulary.indexOf);
  const latestFirst = [...u.events].reverse();
  const lastLoc = latestFirst.find((e) => e.lat !== null && e.lng !== null);
  const location = near ?? (lastLoc ? { latitude: lastLoc.lat!, longitude: lastLoc.lng! } : u.home);
  const inSequence = new Set(seq.productIds);
  const lastItem = latestFirst.find((e) => e.productId && inSequence.has(e.productId)) ?? null;
  return { context: u, seq, location, lastItem };
}

/**
 * Top-K next items per user as product ids with probabilities, in the order given; null for users
 * without a history (they skip the model). One model run for all the others.
 */
export async function runNextItem(model: LoadedModel<'next-item'>, users: readonly PreparedUser[], how: number): Promise<(NextItemScore[] | null)[]> {
  const warm: number[] = [];
  users.forEach((u, i) => u.seq.productIds.length > 0 && warm.push(i));
  const out: (NextItemScore[] | null)[] = users.map(() => null);
  if (!warm.length) return out;
  const lists = await topNext(model, warm.map((i) => users[i]!), how);
  warm.forEach((i, w) => (out[i] = lists[w]!));
  return out;
}

async function topNext(model: LoadedModel<'next-item'>, rows: readonly PreparedUser[], how: number): Promise<NextItemScore[][]> {
  const { items } = model.assets.vocabulary;
  const out = await model.run(nextItemFeeds(model.manifest, rows, how));
  const ids = out.top_ids!;
  const scores = out.top_scores!;
  const K = ids.dims[1]!;
  return rows.map((_, i) => {
    const list: NextItemScore[] = [];
    for (let k = 0; k < K; k++) {
      const id = items[Number(ids.data[i * K + k])];
      if (id) list.push({ productId: id, prob: Math.exp(Number(scores.data[i * K + k])) });
    }
    return list;
  });
}

/** The model's inputs for a batch: item_seq [B, L], and hour_of_week and cell [B] when the model takes them. */
function nextItemFeeds(m: NextItemManifest, rows: readonly PreparedUser[], how: number): Feeds {
  const B = rows.length;
  const L = m.maxLen;
  const seq = new BigInt64Array(B * L);
  rows.forEach((r, i) => seq.set(r.seq.seq, i * L));
  const names = new Set(m.inputs.map((s) => s.name));
  const feeds: Record<string, Feeds[string]> = { item_seq: int64(seq, [B, L]) };
  if (names.has('hour_of_week')) feeds.hour_of_week = int64(new BigInt64Array(B).fill(BigInt(how)), [B]);
  if (names.has('cell')) {
    feeds.cell = int64(
      BigInt64Array.from(rows, (r) => BigInt(cellBucket(r.location?.latitude ?? null, r.location?.longitude ?? null, m.context.nCells, m.context.cellDeg))),
      [B],
    );
  }
  return feeds;
}
