/**
 * Serving benchmark (issue 4), all ratios from one run on the real Postgres:
 * 1. the recommendations query for 1,000 distinct users at concurrency 32 over HTTP against the
 *    built server, against (a) a trivial query on the same server (framework ceiling) and (b) bare
 *    onnxruntime-node batched inference of the same next-item model in this process (model
 *    ceiling); plus the inference runtime alone (worker pool + micro-batching, in this process);
 * 2. p99 at a fixed 200 requests/s, with the server's event-loop delay while inference runs;
 * 3. 50 hot swaps of the next-item model under load: failed requests and RSS growth.
 *   node dist/bench/serving.js [--quick]
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Client } from 'pg';
import { silentLogger } from '../src/common/logger';
import { createDataSource } from '../src/db/data-source';
import { ModelMetrics } from '../src/inference/inference.metrics';
import { MicroBatcher } from '../src/inference/micro-batcher';
import { createModelFiles } from '../src/inference/model-files';
import { ModelVersionRepository } from '../src/inference/model-version.repository';
import { type InferenceMetricsSnapshot, ModelRegistry } from '../src/inference/model-registry';
import { type Feeds, int64 } from '../src/inference/tensor';
import { WorkerPool } from '../src/inference/worker-pool';
import { loadConfig } from '../src/config/config';
import { modelKinds } from '../src/services';
import { BENCH_ADMIN_KEY, dropDatabase, freshDatabase, markdownTable, printReport, ROOT, startServer, summarize } from './bench-utils';

const CONCURRENCY = 32;
const RECS = `query($id: ID!) { user(id: $id) { recommendations(first: 10) { product { id name } score reason } } }`;
const TRIVIAL = `{ __typename }`;
const MODEL_DIR = path.join(ROOT, 'model-artifacts/next-item');

interface Timed {
  ms: number[];
  failures: number;
  seconds: number;
}

/** Failed requests by HTTP status and first error code, for the report. */
const failureReasons = new Map<string, number>();

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<{ ok: boolean; body: unknown }> {
  let res: Response;
  let body: { errors?: { extensions?: { code?: string } }[]; data?: unknown };
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    body = (await res.json()) as typeof body;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
    const why = `client error ${cause}`;
    failureReasons.set(why, (failureReasons.get(why) ?? 0) + 1);
    throw err;
  }
  const ok = res.status === 200 && !body.errors && body.data != null;
  if (!ok) {
    const why = `HTTP ${res.status} ${body.errors?.[0]?.extensions?.code ?? ''}`.trim();
    failureReasons.set(why, (failureReasons.get(why) ?? 0) + 1);
  }
  return { ok, body };
}

/** `n` requests, `concurrency` at a time (closed loop). */
async function closedLoop(n: number, concurrency: number, one: (i: number) => Promise<boolean>): Promise<Timed> {
  const ms: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        const ok = await one(i).catch(() => false);
        ms.push(performance.now() - s);
        if (!ok) failures++;
      }
    }),
  );
  return { ms, failures, seconds: (performance.now() - t0) / 1000 };
}

/** Requests started at a fixed rate whatever the latency (open loop), for `seconds`. */
async function openLoop(rate: number, seconds: number, one: (i: number) => Promise<boolean>): Promise<Timed> {
  const ms: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const s = performance.now();
        const ok = await one(i).catch(() => false);
        ms.push(performance.now() - s);
        if (!ok) failures++;
      })(),
    );
  }
  await Promise.all(pending);
  return { ms, failures, seconds: (performance.now() - t0) / 1000 };
}

function randomSequences(batch: number, L: number, nItems: number, seed: number): BigInt64Array {
  const seq = new BigInt64Array(batch * L);
  let x = seed;
  for (let i = 0; i < seq.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    if (i % L >= L - 12) seq[i] = BigInt(1 + (x % nItems));
  }
  return seq;
}

/**
 * Bare onnxruntime-node: batches of 32 sequences, run back to back in this process. Measured with
 * ORT's default threads and with one intra-op thread (what each server session uses); the faster
 * is the model ceiling.
 */
