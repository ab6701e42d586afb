/**
 * A small time-bounded cache for serving signals that may lag reality by a few seconds (area
 * popularity, sentiment summaries). Entries expire after `ttlMs`; the oldest go first when full.
 * A TTL of 0 disables caching, so every read goes to the database.
 *
 * Loads are single-flight: callers that miss a key while a load of it runs wait for that load.
 * Refresh-ahead: a hit on an entry older than half the TTL is answered from the entry and reloaded
 * in the background, so a key in steady use is replaced before it expires and requests do not queue
 * behind its reload. No entry is ever served older than the TTL. getMany's stale keys are gathered
 * for a short while (REFRESH_GATHER_MS, at most a tenth of the TTL) and reloaded in one load: under
 * load entries go stale one by one, and reloading them per request cost a statement per request.
 */
interface Entry<V> {
  readonly value: V;
  readonly expires: number;
  readonly refreshAt: number;
}

/** How long getMany gathers stale keys before one background reload, ms (capped at a tenth of the TTL). */
export const REFRESH_GATHER_MS = 50;

export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  /** Keys being loaded right now: concurrent callers wait for that load instead of starting another. */
  private readonly inflight = new Map<K, Promise<V>>();
  /** Stale keys waiting for the gathered background reload, and the loader it will use. */
  private readonly refreshKeys = new Set<K>();
  private refreshLoad: ((keys: K[]) => Promise<V[]>) | null = null;
  /** Bumped by clear(): a load started before it must not store what it read. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value, or `load()`'s, stored for the TTL. */
  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const [value] = await this.lookup([key], async () => [await load()], false);
    return value!;
  }

  /**
   * Values for many keys in key order: cached ones at once, keys another caller is loading from
   * that load, the rest from one `load(missing)` call (which answers in the order it was given).
   * Hits past half the TTL are reloaded together in the background, gathered over
   * REFRESH_GATHER_MS with those of other calls: `load` must answer for any keys of this cache.
   */
  getMany(keys: readonly K[], load: (missing: K[]) => Promise<V[]>): Promise<V[]> {
    return this.lookup(keys, load, true);
  }

  /** getMany, with stale hits reloaded at once (`gather` false: `load` answers only for these keys). */
  private async lookup(keys: readonly K[], load: (missing: K[]) => Promise<V[]>, gather: boolean): Promise<V[]> {
    const now = Date.now();
    // Hits go straight into `values`; only keys that are not cached get a promise, so the common
    // case on a hot path (all cached) answers without a promise per key.
    const values = new Array<V>(keys.length);
    const stale: K[] = [];
    const waiting = new Map<K, Promise<V>>(); // keys another caller is loading, then the missing ones
    const missing = new Set<K>();
    keys.forEach((k, i) => {
      const e = this.fresh(k, now);
      if (e) {
        values[i] = e.value;
        if (now >= e.refreshAt && !this.inflight.has(k)) stale.push(k);
      } else {
        const loading = this.inflight.get(k);
        if (loading) waiting.set(k, loading);
        else missing.add(k);
      }
    });
    this.refresh(stale, load, gather);
    if (!waiting.size && !missing.size) return values;
    const list = [...missing];
    this.start(list, load).forEach((one, j) => waiting.set(list[j]!, one));
    return Promise.all(keys.map((k, i) => waiting.get(k) ?? Promise.resolve(values[i]!)));
  }

  /** Background reload of stale hits (a failed one leaves the entries to expire): gathered, or at once. */
  private refresh(stale: K[], load: (keys: K[]) => Promise<V[]>, gather: boolean): void {
    if (!stale.length) return;
    if (gather) this.refreshSoon(stale, load);
    else void Promise.allSettled(this.start(stale, load));
  }

  /** Queues stale keys for one background reload after REFRESH_GATHER_MS (the first key queued starts the wait). */
  private refreshSoon(keys: readonly K[], load: (keys: K[]) => Promise<V[]>): void {
    const first = this.refreshKeys.size === 0;
    for (const k of keys) this.refreshKeys.add(k);
    this.refreshLoad = load;
    if (!first) return;
    setTimeout(() => {
      const due = [...this.refreshKeys].filter((k) => !this.inflight.has(k));
      const reload = this.refreshLoad!;
      this.refreshKeys.clear();
      this.refreshLoad = null;
      void Promise.allSettled(this.start(due, reload));
    }, Math.min(REFRESH_GATHER_MS, this.ttlMs / 10)).unref();
  }

  /**
   * Forgets every entry (e.g. after a user's data is erased). Loads already running may have read
   * the old data: their callers still get it, but it is not stored, and later callers load afresh.
   */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.inflight.clear();
    this.refreshKeys.clear();
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
    const generation = this.generation;
    // Registered before the per-key promises below, so values are cached before any caller resumes.
    // After a clear() the load's values are dropped and its keys are no longer this load's to release.
    void batch
      .then((values) => {
        if (generation === this.generation) keys.forEach((k, i) => this.set(k, values[i]!));
      }, () => undefined)
      .then(() => {
        if (generation === this.generation) keys.forEach((k) => this.inflight.delete(k));
      });
    return keys.map((k, i) => {
      const one = batch.then((values) => values[i]!);
      one.catch(() => undefined);
      this.inflight.set(k, one);
      return one;
    });
  }
}
