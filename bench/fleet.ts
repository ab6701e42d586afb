/**
 * Fleet benchmark (issue 18): built API servers as real processes on one Postgres database, each
 * with its own MERIDIAN_DATA_DIR and in-memory rate limits (no Redis), so they share nothing else.
 * 1. Recommendations throughput at a fixed client concurrency, round-robin over the servers, with
 *    one server (the second running, idle) and with two, in the same run: interleaved segments in
 *    the order 1-2, 2-1, 1-2, … so that the drift of a shared machine lands on both alike. The
 *    load generator, both servers and Postgres share the same machine's cores; where the CPU went
 *    is read from /proc for each.
 * 2. Promotion propagation: with both servers under light recommendation load, next-item is
 *    promoted alternately to a second registered version and back, the mutation sent to each
 *    server in turn; measured from sending the mutation until every server's servingMetrics
 *    reports that versionId (polled every 10 ms). Failed requests during the swaps are counted.
 *   node dist/bench/fleet.js [--quick]
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { silentLogger } from '../src/common/logger';
import { loadConfig } from '../src/config/config';
import { createDataSource } from '../src/db/data-source';
import { createWorkerServices } from '../src/services';
import { BENCH_ADMIN_KEY, dropDatabase, freshDatabase, markdownTable, printReport, ROOT, startServer, summarize } from './bench-utils';

const DB_NAME = 'meridian_bench_fleet';
const CONCURRENCY = 16;
const LIGHT_CONCURRENCY = 4;
const POLL_MS = 10;
const REACH_LIMIT_MS = 10_000;
/** Unmeasured load before each measured segment: caches of the server that was idle (TTL 2 s). */
const SEGMENT_WARM_S = 1;
const RECS = `query($id: ID!) { user(id: $id) { recommendations(first: 10) { product { id } } } }`;

type Server = Awaited<ReturnType<typeof startServer>>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Answer {
  ok: boolean;
  data: Record<string, unknown> | null;
  /** Why it failed: HTTP status and first error code, or the client error. */
  why?: string;
}

/** One GraphQL request with the admin key; never throws. */
async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
    const ok = res.status === 200 && !body.errors && body.data != null;
    return { ok, data: body.data ?? null, ...(ok ? {} : { why: `HTTP ${res.status} ${body.errors?.[0]?.extensions?.code ?? ''}`.trim() }) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
    return { ok: false, data: null, why: `client error ${cause}` };
  }
}

interface LoadResult {
  ms: number[];
  ok: number;
  failed: number;
  seconds: number;
  perServer: number[];
  failures: Map<string, number>;
}

/** Closed-loop recommendation requests, `concurrency` at a time, round-robin over `urls`, until stopped. */
function startLoad(urls: readonly string[], users: readonly string[], concurrency: number): { stop(): Promise<LoadResult> } {
  const r: LoadResult = { ms: [], ok: 0, failed: 0, seconds: 0, perServer: urls.map(() => 0), failures: new Map() };
  let running = true;
  let next = 0;
  const t0 = performance.now();
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const i = next++;
      const s = i % urls.length;
      const t = performance.now();
      const a = await gql(urls[s]!, RECS, { id: users[i % users.length] });
      r.ms.push(performance.now() - t);
      r.perServer[s]!++;
      if (a.ok) r.ok++;
      else {
        r.failed++;
        r.failures.set(a.why ?? '?', (r.failures.get(a.why ?? '?') ?? 0) + 1);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      r.seconds = (performance.now() - t0) / 1000;
      return r;
    },
  };
}

/** The recommendation load at CONCURRENCY for `seconds`. */
async function loadFor(urls: readonly string[], users: readonly string[], seconds: number): Promise<LoadResult> {
  const load = startLoad(urls, users, CONCURRENCY);
  await sleep(seconds * 1000);
  return load.stop();
}

