/**
 * A small time-bounded cache for serving signals that may lag reality by a few seconds (area
 * popularity, sentiment summaries). Entries expire after `ttlMs`; the oldest go first when full.
 * A TTL of 0 disables caching, so every read goes to the database.
 *
 * Refresh-ahead (getOrLoad): a hit on an entry older than half the TTL starts one background
 * reload and is answered from the entry, so a key in steady use is replaced before it expires and
 * requests do not queue behind its reload. No entry is ever served older than the TTL.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number; refreshAt: number }>();
  /** Keys being loaded right now: concurrent callers wait for that load instead of starting another. */
  private readonly inflight = new Map<K, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: K, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: now + this.ttlMs, refreshAt: now + this.ttlMs / 2 });
  }

  /**
   * The cached value, or `load()`'s, stored for the TTL. Single-flight: callers that miss while a
   * load for the key runs wait for that load (a popular key expiring under load would otherwise
   * start one identical database query per request).
   */
  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.get(key, now);
    if (hit !== undefined) {
      if (now >= this.entries.get(key)!.refreshAt && !this.inflight.has(key)) {
        // The entry keeps answering until the reload lands; a failed reload leaves it to expire.
        this.start(key, load).catch(() => undefined);
      }
      return hit;
    }
    return this.inflight.get(key) ?? this.start(key, load);
  }

  /** One load of `key` that concurrent callers share; its value is cached when it succeeds. */
  private async start(key: K, load: () => Promise<V>): Promise<V> {
    const loading = load();
    this.inflight.set(key, loading);
    try {
      const value = await loading;
      this.set(key, value);
      return value;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * Values for many keys in key order: cached ones at once, keys another caller is loading from
   * that load, the rest from one `load(missing)` call (which answers in the order it was given).
   * Hits past half the TTL are answered from the entry and reloaded together in the background
   * (refresh-ahead, as getOrLoad), so hot keys do not all miss at once when they expire.
   */
  async getMany(keys: readonly K[], load: (missing: K[]) => Promise<V[]>): Promise<V[]> {
    const now = Date.now();
    const pending = new Map<K, V | Promise<V>>();
    const missing: K[] = [];
    const stale: K[] = [];
    let waits = false;
    for (const k of keys) {
      if (pending.has(k)) continue;
      const e = this.entries.get(k);
      if (e && e.expires > now) {
        pending.set(k, e.value);
        if (now >= e.refreshAt && !this.inflight.has(k)) stale.push(k);
      } else if (this.inflight.has(k)) {
        pending.set(k, this.inflight.get(k)!);
        waits = true;
      } else missing.push(k);
    }
    if (stale.length) this.startMany(stale, load).catch(() => undefined); // a failed reload leaves the entries to expire
    // All cached (the common case on a hot path): answer without a promise per key.
    if (!missing.length && !waits) return keys.map((k) => pending.get(k) as V);
    if (missing.length) {
      const batch = this.startMany(missing, load);
      missing.forEach((k, i) => pending.set(k, batch.then((values) => values[i]!)));
    }
    return Promise.all(keys.map((k) => pending.get(k)!));
  }

  /** One `load(keys)` that concurrent callers of any of the keys share; values are cached when it succeeds. */
  private async startMany(keys: K[], load: (missing: K[]) => Promise<V[]>): Promise<V[]> {
    const batch = load(keys);
    keys.forEach((k, i) => {
      const one = batch.then((values) => values[i]!);
      one.catch(() => undefined); // a failed load is reported once, through the caller's await
      this.inflight.set(k, one);
    });
    try {
      const values = await batch;
      keys.forEach((k, i) => this.set(k, values[i]!));
      return values;
    } finally {
      keys.forEach((k) => this.inflight.delete(k));
    }
  }
}
