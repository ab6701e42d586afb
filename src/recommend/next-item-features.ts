/**
 * The next-item model's inputs (trainer/README.md "Serving contract / next-item"), pure:
 * the user's item sequence, the UTC hour of week and the spatial cell bucket of "now".
 */

export interface ItemEventRow {
  readonly type: string;
  readonly productId: string | null;
}

export interface SequenceSpec {
  readonly maxLen: number;
  readonly eventTypes: readonly string[];
  readonly dedupeConsecutive: boolean;
}

export interface ItemSequence {
  /** [L] int64 item indices, oldest → newest, left-padded with 0. */
  readonly seq: BigInt64Array;
  /** Product ids of the kept (known) items, oldest → newest; at most L. */
  readonly productIds: readonly string[];
}

/** Filter by type, drop events without a product, collapse runs, map to indices (unknown ids dropped), keep the last L. */
export function itemSequence(
  events: readonly ItemEventRow[],
  spec: SequenceSpec,
  indexOf: ReadonlyMap<string, number>,
): ItemSequence {
  const kept: string[] = [];
  for (const e of events) {
    if (!e.productId || !spec.eventTypes.includes(e.type)) continue;
    if (spec.dedupeConsecutive && kept.length > 0 && kept[kept.length - 1] === e.productId) continue;
    kept.push(e.productId);
  }
  const known = kept.filter((id) => indexOf.has(id)).slice(-spec.maxLen);
  const seq = new BigInt64Array(spec.maxLen);
  known.forEach((id, i) => (seq[spec.maxLen - known.length + i] = BigInt(indexOf.get(id)!)));
  return { seq, productIds: known };
}

/** UTC hour of week: Monday 00:00–00:59 = 0 … Sunday 23:00 = 167 (1970-01-01 was a Thursday). */
export function hourOfWeek(at: Date): number {
  const seconds = at.getTime() / 1000;
  const day = Math.floor(seconds / 86400);
  return (((day + 3) % 7) + 7) % 7 * 24 + Math.floor((seconds - day * 86400) / 3600);
}

/** 1 + (row · ncols + col) mod (n − 1) on a `deg` grid; 0 when the location is unknown or n < 2. */
export function cellBucket(latitude: number | null, longitude: number | null, nCells: number, deg: number): number {
  if (nCells < 2 || latitude === null || longitude === null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return 0;
  const ncols = Math.ceil(360 / deg);
  const row = Math.floor((latitude + 90) / deg);
  const col = Math.floor((longitude + 180) / deg);
  return 1 + ((row * ncols + col) % (nCells - 1));
}
