/**
 * Soak benchmark (issue 16): does normal traffic stay fast while subscriptions, slow analytics and
 * hostile noise run beside it for minutes? Target: normal-query p99 < 100 ms on real Postgres.
 *
 *   node dist/bench/soak.js [--quick] [--minutes=N] [--without=subscriptions,analytics,hostile]
 *
 * The built server (dist/src/main.js) runs as a child process on a fresh database with the demo
 * world (60,000 events); the load comes from worker threads of this process (bench/soak-worker.ts),
 * so the server's event loop, the one measured, does no client work, and the thread that times
 * normal queries does nothing else.
 * - Phase A, baseline (60 s; 15 s with --quick): normal traffic alone, an open loop of typical
 *   frontend/admin queries at 20 requests/s plus /healthz at 2/s.
 * - Phase B, soak (10 minutes; 1 with --quick; --minutes=N): the same normal traffic, plus
 *   ~320 graphql-ws subscriptions on 32 sockets (8 admin keys, under the 10-per-socket and
 *   50-per-key caps) held open and churned, queued training jobs cancelled and replaced under
 *   them, slow analytics loops (2 partner keys and an admin key, 2 loops each), and hostile noise
 *   (2 MiB bodies from a frontend key, sockets that never send connection_init).
 * The report gives B against A (same run, same machine), the server's CPU and RSS from /proc, its
 * event-loop delay, and its CPU once every subscription is closed (polling must have stopped).
 * --without drops stress components, to find which one hurts.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { intOption, parseArgs } from '../src/tools/cli-args';
import { BENCH_ADMIN_KEY, dropDatabase, freshDatabase, markdownTable, percentile, startServer } from './bench-utils';
import type { AnalyticsCount, FrontendIdentity, NormalJob, NormalResult, StressJob, StressResult } from './soak-worker';

export interface SoakOptions {
  readonly quick?: boolean;
  /** Length of the soak phase; defaults to 10 (1 with quick). */
  readonly minutes?: number;
  /** Stress components left out of phase B. */
  readonly without?: readonly ('subscriptions' | 'analytics' | 'hostile')[];
  readonly log?: (line: string) => void;
}

const TARGET_P99_MS = 100;
const NORMAL_RATE = 20;
const HEALTHZ_RATE = 2;
const DB_NAME = 'meridian_bench_soak';
const DEMO_EVENTS = 60_000;
/** What the bench server runs with beyond the defaults, and why (printed in the report). */
const SERVER_ENV: Record<string, string> = {
  MERIDIAN_SEED_DEMO: 'true',
  MERIDIAN_DEMO_EVENTS: String(DEMO_EVENTS),
  // Jobs stay queued, so subscriptions on them stay open (no trainer runs during the soak).
  MERIDIAN_JOB_WORKER: 'false',
  // Partners may send ad-hoc analytics documents (not only the registered allow-list).
  PARTNER_ALLOWLIST_ONLY: 'false',
  // Budgets large enough that partner analytics keep running for the whole soak instead of being
  // refused after the first minute: the load is real, not refused.
  MERIDIAN_DP_BUDGET_PER_DAY: '1000000',
  RATE_LIMIT_PARTNER_COST: '1000000000',
  RATE_LIMIT_ADMIN_COST: '1000000000',
};

interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function dist(ms: readonly number[]): Dist {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function runWorker<R>(job: NormalJob | StressJob): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'soak-worker.js'), { workerData: job });
    w.once('message', (m: R) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`soak worker (${job.role}) exited with ${code}`)));
  });
}

// ---------------------------------------------------------------------------------------------
// The server process from /proc (Linux): CPU seconds (all its threads) and resident memory.

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcSample {
  at: number;
  cpuSeconds: number;
  rssMb: number;
}

function proc(pid: number): ProcSample | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    return { at: performance.now(), cpuSeconds, rssMb: rssKb / 1024 };
  } catch {
    return null;
  }
}

/** Server CPU between two samples, in % of one core. */
function cpuPct(a: ProcSample | null, b: ProcSample | null): number {
  if (!a || !b) return NaN;
  return (100 * (b.cpuSeconds - a.cpuSeconds)) / ((b.at - a.at) / 1000);
}

async function cpuOver(pid: number, ms: number): Promise<number> {
  const a = proc(pid);
  await sleep(ms);
  return cpuPct(a, proc(pid));
}

// ---------------------------------------------------------------------------------------------