async function bareOrt(seconds: number): Promise<{ seqPerSec: number; batchMs: ReturnType<typeof summarize>; threads: string }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8')) as { max_len: number; n_items: number };
  let best: { seqPerSec: number; batchMs: ReturnType<typeof summarize>; threads: string } | null = null;
  for (const threads of [undefined, 1]) {
    const session = await ort.InferenceSession.create(path.join(MODEL_DIR, 'model.onnx'), {
      executionProviders: ['cpu'],
      ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    });
    const B = CONCURRENCY;
    const L = manifest.max_len;
    const feeds = {
      item_seq: new ort.Tensor('int64', randomSequences(B, L, manifest.n_items, 7), [B, L]),
      hour_of_week: new ort.Tensor('int64', new BigInt64Array(B).fill(40n), [B]),
      cell: new ort.Tensor('int64', new BigInt64Array(B).fill(3n), [B]),
    };
    for (let i = 0; i < 20; i++) await session.run(feeds);
    const ms: number[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 2) {
      const s = performance.now();
      await session.run(feeds);
      ms.push(performance.now() - s);
    }
    const elapsed = (performance.now() - t0) / 1000;
    await session.release();
    const r = { seqPerSec: (ms.length * B) / elapsed, batchMs: summarize(ms), threads: threads ? '1 thread' : 'default threads' };
    if (!best || r.seqPerSec > best.seqPerSec) best = r;
  }
  return best!;
}

/** The runtime alone: worker pool + micro-batcher, 32 concurrent single-sequence callers. */
async function runtimeOnly(seconds: number): Promise<{ seqPerSec: number; ms: ReturnType<typeof summarize>; meanBatch: number; loopP99: number }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8')) as { max_len: number; n_items: number };
  const pool = new WorkerPool({ size: 1, threads: 1, providers: ['cpu'] }, silentLogger());
  const session = await pool.load(new Uint8Array(fs.readFileSync(path.join(MODEL_DIR, 'model.onnx'))));
  const metrics = new ModelMetrics('next-item', 'bench', '0', 'cpu');
  const batcher = new MicroBatcher((f) => pool.run(session.id, f), { windowMs: 2, maxBatch: 64 }, metrics);
  const L = manifest.max_len;
  const feeds = (i: number): Feeds => ({
    item_seq: int64(randomSequences(1, L, manifest.n_items, i), [1, L]),
    hour_of_week: int64(BigInt64Array.from([40n]), [1]),
    cell: int64(BigInt64Array.from([3n]), [1]),
  });
  let done = 0;
  const ms: number[] = [];
  // Event-loop delay of this process while the runtime serves 32 callers: sessions run in the worker.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
        const s = performance.now();
        await batcher.submit(feeds(w * 100_000 + i));
        ms.push(performance.now() - s);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  loop.disable();
  await pool.stop();
  return {
    seqPerSec: done / elapsed,
    ms: summarize(ms),
    meanBatch: metrics.batchSize.snapshot().sum / Math.max(1, metrics.batches),
    loopP99: loop.percentile(99) / 1e6,
  };
}

/** Session churn in this process: load a new next-item session, run it, release the old one, n times. RSS (MB) every n/4. */
async function swapChurn(n: number): Promise<number[]> {
  const pool = new WorkerPool({ size: 1, threads: 1, providers: ['cpu'] }, silentLogger());
  const bytes = fs.readFileSync(path.join(MODEL_DIR, 'model.onnx'));
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8')) as { max_len: number; n_items: number };
  const feeds = (): Feeds => ({
    item_seq: int64(randomSequences(1, manifest.max_len, manifest.n_items, 3), [1, manifest.max_len]),
    hour_of_week: int64(BigInt64Array.from([1n]), [1]),
    cell: int64(BigInt64Array.from([1n]), [1]),
  });
  let current = await pool.load(new Uint8Array(bytes));
  for (let i = 0; i < 10; i++) await pool.run(current.id, feeds());
  const rss = [process.memoryUsage().rss / 1048576];
  for (let s = 1; s <= n; s++) {
    const next = await pool.load(new Uint8Array(bytes));
    for (let i = 0; i < 5; i++) await pool.run(next.id, feeds());
    await pool.unload(current.id);
    current = next;
    if (s % Math.max(1, Math.floor(n / 4)) === 0) rss.push(process.memoryUsage().rss / 1048576);
  }
  await pool.stop();
  return rss;
}

type MemoryMb = InferenceMetricsSnapshot['memoryMb'];

/** The server's servingMetrics (admin key); undefined when the query failed. */
async function servingMetrics(url: string, resetEventLoopDelay = false): Promise<InferenceMetricsSnapshot | undefined> {
  const r = await post(url, `{ servingMetrics(resetEventLoopDelay: ${resetEventLoopDelay}) }`);
  return (r.body as { data?: { servingMetrics: InferenceMetricsSnapshot } }).data?.servingMetrics;
}

