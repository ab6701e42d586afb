/**
 * What the shared (Redis) rate limiter adds to a request against the in-memory one (issue 18:
 * target under 0.5 ms at p50), measured in this process, one after the other in the same run:
 * each "request" takes a concurrency slot, spends its cost and gives the slot back, as
 * graphql-handler.ts and the cost plugin do. Sequential (latency) and at concurrency 32 (throughput).
 *   node dist/bench/limiter.js [--quick]   (REDIS_URL, default redis://127.0.0.1:6379)
 */
import IORedis from 'ioredis';
import { silentLogger } from '../src/common/logger';
import { type Limiter, memoryLimiter } from '../src/security/rate-limiter';
import { RedisLimiter } from '../src/security/redis-limiter';
import { markdownTable, printReport, summarize } from './bench-utils';

const LIMITS = { costPerMinute: 1e12, concurrency: 10_000 };

async function oneRequest(l: Limiter, key: string): Promise<void> {
  const slot = await l.enter(key, LIMITS);
  await l.spend(key, 25, LIMITS);
  slot.release();
}

async function sequential(l: Limiter, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await oneRequest(l, `key:bench-${i % 50}`);
    ms.push(performance.now() - t);
  }
  return ms;
}

async function concurrent(l: Limiter, n: number, width: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await oneRequest(l, `key:bench-${next++ % 50}`);
    }),
  );
  return n / ((performance.now() - t) / 1000);
}

export async function runLimiterBench(opts: { quick: boolean }): Promise<string> {
  const n = opts.quick ? 2_000 : 20_000;
  const client = new IORedis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  const redis = new RedisLimiter(client, silentLogger());
  const memory = memoryLimiter();
  try {
    await sequential(redis, 500); // warm-up: connection, limiter instances
    await sequential(memory, 500);
    const rows: (string | number)[][] = [];
    const p50: Record<string, number> = {};
    for (const [name, l] of [['in memory', memory], ['Redis', redis]] as const) {
      const s = summarize(await sequential(l, n));
      p50[name] = s.p50;
      rows.push([name, s.p50, s.p99, s.mean, Math.round(await concurrent(l, n, 32))]);
    }
    const added = (p50.Redis ?? 0) - (p50['in memory'] ?? 0);
    return [
      `#### Rate limiter: Redis against in memory (${n} requests each, enter + spend + release)`,
      '',
      markdownTable(['limiter', 'p50 ms', 'p99 ms', 'mean ms', 'requests/s at concurrency 32'], rows),
      '',
      `- Added per request by Redis at p50: ${added.toFixed(3)} ms (target < 0.5 ms: ${added < 0.5 ? 'met' : 'NOT met'}); fallback decisions during the run: ${redis.fallbackDecisions}.`,
    ].join('\n');
  } finally {
    client.disconnect();
  }
}

if (require.main === module) printReport(runLimiterBench({ quick: process.argv.includes('--quick') }));