async function gql<T>(url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 60)}…: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function createKey(url: string, role: 'ADMIN' | 'FRONTEND' | 'PARTNER', name: string, userId?: string): Promise<string> {
  const d = await gql<{ createApiKey: { secret: string } }>(
    url,
    BENCH_ADMIN_KEY,
    `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }`,
    { i: { name, role, userId } },
  );
  return d.createApiKey.secret;
}

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** The server's event-loop delay since the last call (servingMetrics resets it). */
async function loopDelay(url: string): Promise<LoopDelay> {
  const d = await gql<{ servingMetrics: { eventLoopDelayMs: LoopDelay } }>(url, BENCH_ADMIN_KEY, `{ servingMetrics(resetEventLoopDelay: true) }`);
  return d.servingMetrics.eventLoopDelayMs;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const countList = (m: Record<string, number>) =>
  Object.keys(m).length ? Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} × ${v}`).join(', ') : 'none';

export async function runSoakBench(opts: SoakOptions = {}): Promise<string> {
  const quick = opts.quick ?? false;
  const minutes = opts.minutes ?? (quick ? 1 : 10);
  const baselineSeconds = quick ? 15 : 60;
  const warmSeconds = quick ? 5 : 15;
  const without = new Set(opts.without ?? []);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));

  log(`soak: fresh database ${DB_NAME}, seeding ${DEMO_EVENTS} demo events through the server's own seeder…`);
  const dbUrl = await freshDatabase(DB_NAME);
  const server = await startServer({ DATABASE_URL: dbUrl, ...SERVER_ENV });
  const pid = server.child.pid!;
  const url = server.url.replace(/\/graphql$/, '').replace(/\/$/, '');
  try {
    const pg = new Client({ connectionString: dbUrl });
    await pg.connect();
    const userIds = ((await pg.query(`SELECT id::text AS id FROM users ORDER BY id LIMIT 1000`)).rows as { id: string }[]).map((r) => r.id);
    await pg.end();

    // Keys: normal traffic (2 frontend keys bound to users, 1 admin), 8 admin keys for
    // subscriptions (8 × 4 sockets × 10 = 320, 40 per key: under both caps with room to churn),
    // 2 partner keys + 1 admin key for analytics, an anonymous frontend key for hostile noise.
    const frontend: FrontendIdentity[] = [];
    for (let i = 0; i < 2; i++) frontend.push({ key: await createKey(url, 'FRONTEND', `soak frontend ${i}`, userIds[i * 10]), userId: userIds[i * 10]! });
    const normalAdmin = await createKey(url, 'ADMIN', 'soak normal admin');
    const subKeys: string[] = [];
    for (let i = 0; i < 8; i++) subKeys.push(await createKey(url, 'ADMIN', `soak subscriptions ${i}`));
    const partnerKeys = [await createKey(url, 'PARTNER', 'soak partner 1'), await createKey(url, 'PARTNER', 'soak partner 2')];
    const analyticsAdmin = await createKey(url, 'ADMIN', 'soak analytics admin');
    const anonymous = await createKey(url, 'FRONTEND', 'soak anonymous');
    const jobIds: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = await gql<{ startFineTuning: { id: string } }>(url, BENCH_ADMIN_KEY, `mutation { startFineTuning(input: { modelKind: NEXT_ITEM, fromScratch: true }) { id } }`);
      jobIds.push(d.startFineTuning.id);
    }

    const normalJob = (seconds: number): NormalJob => ({
      role: 'normal', url, seconds, rate: NORMAL_RATE, healthzRate: HEALTHZ_RATE, frontend, adminKey: normalAdmin, userIds,
    });

    log(`soak: warm-up ${warmSeconds} s (not measured)`);
    await runWorker<NormalResult>(normalJob(warmSeconds));
    // Control for the "polling stopped" check: the same server idle before any subscription.
    await sleep(2000);
    const idleBefore = await cpuOver(pid, 5000);

    log(`soak: phase A, baseline: normal traffic alone for ${baselineSeconds} s`);
    await loopDelay(url);
    const procA0 = proc(pid);
    const a = await runWorker<NormalResult>(normalJob(baselineSeconds));
    const procA1 = proc(pid);
    const loopA = await loopDelay(url);

    log(`soak: phase B, soak: ${minutes} min of normal traffic with ${['subscriptions', 'analytics', 'hostile'].filter((c) => !without.has(c as 'hostile')).join(', ') || 'nothing'} beside it`);
    const soakSeconds = minutes * 60;
    const stressJob: StressJob = {
      role: 'stress', url, seconds: soakSeconds,
      subscriptions: !without.has('subscriptions'), analytics: !without.has('analytics'), hostile: !without.has('hostile'),
      subKeys, socketsPerKey: 4, subsPerSocket: 10, jobIds, jobChurnSeconds: 20, jobAdminKey: BENCH_ADMIN_KEY,
      partnerKeys, analyticsAdminKey: analyticsAdmin, loopsPerKey: 2, anonymousFrontendKey: anonymous, hostileEverySeconds: 2,
    };
    const procB0 = proc(pid);
    const rssSeries: number[] = [procB0?.rssMb ?? NaN];
    const t0 = performance.now();
    const stressP = runWorker<StressResult>(stressJob);
    const normalP = runWorker<NormalResult>(normalJob(soakSeconds));
    // RSS every tenth of the soak: a steady climb is the leak signal, a sawtooth is GC.
    const sampler = (async () => {
      for (let i = 1; i < 10; i++) {
        await sleep(Math.max(0, t0 + (i * soakSeconds * 1000) / 10 - performance.now()));
        rssSeries.push(proc(pid)?.rssMb ?? NaN);
      }
    })();
    const b = await normalP;
    const procB1 = proc(pid);
    const loopB = await loopDelay(url);
    const stress = await stressP;
    await sampler;
    rssSeries.push(procB1?.rssMb ?? NaN);

    // Every socket is closed now; watchers must have stopped polling the database.
    await sleep(2000);
    const idleAfter = await cpuOver(pid, 5000);
    const procEnd = proc(pid);

    return report({
      quick, minutes, baselineSeconds, without, a, b, loopA, loopB, stress, idleBefore, idleAfter,
      cpuA: cpuPct(procA0, procA1), cpuB: cpuPct(procB0, procB1), procA0, procEnd, rssSeries,
    });
  } finally {
    await server.stop();
    await dropDatabase(DB_NAME);
  }
}

