/**
 * Per-key limits:
 * - a cost budget per minute;
 * - a cap on concurrent requests.
 * Both answer "retry after N seconds" instead of queueing, so an abusive key cannot build up work.
 * `Limiter` is what requests use. RateLimiter keeps them in this process's memory (a token bucket
 * refilled continuously): one server, or the fallback of a fleet. A fleet shares them through Redis
 * (redis-limiter.ts).
 */
export interface RoleLimits {
  /** Query cost a key may spend per minute. */
  readonly costPerMinute: number;
  /** Requests a key may have in flight at once. */
  readonly concurrency: number;
}

interface Bucket {
  tokens: number;
  updated: number;
  inFlight: number;
}

/** The key a principal's limits are kept under, for HTTP and WebSocket alike. */
export function rateKey(p: { readonly keyId: string | null }): string {
  return `key:${p.keyId ?? 'env-admin'}`;
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number; reason: string };

/** A reserved concurrency slot; `release` when the request ends (twice is harmless). */
export interface Slot {
  readonly admission: Admission;
  release(): void;
}

export interface Limiter {
  /** Reserve a concurrency slot. */
  enter(key: string, limits: RoleLimits): Promise<Slot>;
  /** Spend `cost` from the key's budget, or say when enough will be available. */
  spend(key: string, cost: number, limits: RoleLimits): Promise<Admission>;
}

/** The in-memory limits as a Limiter (one server; no Redis). */
export function memoryLimiter(limiter: RateLimiter = new RateLimiter()): Limiter {
  return {
    enter: (key, limits) => Promise.resolve(limiter.enter(key, limits)),
    spend: (key, cost, limits) => Promise.resolve(limiter.spend(key, cost, limits)),
  };
}

/** A cost above the whole per-minute budget can never run. */
export function overBudget(cost: number, limits: RoleLimits): Admission | null {
  return cost > limits.costPerMinute
    ? { ok: false, retryAfterSeconds: 60, reason: `operation cost ${cost} exceeds the budget of ${limits.costPerMinute} per minute` }
    : null;
}

export function tooManyConcurrent(limits: RoleLimits): Admission {
  return { ok: false, retryAfterSeconds: 1, reason: `more than ${limits.concurrency} concurrent requests` };
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private bucket(key: string, limits: RoleLimits): Bucket {
    let b = this.buckets.get(key);
    const t = this.now();
    if (!b) {
      b = { tokens: limits.costPerMinute, updated: t, inFlight: 0 };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(limits.costPerMinute, b.tokens + ((t - b.updated) / 60_000) * limits.costPerMinute);
      b.updated = t;
    }
    return b;
  }

  /** Reserve a concurrency slot; call the returned release when the request ends. */
  enter(key: string, limits: RoleLimits): Slot {
    const b = this.bucket(key, limits);
    if (b.inFlight >= limits.concurrency) return { admission: tooManyConcurrent(limits), release: () => undefined };
    b.inFlight++;
    let released = false;
    return {
      admission: { ok: true },
      release: () => {
        if (!released) b.inFlight--;
        released = true;
      },
    };
  }

  /** Spend `cost` from the key's budget, or say when enough will have been refilled. */
  spend(key: string, cost: number, limits: RoleLimits): Admission {
    const b = this.bucket(key, limits);
    const never = overBudget(cost, limits);
    if (never) return never;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true };
    }
    const missing = cost - b.tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((missing / limits.costPerMinute) * 60)), reason: 'cost budget exhausted' };
  }
}
