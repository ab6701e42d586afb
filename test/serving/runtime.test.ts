/**
 * The inference runtime with real sessions in worker threads: micro-batching merges concurrent
 * requests and splits the results back exactly; hot swaps under concurrent load fail nothing,
 * finish in-flight work on the old session and release it; sessions never block the event loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Database } from '../../src/db/database';
import type { ModelRegistry } from '../../src/inference/model-registry';
import { type Feeds, int64 } from '../../src/inference/tensor';

import { copyArtifact, editManifest, openServingDatabase, startRegistry } from './serving-helpers';

let db: Database;
let registry: ModelRegistry;

function nextItemFeeds(seed: number): Feeds {
  const seq = new BigInt64Array(50);
  for (let i = 0; i < 6; i++) seq[44 + i] = BigInt(1 + ((seed * 37 + i * 11) % 300));
  return {
    item_seq: int64(seq, [1, 50]),
    hour_of_week: int64(BigInt64Array.from([BigInt(seed % 168)]), [1]),
    cell: int64(BigInt64Array.from([BigInt(seed % 255)]), [1]),
  };
}

const run = (seed: number) =>
  registry.use('next-item', async (m) => {
    const out = await m.run(nextItemFeeds(seed));
    return { ids: Array.from(out.top_ids!.data as BigInt64Array, Number), scores: Array.from(out.top_scores!.data as Float32Array), version: m.version };
  });

beforeAll(async () => {
  db = await openServingDatabase();
  ({ registry } = await startRegistry(db, 'next-item', { MERIDIAN_BATCH_WINDOW_MS: '5', MERIDIAN_MAX_BATCH_SIZE: '32' }));
});

afterAll(async () => {
  await registry?.stop();
  await db?.close();
});

const nextItemMetrics = () => registry.metrics().models.find((m) => m.kind === 'next-item')!;

describe('micro-batching', () => {
  it('merges concurrent requests into batches and splits results exactly as unbatched runs', async () => {
    const seeds = Array.from({ length: 48 }, (_, i) => i + 1);
    const alone: Awaited<ReturnType<typeof run>>[] = [];
    for (const s of seeds) alone.push(await run(s)); // one at a time: batches of 1
    const before = nextItemMetrics();
    const together = await Promise.all(seeds.map((s) => run(s)));
    const after = nextItemMetrics();

    const batches = after.batches - before.batches;
    expect(batches).toBeLessThan(seeds.length);
    const sizesAbove1 = after.batchSize.count - after.batchSize.buckets[0]!.count - (before.batchSize.count - before.batchSize.buckets[0]!.count);
    expect(sizesAbove1).toBeGreaterThan(0);
    expect(after.batchSize.buckets.find((b) => b.le === 32)!.count).toBe(after.batchSize.count); // never above the max
    // Per-request latency: one sample per request, in its histogram and percentiles; the queue
    // held several rows at once while the batch window was open and is empty now.
    expect(after.requests - before.requests).toBe(seeds.length);
    expect(after.latencyMs.count - before.latencyMs.count).toBe(seeds.length);
    expect(after.latencyMs.buckets.find((b) => b.le === 5000)!.count).toBe(after.latencyMs.count); // none slower than 5 s
    expect(after.latencyMs.p50!).toBeGreaterThan(0);
    expect(after.latencyMs.p99!).toBeGreaterThanOrEqual(after.latencyMs.p50!);
    expect(after.runMs.count - before.runMs.count).toBe(batches);
    expect(after.maxQueueDepth).toBeGreaterThan(1);
    expect(after.queueDepth).toBe(0);
    together.forEach((r, i) => {
      expect(r.ids).toEqual(alone[i]!.ids);
      r.scores.forEach((v, j) => expect(v).toBeCloseTo(alone[i]!.scores[j]!, 4));
    });
    // Different inputs give different answers, so a mix-up in the split would show.
    expect(new Set(together.map((r) => r.ids.slice(0, 5).join(','))).size).toBeGreaterThan(10);
  });

  it('keeps the event loop free while sessions run in workers', async () => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    await Promise.all(Array.from({ length: 400 }, (_, i) => run(i)));
    h.disable();
    expect(h.percentile(99) / 1e6).toBeLessThan(50);
  });
});

describe('hot swap', () => {
  it('swaps versions under concurrent load with zero failed requests and releases old sessions', async () => {
    const baseline = registry.active('next-item')!;
    const dir = copyArtifact('next-item');
    editManifest(dir, (m) => (m.version = `${m.version}-swap-${Date.now()}`));
    const candidate = await registry.register('next-item', dir);

    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    const versions = new Set<string>();
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await run(w * 1000 + i);
          versions.add(r.version);
          ok++;
        } catch (err) {
          failures.push(err);
        }
      }
    });
    for (let i = 0; i < 10; i++) await registry.promote(i % 2 === 0 ? candidate.id : baseline.id);
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect([...versions].sort()).toEqual([baseline.version, candidate.version].sort());
    expect(registry.active('next-item')!.id).toBe(baseline.id);
    for (let i = 0; i < 50 && registry.metrics().retiring > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(registry.metrics().retiring).toBe(0);
    expect(registry.metrics().sessionsPerWorker.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('lets in-flight work finish on the old session, then releases it', async () => {
    const baseline = registry.active('next-item')!;
    const dir = copyArtifact('next-item');
    editManifest(dir, (m) => (m.version = `${m.version}-inflight-${Date.now()}`));
    const candidate = await registry.register('next-item', dir);
    const result = await registry.use('next-item', async (old) => {
      await registry.promote(candidate.id); // swapped while this request holds the old version
      expect(registry.active('next-item')!.id).toBe(candidate.id);
      expect(registry.metrics().retiring).toBe(1);
      const out = await old.run(nextItemFeeds(7));
      return { version: old.version, rows: out.top_ids!.dims[0] };
    });
    expect(result).toEqual({ version: baseline.version, rows: 1 });
    for (let i = 0; i < 50 && registry.metrics().retiring > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(registry.metrics().retiring).toBe(0);
    expect((await run(3)).version).toBe(candidate.version);
    await registry.promote(baseline.id);
  });
});