/** CPU time (all threads) of every process, ms by pid, from /proc (utime + stime in USER_HZ, 100); empty without /proc. */
function cpuByPid(): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(pid), ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Busy and total CPU time of the machine, all cores, ms. */
function machineCpuMs(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

/** CPU used during a segment, ms (all threads of a process; all cores of the machine). */
interface Cpu {
  /** Every server process, in start order, whether it took requests or not. */
  servers: number[];
  /** This process: the load generator. */
  client: number;
  /** The backends of the bench database (pg_stat_activity at the end), autovacuum on it included. */
  postgres: number;
  machine: number;
}

interface Segment {
  load: LoadResult;
  cpu: Cpu;
  /** next-item session runs and the rows they scored, on the servers taking requests. */
  batches: number;
  rows: number;
}

/** A server's next-item runs and rows so far (servingMetrics), for the mean batch of a segment. */
async function nextItemBatches(url: string): Promise<{ batches: number; rows: number }> {
  const a = await gql(url, `{ servingMetrics }`);
  const models = (a.data?.servingMetrics as { models?: { kind: string; batches: number; batchSize: { sum: number } }[] } | undefined)?.models ?? [];
  const m = models.find((x) => x.kind === 'next-item');
  return { batches: m?.batches ?? 0, rows: m?.batchSize.sum ?? 0 };
}

/**
 * `warmS` seconds of the load on `serving` unmeasured (caches, JIT), then `seconds` measured, with
 * where the machine's CPU went meanwhile.
 */
async function segment(serving: readonly Server[], all: readonly Server[], users: readonly string[], pg: Client, seconds: number, warmS: number): Promise<Segment> {
  const urls = serving.map((s) => s.url);
  await loadFor(urls, users, warmS);
  const batches0 = await Promise.all(serving.map((s) => nextItemBatches(s.url)));
  const cpu0 = cpuByPid();
  const m0 = machineCpuMs();
  const result = await loadFor(urls, users, seconds);
  const m1 = machineCpuMs();
  const cpu1 = cpuByPid();
  const batches1 = await Promise.all(serving.map((s) => nextItemBatches(s.url)));
  const backends = (await pg.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [DB_NAME])).rows.map((r) => r.pid);
  const used = (pid: number | undefined) => (pid === undefined || !cpu1.has(pid) ? NaN : cpu1.get(pid)! - (cpu0.get(pid) ?? 0));
  return {
    load: result,
    batches: batches1.reduce((a, b, i) => a + b.batches - batches0[i]!.batches, 0),
    rows: batches1.reduce((a, b, i) => a + b.rows - batches0[i]!.rows, 0),
    cpu: {
      servers: all.map((s) => used(s.child.pid)),
      client: used(process.pid),
      postgres: backends.reduce((a, pid) => a + (used(pid) || 0), 0),
      machine: ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * os.cpus().length * result.seconds * 1000,
    },
  };
}

/** Segments of one configuration together. */
function combine(segments: readonly Segment[]): Segment {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const failures = new Map<string, number>();
  for (const g of segments) for (const [k, v] of g.load.failures) failures.set(k, (failures.get(k) ?? 0) + v);
  return {
    load: {
      ms: segments.flatMap((g) => g.load.ms),
      ok: sum(segments.map((g) => g.load.ok)),
      failed: sum(segments.map((g) => g.load.failed)),
      seconds: sum(segments.map((g) => g.load.seconds)),
      perServer: segments[0]!.load.perServer.map((_, i) => sum(segments.map((g) => g.load.perServer[i]!))),
      failures,
    },
    batches: sum(segments.map((g) => g.batches)),
    rows: sum(segments.map((g) => g.rows)),
    cpu: {
      servers: segments[0]!.cpu.servers.map((_, i) => sum(segments.map((g) => g.cpu.servers[i]!))),
      client: sum(segments.map((g) => g.cpu.client)),
      postgres: sum(segments.map((g) => g.cpu.postgres)),
      machine: sum(segments.map((g) => g.cpu.machine)),
    },
  };
}

/** The next-item versionId a server serves (its registry, from servingMetrics). */
async function servedNextItem(url: string): Promise<string | undefined> {
  const a = await gql(url, `{ servingMetrics }`);
  const models = (a.data?.servingMetrics as { models?: { kind: string; versionId: string }[] } | undefined)?.models ?? [];
  return models.find((m) => m.kind === 'next-item')?.versionId;
}

