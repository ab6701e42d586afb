/**
 * A small time-bounded cache for serving signals that may lag reality by a few seconds (area
 * popularity, sentiment summaries). Entries expire after `ttlMs`; the oldest go first when full.
 * A TTL of 0 disables caching, so every read goes to the database.
 *
 * Loads are single-flight: callers that miss a key while a load of it runs wait for that load.
 * Refresh-ahead: a hit on an entry older than half the TTL starts one background reload and is
 * answered from the entry, so a key in steady use is replaced before it expires and requests do
 * not queue behind its reload. No entry is ever served older than the TTL.
 */
interface Entry<V> {
  readonly value: V;
  readonly expires: number;
  readonly refreshAt: number;
}

export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  /** Keys being loaded right now: concurrent callers wait for that load instead of starting another. */
  private readonly inflight = new Map<K, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value, or `load()`'s, stored for the TTL. */
  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const [value] = await this.getMany([key], async () => [await load()]);
    return value!;
  }

  /**
   * Values for many keys in key order: cached ones at once, keys another caller is loading from
   * that load, the rest from one `load(missing)` call (which answers in the order it was given).
   * Hits past half the TTL are reloaded together in the background.
   */
  async getMany(keys: readonly K[], load: (missing: K[]) => Promise<V[]>): Promise<V[]> {
    const now = Date.now();
    const pending = new Map<K, V | Promise<V>>();
    const missing: K[] = [];
    const stale: K[] = [];
    let waits = false;
    for (const k of keys) {
      if (pending.has(k)) continue;
      const e = this.fresh(k, now);
      if (e) {
        pending.set(k, e.value);
        if (now >= e.refreshAt && !this.inflight.has(k)) stale.push(k);
      } else if (this.inflight.has(k)) {
        pending.set(k, this.inflight.get(k)!);
        waits = true;
      } else missing.push(k);
    }
    if (stale.length) this.start(stale, load); // a failed reload leaves the entries to expire
    // All cached (the common case on a hot path): answer without a promise per key.
    if (!missing.length && !waits) return keys.map((k) => pending.get(k) as V);
    this.start(missing, load).forEach((one, i) => pending.set(missing[i]!, one));
    return Promise.all(keys.map((k) => pending.get(k)!));
  }

  /** The entry of `key` unless it has expired (an expired one is dropped). */
  private fresh(key: K, now: number): Entry<V> | undefined {
    const e = this.entries.get(key);
    if (e && e.expires <= now) this.entries.delete(key);
    return e && e.expires > now ? e : undefined;
  }

  private set(key: K, value: V, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: now + this.ttlMs, refreshAt: now + this.ttlMs / 2 });
  }

  /**
   * One `load(keys)` that concurrent callers of any of the keys share: a promise per key, each
   * registered as in flight until the load settles. Values are cached when it succeeds; a failure
   * reaches the callers through their promises (a background reload has none, and is dropped).
   */
  private start(keys: K[], load: (keys: K[]) => Promise<V[]>): Promise<V>[] {
    if (!keys.length) return [];
    const batch = load(keys);
    // Registered before the per-key promises below, so values are cached before any caller resumes.
    void batch
      .then((values) => keys.forEach((k, i) => this.set(k, values[i]!)), () => undefined)
      .then(() => keys.forEach((k) => this.inflight.delete(k)));
    return keys.map((k, i) => {
      const one = batch.then((values) => values[i]!);
      one.catch(() => undefined);
      this.inflight.set(k, one);
      return one;
    });
  }
}
