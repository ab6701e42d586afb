/**
 * Per-key limits shared by every server of a fleet, in Redis (REDIS_URL), through
 * rate-limiter-flexible (atomic increments with expiry; no Lua of ours):
 * - the cost budget: `costPerMinute` points per key per 60 s window;
 * - concurrency: `concurrency` points per key, one taken per request and given back when it ends;
 *   a server that dies with requests in flight leaves points that expire with their window
 *   (SLOT_WINDOW_S), so its slots come back by themselves.
 * When Redis does not answer, each server decides with its own in-memory RateLimiter instead
 * (logged once per outage, counted for /metrics, shown in /readyz) and goes back to Redis as soon
 * as Redis answers: no request fails because Redis is down.
 */
import IORedis, { type Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../common/logger';
import type { GaugeSource } from '../observability/metrics';
import { type Admission, type Limiter, memoryLimiter, overBudget, RateLimiter, type RoleLimits, type Slot, tooManyConcurrent } from './rate-limiter';

const COST_WINDOW_S = 60;
/** How long the slots of a server that died stay taken, at most. */
const SLOT_WINDOW_S = 60;

export class RedisLimiter implements Limiter {
  private readonly costs = new Map<number, RateLimiterRedis>();
  private readonly slots = new Map<number, RateLimiterRedis>();
  private readonly local: RateLimiter;
  private down = false;
  /** Decisions made in memory because Redis did not answer (for /metrics). */
  fallbackDecisions = 0;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    local?: RateLimiter,
  ) {
    this.local = local ?? new RateLimiter();
    // Shared again as soon as the client is ready again, not only at the next request's decision:
    // else an idle server (or one whose first request came before the client was connected)
    // reports "not shared" on /metrics and /readyz while Redis answers.
    redis.on('ready', () => this.up());
  }

  /** Whether limits are Redis's right now (false while falling back, or while the client is not connected). */
  get shared(): boolean {
    return !this.down && this.redis.status === 'ready';
  }

  async spend(key: string, cost: number, limits: RoleLimits): Promise<Admission> {
    const never = overBudget(cost, limits);
    if (never) return never;
    const costs = this.limiter(this.costs, 'meridian:cost', limits.costPerMinute, COST_WINDOW_S);
    try {
      await costs.consume(key, cost);
      this.up();
      return { ok: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.up();
        // A refused consume still counted its points: give them back (a refusal spends nothing).
        await costs.reward(key, cost).catch(() => undefined);
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)), reason: 'cost budget exhausted' };
      }
      this.fellBack(err);
      return this.local.spend(key, cost, limits);
    }
  }

  async enter(key: string, limits: RoleLimits): Promise<Slot> {
    const slots = this.limiter(this.slots, 'meridian:slots', limits.concurrency, SLOT_WINDOW_S);
    try {
      await slots.consume(key, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.up();
        await slots.reward(key, 1).catch(() => undefined); // the refused request holds no slot
        return { admission: tooManyConcurrent(limits), release: () => undefined };
      }
      this.fellBack(err);
      return this.local.enter(key, limits);
    }
    this.up();
    let released = false;
    return {
      admission: { ok: true },
      release: () => {
        if (released) return;
        released = true;
        // Lost when Redis is down meanwhile: the slot then comes back with its window.
        slots.reward(key, 1).catch(() => undefined);
      },
    };
  }

  private limiter(byPoints: Map<number, RateLimiterRedis>, prefix: string, points: number, duration: number): RateLimiterRedis {
    let l = byPoints.get(points);
    if (!l) {
      // Limits differ per role: one limiter per number of points (keys are per API key anyway).
      l = new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${prefix}:${points}`, points, duration, rejectIfRedisNotReady: true });
      byPoints.set(points, l);
    }
    return l;
  }

  private fellBack(err: unknown): void {
    this.fallbackDecisions++;
    if (this.down) return;
    this.down = true;
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Redis does not answer: rate limits are per server until it does');
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('Redis answers again: rate limits are shared by the fleet');
  }
}

/** The limiter a server uses: Redis's when REDIS_URL is set, else this process's memory. */
export function openLimiter(redisUrl: string | undefined, logger: Logger): { limiter: Limiter; redis: RedisLimiter | null; close(): Promise<void> } {
  if (!redisUrl) return { limiter: memoryLimiter(), redis: null, close: () => Promise.resolve() };
  // No offline queue: while Redis is down a command fails at once (and the request is limited in
  // memory) instead of waiting; ioredis keeps reconnecting in the background.
  const client = new IORedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  client.on('error', () => undefined); // reported through the fallback, once per outage
  const redis = new RedisLimiter(client, logger);
  return {
    limiter: redis,
    redis,
    close: () => {
      client.disconnect();
      return Promise.resolve();
    },
  };
}

/** /metrics: whether limits are shared right now, and how many decisions fell back to memory. */
export function limiterGauges(redis: RedisLimiter): GaugeSource[] {
  return [
    { name: 'meridian_rate_limit_shared', help: '1 while rate limits are kept in Redis, 0 while this server falls back to memory', collect: () => Promise.resolve([{ labels: {}, value: redis.shared ? 1 : 0 }]) },
    { name: 'meridian_rate_limit_fallback_decisions', help: 'Rate-limit decisions made in memory because Redis did not answer (since start)', collect: () => Promise.resolve([{ labels: {}, value: redis.fallbackDecisions }]) },
  ];
}