/** ms from `t0` until `url` serves next-item version `id` (polled every POLL_MS); NaN past the limit. */
async function reached(url: string, id: string, t0: number): Promise<number> {
  for (;;) {
    if ((await servedNextItem(url)) === id) return performance.now() - t0;
    if (performance.now() - t0 > REACH_LIMIT_MS) return NaN;
    await sleep(POLL_MS);
  }
}

/** Registers a copy of the shipped next-item artifact under another manifest version; its version id. */
async function registerSecondVersion(url: string, dir: string, dataDir: string): Promise<string> {
  const shipped = path.join(ROOT, 'model-artifacts/next-item');
  for (const f of fs.readdirSync(shipped)) {
    if (f === 'checkpoint.pt' || f === 'train.jsonl') continue; // not read by the server
    fs.copyFileSync(path.join(shipped, f), path.join(dir, f));
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { version: string };
  manifest.version = `${manifest.version}-fleet-bench`;
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  const ds = createDataSource({ url, poolSize: 2 });
  await ds.initialize();
  // The registry as a standalone job worker builds it (it registers what a trainer made); its data
  // directory is this bench's own, so the servers get the version from the database alone.
  const config = loadConfig({
    DATABASE_URL: url, MERIDIAN_DATA_DIR: dataDir, MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_INFERENCE_WORKERS: '1', MERIDIAN_JOB_WORKER: 'false',
  });
  const registry = createWorkerServices(ds, config, silentLogger()).models;
  try {
    await registry.start();
    return (await registry.register('next-item', dir)).id;
  } finally {
    await registry.stop();
    await ds.destroy();
  }
}

interface Promotion {
  /** Until the receiving server answered the mutation (it swaps before answering). */
  answeredMs: number;
  /** Until each server's servingMetrics reported the version: the receiver, the other. */
  receiverMs: number;
  otherMs: number;
  allMs: number;
  ok: boolean;
}

async function promotions(servers: readonly Server[], ids: readonly [string, string], n: number): Promise<Promotion[]> {
  const out: Promotion[] = [];
  for (let i = 0; i < n; i++) {
    const target = ids[i % 2]!;
    const receiver = (i >> 1) % servers.length; // each server receives promotions to both versions
    const t0 = performance.now();
    const answered = gql(servers[receiver]!.url, `mutation($id: ID!) { promoteModelVersion(id: $id) { id } }`, { id: target }).then((a) => ({
      ok: a.ok,
      ms: performance.now() - t0,
    }));
    const seen = await Promise.all(servers.map((s) => reached(s.url, target, t0)));
    const a = await answered;
    const other = seen.filter((_, s) => s !== receiver);
    out.push({
      answeredMs: a.ms,
      receiverMs: seen[receiver]!,
      otherMs: Math.max(...other),
      allMs: Math.max(...seen),
      ok: a.ok && seen.every((ms) => Number.isFinite(ms)),
    });
    await sleep(250); // the retired session is released once its work is done
  }
  return out;
}

/** Stops every server still running: SIGTERM, SIGKILL after 15 s. */
async function stopAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers
      .filter((s) => s.child.exitCode === null && s.child.signalCode === null)
      .map((s) => Promise.race([s.stop(), sleep(15_000).then(() => void s.child.kill('SIGKILL'))])),
  );
}