interface ReportInput {
  quick: boolean;
  minutes: number;
  baselineSeconds: number;
  without: Set<string>;
  a: NormalResult;
  b: NormalResult;
  loopA: LoopDelay;
  loopB: LoopDelay;
  stress: StressResult;
  idleBefore: number;
  idleAfter: number;
  cpuA: number;
  cpuB: number;
  procA0: ProcSample | null;
  procEnd: ProcSample | null;
  rssSeries: number[];
}

function report(r: ReportInput): string {
  const all = (n: NormalResult) => Object.values(n.byKind).flat();
  const failures = (n: NormalResult) => Object.entries(n.failures).filter(([k]) => !k.startsWith('healthz')).reduce((s, [, v]) => s + v, 0);
  const da = dist(all(r.a));
  const db = dist(all(r.b));
  const ha = dist(r.a.healthz);
  const hb = dist(r.b.healthz);
  const ratio = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(2)}×` : '-');
  const met = db.p99 < TARGET_P99_MS;
  const lines: string[] = [];
  lines.push(
    `### Soak (${r.quick ? 'quick' : 'full'}; ${r.minutes} min soak, ${r.baselineSeconds} s baseline; ${os.cpus().length} cores, real Postgres, demo data ${DEMO_EVENTS.toLocaleString('en-US')} events)`,
    '',
    `Normal traffic: ${NORMAL_RATE} GraphQL requests/s, open loop (products page, a frontend user's recent events, trending near a city, an admin user read; in turn) + /healthz ${HEALTHZ_RATE}/s.` +
      (r.without.size ? ` **Left out of phase B: ${[...r.without].join(', ')}.**` : ''),
    '',
    markdownTable(
      ['normal queries', 'requests', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'failures', 'server CPU % of a core', 'server event-loop delay p99 / max ms'],
      [
        ['A: baseline, alone', da.n, da.p50, da.p95, da.p99, da.max, failures(r.a), r.cpuA, `${f1(r.loopA.p99)} / ${f1(r.loopA.max)}`],
        ['B: soak, with the stress beside it', db.n, db.p50, db.p95, db.p99, db.max, failures(r.b), r.cpuB, `${f1(r.loopB.p99)} / ${f1(r.loopB.max)}`],
        ['ratio B/A', '', ratio(db.p50, da.p50), ratio(db.p95, da.p95), ratio(db.p99, da.p99), ratio(db.max, da.max), '', ratio(r.cpuB, r.cpuA), `${ratio(r.loopB.p99, r.loopA.p99)} / ${ratio(r.loopB.max, r.loopA.max)}`],
      ].map((row) => row.map((v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))),
    ),
    '',
    `- **Target normal-query p99 < ${TARGET_P99_MS} ms during the soak: ${met ? 'met' : 'NOT met'} (${f1(db.p99)} ms; baseline ${f1(da.p99)} ms, ${ratio(db.p99, da.p99)}).**`,
    `- /healthz p99: ${f1(ha.p99)} ms alone, ${f1(hb.p99)} ms during the soak (max ${f1(hb.max)} ms; ${hb.n} probes).`,
    '',
    markdownTable(
      ['query kind', 'A p50', 'A p99', 'B p50', 'B p99', 'B max', 'B/A p99'],
      Object.keys(r.a.byKind).map((k) => {
        const x = dist(r.a.byKind[k]!);
        const y = dist(r.b.byKind[k] ?? []);
        return [k, f1(x.p50), f1(x.p99), f1(y.p50), f1(y.p99), f1(y.max), ratio(y.p99, x.p99)];
      }),
    ),
    '',
    `- Failed normal requests by cause: A ${countList(r.a.failures)}; B ${countList(r.b.failures)}.`,
  );

  const s = r.stress.subs;
  const first = dist(s.firstEventMs);
  if (!r.without.has('subscriptions')) {
    lines.push(
      `- Subscriptions: ${s.opened} subscribes sent on ${s.socketsOpened} sockets (8 admin keys), peak ${s.peakOpen} open at once; ${s.events} events received; ` +
        `subscribe→first event p50 ${f1(first.p50)} ms, p99 ${f1(first.p99)} ms; ${s.clientCompleted} completed by the client (churn), ${s.serverCompleted} ended by the server ` +
        `(${s.jobsCancelled} watched jobs cancelled, ${s.jobsStarted} queued in their place); ${s.socketsChurned} sockets closed and reopened; errors: ${countList(s.errors)}; ` +
        `sockets closed by the server: ${countList(s.unexpectedCloses)}.`,
    );
  }
  if (!r.without.has('analytics')) {
    lines.push(
      '',
      markdownTable(
        ['slow analytics (2 loops per key, 30 s client limit)', 'answered', 'p50 ms', 'p99 ms', 'errors by code', 'timed out'],
        Object.entries(r.stress.analytics)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([name, c]: [string, AnalyticsCount]) => {
            const d = dist(c.ms);
            return [name, c.answered, f1(d.p50), f1(d.p99), countList(c.errors), c.timedOut];
          }),
      ),
      '',
    );
  }
  const h = r.stress.hostile;
  if (!r.without.has('hostile')) {
    const sc = dist(h.silentCloseMs);
    lines.push(
      `- Hostile noise: 2 MiB ingestEvents bodies from an anonymous frontend key: ${countList(h.oversized)}; ${h.silentSockets} sockets that never sent connection_init, ` +
        `closed by: ${countList(h.silentCloses)} (open→close p50 ${f1(sc.p50)} ms, max ${f1(sc.max)} ms).`,
    );
  }
  const rssStart = r.procA0?.rssMb ?? NaN;
  const rssEnd = r.procEnd?.rssMb ?? NaN;
  lines.push(
    `- Server process (/proc, all threads): RSS ${f1(rssStart)} MB before phase A, ${f1(rssEnd)} MB after the soak (${ratio(rssEnd, rssStart)}); ` +
      `during the soak, every tenth: ${r.rssSeries.map((x) => x.toFixed(0)).join(' → ')} MB.`,
    `- Polling stopped: server CPU over 5 s with every socket closed ${f1(r.idleAfter)}% of a core, against ${f1(r.idleBefore)}% idle before any subscription (same server).`,
    `- Server config beyond the defaults: ${Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`).join(', ')}; statement timeouts default (partner 10 s, frontend 5 s, admin none).`,
    `- Load average at the end (other processes share the machine): ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min).`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.options.quick === true;
  const without = typeof args.options.without === 'string' ? args.options.without.split(',').filter(Boolean) : [];
  for (const w of without) if (!['subscriptions', 'analytics', 'hostile'].includes(w)) throw new Error(`--without: unknown component ${w}`);
  const out = await runSoakBench({
    quick,
    minutes: args.options.minutes !== undefined ? intOption(args, 'minutes', 10) : undefined,
    without: without as ('subscriptions' | 'analytics' | 'hostile')[],
  });
  process.stdout.write(`${out}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