/** The server's own memory breakdown (servingMetrics.memoryMb). */
async function serverMemory(url: string): Promise<MemoryMb> {
  return (await servingMetrics(url))!.memoryMb;
}

/** Per-field medians of the server's memory read every 250 ms for `ms`. */
async function medianMemory(url: string, ms: number): Promise<MemoryMb> {
  const reads: MemoryMb[] = [];
  for (const end = performance.now() + ms; performance.now() < end; ) {
    reads.push(await serverMemory(url));
    await new Promise((r) => setTimeout(r, 250));
  }
  const median = (k: keyof MemoryMb) => reads.map((m) => m[k]).sort((a, b) => a - b)[reads.length >> 1]!;
  return { rss: median('rss'), heapUsed: median('heapUsed'), heapTotal: median('heapTotal'), external: median('external'), arrayBuffers: median('arrayBuffers') };
}

const native = (m: MemoryMb) => m.rss - m.heapTotal - m.external;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;

async function servedVersion(url: string): Promise<string | null> {
  return (await servingMetrics(url))?.models.find((x) => x.kind === 'next-item')?.version ?? null;
}

export async function runServingBench({ quick }: { quick: boolean }): Promise<string> {
  const dbName = 'meridian_bench_serving';
  const url = await freshDatabase(dbName);
  const server = await startServer({
    DATABASE_URL: url,
    MERIDIAN_SEED_DEMO: 'true',
    MERIDIAN_DEMO_EVENTS: '60000',
    MERIDIAN_MODEL_SYNC_MS: '200',
    LOG_LEVEL: 'info',
  });
  const notes: string[] = [];
  try {
    const pg = new Client({ connectionString: url });
    await pg.connect();
    const users = ((await pg.query(`SELECT id::text AS id FROM users ORDER BY id LIMIT 1000`)).rows as { id: string }[]).map((r) => r.id);
    await pg.end();
    const n = quick ? 300 : 1000;

    // Warm-up: JIT, pools; and every review text classified once by the sentiment model (memoised
    // per model version, a one-time cost that would otherwise land on the first requests).
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const r = await post(server.url, `query($after: String) { products(first: 100, after: $after) { edges { node { sentimentSummary { reviewCount } } } pageInfo { hasNextPage endCursor } } }`, { after });
      const p = (r.body as { data?: { products: { pageInfo: { hasNextPage: boolean; endCursor: string } } } }).data?.products.pageInfo;
      if (!p?.hasNextPage) break;
      after = p.endCursor;
    }
    await closedLoop(64, 8, async (i) => (await post(server.url, RECS, { id: users[i % users.length] })).ok);

    // 1. Throughput: trivial query (framework ceiling), recommendations, bare ORT, runtime alone.
    //    The event-loop delay is read after each closed loop: the trivial query's is the control (a
    //    saturated loop with no inference at all).
    const loopDelay = async () => (await servingMetrics(server.url, true))!.eventLoopDelayMs;
    await loopDelay();
    const trivial = await closedLoop(n, CONCURRENCY, async () => (await post(server.url, TRIVIAL)).ok);
    const loopTrivial = await loopDelay();
    const recs = await closedLoop(n, CONCURRENCY, async (i) => (await post(server.url, RECS, { id: users[i % users.length] })).ok);
    const loopClosed = await loopDelay();
    const bare = await bareOrt(quick ? 3 : 6);
    const runtime = await runtimeOnly(quick ? 3 : 6);
    const churn = await swapChurn(quick ? 40 : 200);

    // 2. Fixed rate: 200 requests/s, after 3 s at that rate unmeasured. The phases above leave the
    //    server idle for longer than the cache TTL, so the first second refills every cache at once;
    //    that warm-up is reported on its own.
    const rate = 200;
    const warm = await openLoop(rate, 3, async (i) => (await post(server.url, RECS, { id: users[(i * 11) % users.length] })).ok);
    const fixed = await openLoop(rate, quick ? 5 : 10, async (i) => (await post(server.url, RECS, { id: users[(i * 7) % users.length] })).ok);
    const metrics = (await servingMetrics(server.url, true))!;
    const nextItem = metrics.models.find((m) => m.kind === 'next-item');

    // 3. Hot swaps under load: a second version of the same model, activated in the database
    //    by this process; the server's registry sync swaps it in (as for a second server instance).
    const ds = createDataSource({ url, poolSize: 2 });
    await ds.initialize();
    const candidateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-art-'));
    for (const f of ['model.onnx', 'manifest.json', 'items.json', 'item_embeddings.f32']) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(candidateDir, f));
    const man = JSON.parse(fs.readFileSync(path.join(candidateDir, 'manifest.json'), 'utf8')) as { version: string };
    man.version = `${man.version}-bench`;
    fs.writeFileSync(path.join(candidateDir, 'manifest.json'), JSON.stringify(man));
    const config = loadConfig({ MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_INFERENCE_WORKERS: '1', MERIDIAN_DATA_DIR: `${candidateDir}-data` });
    const artifactsDir = path.join(ROOT, 'model-artifacts');
    const registry = new ModelRegistry(ds, { inference: config.inference, artifactsDir, files: createModelFiles(ds, config.modelStore, artifactsDir) }, silentLogger(), modelKinds);
    await registry.start();
    const candidate = await registry.register('next-item', candidateDir);
    await registry.stop();
    const repo = new ModelVersionRepository(ds);
    const baseline = (await repo.active('next-item'))!;
    const swaps = quick ? 10 : 50;
    let stop = false;
    let swapOk = 0;
    let swapFail = 0;
    let i0 = 0;
    const load = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (!stop) {
          const r = await post(server.url, RECS, { id: users[i0++ % users.length] }).catch(() => ({ ok: false, body: null }));
          if (r.ok) swapOk++;
          else swapFail++;
        }
      }),
    );
    // RSS is compared in the same steady state: under the same load, before and after the swaps.
    // A single reading mostly says where V8 was in its GC cycle (±50 MB here), so memory is the
    // median of readings every 250 ms over 3 s, before and after.
    // Control: the same load for about as long as the swaps take, without swapping.
    await new Promise((r) => setTimeout(r, quick ? 1000 : 3000));
    const memControl = await medianMemory(server.url, 3000);
    await new Promise((r) => setTimeout(r, quick ? 3000 : 11_000));
    const memBefore = await medianMemory(server.url, 3000);
    const rssBefore = memBefore.rss;
    let swapped = 0;
    const swapStart = performance.now();
    for (let s = 0; s < swaps; s++) {
      const target = s % 2 === 0 ? candidate : baseline;
      await repo.activate(target.id, 'current');
      for (let t = 0; t < 100 && (await servedVersion(server.url)) !== target.version; t++) await new Promise((r) => setTimeout(r, 50));
      if ((await servedVersion(server.url)) === target.version) swapped++;
    }
    const swapSeconds = (performance.now() - swapStart) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // retired sessions are released once their work is done
    const memAfter = await medianMemory(server.url, 3000);
    const rssAfter = memAfter.rss;
    stop = true;
    await load;
    if ((await repo.active('next-item'))!.id !== baseline.id) await repo.activate(baseline.id, 'current');
    await ds.destroy();
    fs.rmSync(candidateDir, { recursive: true, force: true });

    const rec = summarize(recs.ms);
    const triv = summarize(trivial.ms);
    const fix = summarize(fixed.ms);
    const recTput = n / recs.seconds;
    const trivTput = n / trivial.seconds;
    const rows: (string | number)[][] = [
      ['trivial query `{ __typename }` (framework ceiling)', trivTput, triv.p50, triv.p99, trivial.failures],
      [`recommendations, ${n} distinct users, concurrency ${CONCURRENCY}`, recTput, rec.p50, rec.p99, recs.failures],
      [`bare onnxruntime-node, next-item, batches of ${CONCURRENCY}, this process, ${bare.threads} (model ceiling, sequences/s; latency per batch)`, bare.seqPerSec, bare.batchMs.p50, bare.batchMs.p99, 0],
      [`inference runtime alone: worker + micro-batching, ${CONCURRENCY} callers (sequences/s)`, runtime.seqPerSec, runtime.ms.p50, runtime.ms.p99, 0],
      [`recommendations at a fixed ${rate} req/s, first 3 s after idle (caches refilling; not the target)`, warm.ms.length / warm.seconds, summarize(warm.ms).p50, summarize(warm.ms).p99, warm.failures],
      [`recommendations at a fixed ${rate} req/s`, fixed.ms.length / fixed.seconds, fix.p50, fix.p99, fixed.failures],
    ];
    const check = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const meanBatch = nextItem && nextItem.batchSize.count ? nextItem.batchSize.sum / nextItem.batchSize.count : 0;
    notes.push(
      `- p99 at ${rate} req/s: ${fix.p99.toFixed(1)} ms (target < 50 ms: ${check(fix.p99 < 50)}); failures ${fixed.failures}.`,
      `- Recommendations throughput ${recTput.toFixed(0)} req/s = ${((100 * recTput) / trivTput).toFixed(1)}% of the trivial query and ` +
        `${((100 * recTput) / bare.seqPerSec).toFixed(2)}% of the bare model ceiling (${bare.seqPerSec.toFixed(0)} sequences/s; target ≥ 50%: ${check(recTput >= bare.seqPerSec / 2)}). ` +
        `The inference runtime alone reaches ${runtime.seqPerSec.toFixed(0)} sequences/s = ${((100 * runtime.seqPerSec) / bare.seqPerSec).toFixed(0)}% of the ceiling (mean batch ${runtime.meanBatch.toFixed(1)}).`,
      `- Server event-loop delay p99 while inference runs: ${loopClosed.p99.toFixed(1)} ms at concurrency ${CONCURRENCY}, ${metrics.eventLoopDelayMs.p99.toFixed(1)} ms at ${rate} req/s (target < 20 ms: ${check(Math.max(loopClosed.p99, metrics.eventLoopDelayMs.p99) < 20)}); control, the trivial query at concurrency ${CONCURRENCY} (no inference): ${loopTrivial.p99.toFixed(1)} ms; in-process with the runtime alone serving ${runtime.seqPerSec.toFixed(0)} sequences/s: ${runtime.loopP99.toFixed(1)} ms; server-side next-item mean batch ${meanBatch.toFixed(1)}, model latency p99 ${nextItem?.latencyMs.p99?.toFixed(1) ?? '-'} ms.`,
      `- Hot swaps: ${swapped}/${swaps} swaps observed by the server in ${swapSeconds.toFixed(1)} s under ${CONCURRENCY} concurrent recommendation requests; ` +
        `${swapOk} requests succeeded, ${swapFail} failed (target 0: ${check(swapFail === 0 && swapped === swaps)}); server RSS (median of 3 s under the same load) ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB ` +
        `(${((100 * (rssAfter - rssBefore)) / rssBefore).toFixed(1)}%, target < 10%: ${check(rssAfter < rssBefore * 1.1)}). ` +
        `Of the growth: V8 heap reserved ${signed(memAfter.heapTotal - memBefore.heapTotal)} MB (used ${signed(memAfter.heapUsed - memBefore.heapUsed)}), ` +
        `external ${signed(memAfter.external - memBefore.external)} MB, the rest (native: sessions, allocator pools) ${signed(native(memAfter) - native(memBefore))} MB. ` +
        `Control, the ${quick ? 3 : 11} s of the same load just before, without swaps: RSS ${memControl.rss.toFixed(0)} → ${memBefore.rss.toFixed(0)} MB ` +
        `(${((100 * (memBefore.rss - memControl.rss)) / memControl.rss).toFixed(1)}%; V8 heap reserved ${signed(memBefore.heapTotal - memControl.heapTotal)} MB, native ${signed(native(memBefore) - native(memControl))} MB).`,
    );
    notes.push(
      `- Session churn in one process (load, run, release; ${quick ? 40 : 200} times): RSS ${churn.map((m) => m.toFixed(0)).join(' → ')} MB ` +
        '(allocator pools grow over the first swaps, then stay flat: no per-swap leak).',
    );
    if (failureReasons.size) notes.push(`- Failed requests by cause: ${[...failureReasons].map(([k, v]) => `${k} × ${v}`).join(', ')}.`);
    notes.push(`- Load average during the run (other processes share the machine): ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min).`);
    return [
      `### Serving (${quick ? 'quick' : 'full'}; ${os.cpus().length} cores, real Postgres, demo data 60,000 events)`,
      '',
      markdownTable(['measurement', 'throughput (/s)', 'p50 ms', 'p99 ms', 'failures'], rows),
      '',
      ...notes,
    ].join('\n');
  } finally {
    await server.stop();
    await dropDatabase(dbName);
  }
}

if (require.main === module) printReport(runServingBench({ quick: process.argv.includes('--quick') }));