const pct = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)}%` : '-');
const causes = (m: Map<string, number>) => (m.size ? [...m].map(([k, v]) => `${k} × ${v}`).join(', ') : 'none');

export async function runFleetBench(opts: { quick: boolean }): Promise<string> {
  const rounds = opts.quick ? 2 : 4;
  const segmentS = opts.quick ? 2.5 : 5;
  const warmS = opts.quick ? 1 : 3;
  const nPromotions = opts.quick ? 6 : 20;
  const url = await freshDatabase(DB_NAME);
  const pg = new Client({ connectionString: url });
  await pg.connect();
  await pg.query('CREATE EXTENSION IF NOT EXISTS postgis');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-fleet-'));
  const servers: Server[] = [];
  const env = (name: string, seed: boolean): Record<string, string> => {
    const dataDir = path.join(tmp, name);
    fs.mkdirSync(dataDir);
    return {
      DATABASE_URL: url,
      REDIS_URL: '',
      MERIDIAN_DATA_DIR: dataDir,
      MERIDIAN_SEED_DEMO: String(seed),
      MERIDIAN_DEMO_EVENTS: '60000',
      MERIDIAN_JOB_WORKER: 'false',
      MERIDIAN_INFERENCE_WORKERS: '1',
    };
  };
  // Interrupted (Ctrl-C, a parent's SIGTERM): the servers go too.
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of servers) s.child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`fleet bench: ${signal}, servers killed\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    // The first server migrates and seeds; the second starts once it is ready. Vacuumed and
    // analyzed after the seed, so that autovacuum does not land in one of the phases.
    servers.push(await startServer(env('server-a', true)));
    await pg.query('VACUUM ANALYZE');
    const users = (await pg.query<{ id: string }>(`SELECT id::text AS id FROM users ORDER BY id LIMIT 1000`)).rows.map((r) => r.id);
    if (users.length === 0) throw new Error('no users in the bench database: the demo seed did not run');

    // 1. Throughput: both servers running; segments with A alone taking requests and with both,
    //    interleaved (1-2, 2-1, …), after a first warm-up of both.
    servers.push(await startServer(env('server-b', false)));
    await loadFor(servers.map((s) => s.url), users, warmS);
    const segments: { one: Segment[]; two: Segment[] } = { one: [], two: [] };
    for (let r = 0; r < rounds; r++) {
      for (const n of r % 2 === 0 ? [1, 2] : [2, 1]) {
        (n === 1 ? segments.one : segments.two).push(await segment(servers.slice(0, n), servers, users, pg, segmentS, SEGMENT_WARM_S));
      }
    }

    // 2. Promotions under light load, alternating between the baseline and a second version.
    const baseline = await servedNextItem(servers[0]!.url);
    if (!baseline || (await servedNextItem(servers[1]!.url)) !== baseline) throw new Error('the two servers do not serve the same next-item version at start');
    const second = await registerSecondVersion(url, fs.mkdtempSync(path.join(tmp, 'next-item-')), fs.mkdtempSync(path.join(tmp, 'registrar-')));
    const light = startLoad(
      servers.map((s) => s.url),
      users,
      LIGHT_CONCURRENCY,
    );
    await sleep(1000);
    const promoted = await promotions(servers, [second, baseline], nPromotions);
    await sleep(500);
    const lightLoad = await light.stop();

    // Report.
    const one = combine(segments.one);
    const two = combine(segments.two);
    const rps = (g: Segment) => g.load.ok / g.load.seconds;
    const share = (ms: number, g: Segment) => (100 * ms) / (g.load.seconds * 1000);
    const row = (label: string, g: Segment) => {
      const s = summarize(g.load.ms);
      const servers = g.cpu.servers.reduce((a, b) => a + b, 0);
      const rest = g.cpu.machine - servers - g.cpu.client - g.cpu.postgres;
      return [
        label, rps(g), s.p50, s.p99, `${g.load.failed} of ${g.load.ok + g.load.failed}`,
        g.cpu.servers.map((ms) => pct(share(ms, g))).join(' + '), pct(share(g.cpu.client, g)), pct(share(g.cpu.postgres, g)), pct(share(rest, g)), pct(share(g.cpu.machine, g)),
        (servers + g.cpu.client + g.cpu.postgres) / g.load.ok, g.rows / Math.max(1, g.batches),
      ];
    };
    const ratio = rps(two) / rps(one);
    const roundRatios = segments.two.map((g, r) => rps(g) / rps(segments.one[r]!));
    const stat = (xs: number[]) => {
      const finite = xs.filter((x) => Number.isFinite(x));
      const s = summarize(finite);
      return [s.p50, s.p99, finite.length ? Math.max(...finite) : NaN];
    };
    const all = stat(promoted.map((p) => p.allMs));
    const failedPromotions = promoted.filter((p) => !p.ok).length;
    const cores = os.cpus().length;
    const light50 = summarize(lightLoad.ms);
    return [
      `#### Fleet (${opts.quick ? 'quick' : 'full'}; ${cores} cores, real Postgres, demo data 60,000 events; servers, load generator and Postgres on the same machine)`,
      '',
      `Recommendations (\`user(id) { recommendations(first: 10) { product { id } } }\`, ${users.length} distinct users), ` +
        `concurrency ${CONCURRENCY} (closed loop, round-robin over the servers taking requests); both servers run throughout, server B idle in the 1-server segments. ` +
        `${rounds} rounds of one ${segmentS} s segment per configuration (order 1-2, 2-1, …), each after ${SEGMENT_WARM_S} s of its load unmeasured. ` +
        `CPU in % of one core (the machine has ${cores * 100}%); "everything else" is the machine's busy time less the columns before it: ` +
        `Postgres's background processes, other databases, other processes on the machine:`,
      '',
      markdownTable(
        [
          'configuration', 'requests/s (ok)', 'p50 ms', 'p99 ms', 'failed', 'server CPU (A + B)', 'load generator', 'Postgres (bench db backends)',
          'everything else', 'machine busy', 'CPU ms per request (servers + generator + bench db)', 'next-item mean batch',
        ],
        [row('1 server', one), row('2 servers', two)],
      ),
      '',
      `- **2 servers / 1 server: ${ratio.toFixed(2)}×**; per round: ${roundRatios.map((x) => `${x.toFixed(2)}×`).join(', ')}. ` +
        `On ${cores} cores the load generator and Postgres run on the same cores as the servers, so a second server can only use what the first leaves idle.`,
      `- Requests per server in the 2-server segments: ${two.load.perServer.join(' / ')}.`,
      `- Failed requests by cause: 1 server: ${causes(one.load.failures)}; 2 servers: ${causes(two.load.failures)}.`,
      '',
      `Promotion propagation: ${nPromotions} promotions of next-item, alternately to a second registered version (a copy of the baseline under another ` +
        `manifest version) and back to the baseline, the mutation sent to server A twice, then to B twice, and so on; time from sending \`promoteModelVersion\` until each server's ` +
        `\`servingMetrics\` reports that versionId (polled every ${POLL_MS} ms, so a reading is late by up to the poll interval plus one request):`,
      '',
      markdownTable(
        ['until', 'p50 ms', 'p99 ms', 'max ms'],
        [
          ['the receiving server answered the mutation', ...stat(promoted.map((p) => p.answeredMs))],
          ['the receiving server serves it', ...stat(promoted.map((p) => p.receiverMs))],
          ['the other server serves it', ...stat(promoted.map((p) => p.otherMs))],
          ['**every server serves it**', ...all],
        ],
      ),
      '',
      `- Target (every server within 1 s at p99): ${all[1]! < 1000 && failedPromotions === 0 ? 'met' : 'NOT met'} (p99 ${all[1]!.toFixed(0)} ms over ${nPromotions} promotions` +
        `${nPromotions < 100 ? ', which is their maximum at this count' : ''}); promotions failed or not seen everywhere within ${REACH_LIMIT_MS / 1000} s: ${failedPromotions}.`,
      `- Every server serves it, per promotion in order (ms): ${promoted.map((p) => (Number.isFinite(p.allMs) ? p.allMs.toFixed(0) : 'never')).join(', ')}.`,
      `- Light load during the promotions (concurrency ${LIGHT_CONCURRENCY}, round-robin): ${lightLoad.ok + lightLoad.failed} requests, ` +
        `${lightLoad.failed} failed (target 0: ${lightLoad.failed === 0 ? 'met' : 'NOT met'}; causes: ${causes(lightLoad.failures)}); ` +
        `p50 ${light50.p50.toFixed(1)} ms, p99 ${light50.p99.toFixed(1)} ms.`,
      `- Server config beyond the defaults: MERIDIAN_JOB_WORKER=false, MERIDIAN_INFERENCE_WORKERS=1, a MERIDIAN_DATA_DIR of its own each, REDIS_URL empty ` +
        `(limits in memory per server); the model sync stays at its default (MERIDIAN_MODEL_SYNC_MS 5 s) behind the LISTEN/NOTIFY announcement.`,
      `- Load average at the end (other processes share the machine): ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min).`,
    ].join('\n');
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await stopAll(servers);
    await pg.end().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
    await dropDatabase(DB_NAME);
  }
}

if (require.main === module) printReport(runFleetBench({ quick: process.argv.includes('--quick') }));
