/**
 * Load generators of the soak benchmark (bench/soak.ts), each run in its own worker thread so the
 * client's work never shares an event loop with the server (a child process) or with the thread
 * that measures normal-query latency:
 * - `normal`: typical frontend/admin queries started at a fixed rate whatever the latency (open
 *   loop, so a slow server cannot throttle its own measurement), plus /healthz probes; every
 *   request's latency is recorded.
 * - `stress`: what runs beside the normal traffic during the soak: graphql-ws subscriptions held
 *   open and churned, slow analytics loops as partners and an admin, and hostile noise (oversized
 *   bodies, sockets that never authenticate). Only counts come back.
 * Both stop by themselves after `seconds` and post one result message. Traffic goes only to the
 * server URL they are given (127.0.0.1).
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface FrontendIdentity {
  readonly key: string;
  readonly userId: string;
}

export interface NormalJob {
  readonly role: 'normal';
  readonly url: string;
  readonly seconds: number;
  /** GraphQL requests started per second. */
  readonly rate: number;
  /** /healthz probes per second. */
  readonly healthzRate: number;
  readonly frontend: readonly FrontendIdentity[];
  readonly adminKey: string;
  readonly userIds: readonly string[];
}

export interface NormalResult {
  /** Latency (ms) of every GraphQL request, failed ones included, by query kind. */
  readonly byKind: Record<string, number[]>;
  readonly healthz: number[];
  /** Failed requests by cause (HTTP status and first error code, or client error). */
  readonly failures: Record<string, number>;
  readonly seconds: number;
}

export interface StressJob {
  readonly role: 'stress';
  readonly url: string;
  readonly seconds: number;
  readonly subscriptions: boolean;
  readonly analytics: boolean;
  readonly hostile: boolean;
  /** Admin keys for subscriptions; each opens `socketsPerKey` sockets of `subsPerSocket`. */
  readonly subKeys: readonly string[];
  readonly socketsPerKey: number;
  readonly subsPerSocket: number;
  /** Queued training jobs to watch (the server runs no job worker, so they stay queued). */
  readonly jobIds: readonly string[];
  /** Cancels a watched job and queues a new one this often (watchers see the change and end). */
  readonly jobChurnSeconds: number;
  /** Admin key that cancels and starts jobs. */
  readonly jobAdminKey: string;
  readonly partnerKeys: readonly string[];
  readonly analyticsAdminKey: string;
  /** Concurrent loops per analytics key. */
  readonly loopsPerKey: number;
  readonly anonymousFrontendKey: string;
  /** One hostile request every this many seconds, oversized body and silent socket alternating. */
  readonly hostileEverySeconds: number;
}

export interface AnalyticsCount {
  answered: number;
  errors: Record<string, number>;
  /** No answer within the client's limit (ANALYTICS_CLIENT_TIMEOUT_MS). */
  timedOut: number;
  ms: number[];
}

export interface StressResult {
  readonly subs: {
    /** subscribe messages sent. */
    opened: number;
    /** subscriptions the client completed (churn). */
    clientCompleted: number;
    /** subscriptions the server completed (their job was cancelled). */
    serverCompleted: number;
    /** next messages received. */
    events: number;
    errors: Record<string, number>;
    /** ms from subscribe to the first next. */
    firstEventMs: number[];
    socketsOpened: number;
    /** sockets the client closed to churn. */
    socketsChurned: number;
    /** sockets closed by the server or the network, by close code. */
    unexpectedCloses: Record<string, number>;
    /** most subscriptions open at once (acknowledged by a first next). */
    peakOpen: number;
    jobsCancelled: number;
    jobsStarted: number;
  };
  readonly analytics: Record<string, AnalyticsCount>;
  readonly hostile: {
    oversized: Record<string, number>;
    silentSockets: number;
    /** how silent sockets ended, by close code. */
    silentCloses: Record<string, number>;
    /** ms from open to close of silent sockets. */
    silentCloseMs: number[];
  };
  readonly seconds: number;
}

type Json = Record<string, unknown>;

interface GraphQLBody {
  data?: unknown;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
const NORMAL_CLIENT_TIMEOUT_MS = 10_000;
const ANALYTICS_CLIENT_TIMEOUT_MS = 30_000;

/** One POST /graphql; the outcome as `ok` or a cause ("HTTP 429 RATE_LIMITED", "client TimeoutError"). */
async function post(url: string, key: string, query: string, variables: Json | undefined, timeoutMs: number): Promise<{ ok: boolean; cause: string; body: GraphQLBody | null }> {
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: GraphQLBody | null = null;
    try {
      body = JSON.parse(text) as GraphQLBody;
    } catch {
      // a non-JSON answer (e.g. a proxy page) is reported by its status alone
    }
    const code = body?.errors?.[0]?.extensions?.code;
    if (res.status === 200 && body?.data != null && !body.errors) return { ok: true, cause: 'ok', body };
    return { ok: false, cause: `HTTP ${res.status}${code ? ` ${code}` : ''}`, body };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, cause: `client ${code ?? name}`, body: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Normal traffic

const PRODUCTS = `{ products(first: 10) { edges { node { name price category { name } } } } }`;
const MY_EVENTS = `query($id: ID!) { user(id: $id) { recentEvents(first: 5) { type } } }`;
const TRENDING = `query($lat: Float!, $lng: Float!) { trending(near: { latitude: $lat, longitude: $lng }, radiusKm: 10, first: 10) { product { name } score } }`;
const ADMIN_USER = `query($id: ID!) { user(id: $id) { name recentEvents(first: 5) { type occurredAt } } }`;
/** Centres of the demo world's cities (src/demo/demo-world.ts), for trending. */
const CENTRES = [[-23.5505, -46.6333], [-22.9068, -43.1729], [-19.9167, -43.9345], [-15.7939, -47.8828]] as const;

async function runNormal(job: NormalJob): Promise<NormalResult> {
  const byKind: Record<string, number[]> = { products: [], 'user.recentEvents (frontend, own user)': [], 'trending (frontend)': [], 'user (admin)': [] };
  const healthz: number[] = [];
  const failures: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const end = t0 + job.seconds * 1000;

  const one = async (i: number) => {
    const fe = job.frontend[i % job.frontend.length]!;
    const kind = i % 4;
    const s = performance.now();
    let r: Awaited<ReturnType<typeof post>>;
    let name: string;
    if (kind === 0) {
      name = 'products';
      r = await post(job.url, fe.key, PRODUCTS, undefined, NORMAL_CLIENT_TIMEOUT_MS);
    } else if (kind === 1) {
      name = 'user.recentEvents (frontend, own user)';
      r = await post(job.url, fe.key, MY_EVENTS, { id: fe.userId }, NORMAL_CLIENT_TIMEOUT_MS);
    } else if (kind === 2) {
      name = 'trending (frontend)';
      const [lat, lng] = CENTRES[(i >> 2) % CENTRES.length]!;
      r = await post(job.url, fe.key, TRENDING, { lat, lng }, NORMAL_CLIENT_TIMEOUT_MS);
    } else {
      name = 'user (admin)';
      r = await post(job.url, job.adminKey, ADMIN_USER, { id: job.userIds[(i * 7) % job.userIds.length] }, NORMAL_CLIENT_TIMEOUT_MS);
    }
    byKind[name]!.push(performance.now() - s);
    if (!r.ok) bump(failures, `${name}: ${r.cause}`);
  };
  const probe = async () => {
    const s = performance.now();
    try {
      const res = await fetch(`${job.url}/healthz`, { signal: AbortSignal.timeout(NORMAL_CLIENT_TIMEOUT_MS) });
      await res.arrayBuffer();
      if (res.status !== 200) bump(failures, `healthz: HTTP ${res.status}`);
    } catch (err) {
      bump(failures, `healthz: client ${err instanceof Error ? err.name : 'Error'}`);
    }
    healthz.push(performance.now() - s);
  };

  // Open loop: request i is due at t0 + i/rate, whatever happened to the ones before.
  const healthzEvery = Math.max(1, Math.round(job.rate / Math.max(1e-9, job.healthzRate)));
  for (let i = 0; ; i++) {
    const due = t0 + (i * 1000) / job.rate;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(one(i));
    if (i % healthzEvery === 0) pending.push(probe());
  }
  await Promise.all(pending);
  return { byKind, healthz, failures, seconds: (performance.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Stress: subscriptions, analytics, hostile noise

const PROGRESS = `subscription($id: ID!) { trainingJobProgress(id: $id) { status progress } }`;

interface WsMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

function errorCodeOf(payload: unknown): string {
  const first = Array.isArray(payload) ? (payload[0] as { extensions?: { code?: string } } | undefined) : undefined;
  return first?.extensions?.code ?? 'no code';
}

async function runStress(job: StressJob): Promise<StressResult> {
  const deadline = performance.now() + job.seconds * 1000;
  const running = () => performance.now() < deadline;
  const subs: StressResult['subs'] = {
    opened: 0, clientCompleted: 0, serverCompleted: 0, events: 0, errors: {}, firstEventMs: [], socketsOpened: 0,
    socketsChurned: 0, unexpectedCloses: {}, peakOpen: 0, jobsCancelled: 0, jobsStarted: 0,
  };
  const hostile: StressResult['hostile'] = { oversized: {}, silentSockets: 0, silentCloses: {}, silentCloseMs: [] };
  const analytics: Record<string, AnalyticsCount> = {};
  const tasks: Promise<void>[] = [];
  /** Silent sockets, each ending within 10 s; awaited after the loops have stopped. */
  const silentSockets: Promise<void>[] = [];
  const wsUrl = `${job.url.replace(/^http/, 'ws')}/graphql`;

  // --- subscriptions --------------------------------------------------------------------------
  const jobs = [...job.jobIds];
  let nextSubId = 0;
  let openNow = 0;
  const sockets = new Set<SubSocket>();

  class SubSocket {
    readonly ws: WebSocket;
    /** subscription id → when subscribe was sent (ms), and whether it has answered yet. */
    readonly subs = new Map<string, { sentAt: number; answered: boolean }>();
    churned = false;
    closed: Promise<void>;
    /** Resolves on connection_ack or close. */
    readonly ready: Promise<void>;
    private acked: () => void = () => undefined;

    constructor(readonly key: string) {
      this.ready = new Promise((resolve) => (this.acked = resolve));
      this.ws = new WebSocket(wsUrl, 'graphql-transport-ws');
      subs.socketsOpened++;
      sockets.add(this);
      this.ws.on('open', () => this.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
      this.ws.on('message', (data) => this.onMessage(JSON.parse((data as Buffer).toString('utf8')) as WsMessage));
      this.ws.on('error', () => undefined); // the close that follows is what is counted
      this.closed = new Promise((resolve) =>
        this.ws.on('close', (code) => {
          sockets.delete(this);
          for (const s of this.subs.values()) if (s.answered) openNow--;
          this.subs.clear();
          if (!this.churned && running()) {
            bump(subs.unexpectedCloses, String(code));
            // Reconnect after a pause, as a client would.
            setTimeout(() => running() && new SubSocket(key), 1000);
          }
          this.acked();
          resolve();
        }),
      );
    }

    subscribe(): void {
      if (this.ws.readyState !== WebSocket.OPEN || !running()) return;
      const id = `s${++nextSubId}`;
      this.subs.set(id, { sentAt: performance.now(), answered: false });
      subs.opened++;
      this.send({ id, type: 'subscribe', payload: { query: PROGRESS, variables: { id: jobs[nextSubId % jobs.length] } } });
    }

    /** Completes `n` of its subscriptions and, after a pause, opens as many new ones. */
    churn(n: number): void {
      for (const [id, s] of [...this.subs].slice(0, n)) {
        this.send({ id, type: 'complete' });
        this.subs.delete(id);
        if (s.answered) openNow--;
        subs.clientCompleted++;
      }
      setTimeout(() => {
        for (let i = 0; i < n; i++) this.subscribe();
      }, 300);
    }

    private onMessage(m: WsMessage): void {
      if (m.type === 'connection_ack') {
        this.acked();
        for (let i = 0; i < job.subsPerSocket; i++) this.subscribe();
        return;
      }
      const s = m.id ? this.subs.get(m.id) : undefined;
      if (m.type === 'next') {
        subs.events++;
        if (s && !s.answered) {
          s.answered = true;
          subs.firstEventMs.push(performance.now() - s.sentAt);
          openNow++;
          subs.peakOpen = Math.max(subs.peakOpen, openNow);
        }
      } else if (m.type === 'error' && m.id) {
        bump(subs.errors, errorCodeOf(m.payload));
        this.subs.delete(m.id);
        setTimeout(() => this.subscribe(), 1000);
      } else if (m.type === 'complete' && m.id && s) {
        // The server ends a subscription when its job ends (cancelled): watch another job.
        subs.serverCompleted++;
        this.subs.delete(m.id);
        if (s.answered) openNow--;
        setTimeout(() => this.subscribe(), 200);
      }
    }

    send(m: Json): void {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
    }
  }

  if (job.subscriptions) {
    // One socket at a time, each after the previous one's ack: a burst of 32 unauthenticated
    // sockets would exceed the server's 10 pending slots, and it evicts the oldest (by design).
    for (let i = 0; i < job.socketsPerKey && running(); i++) {
      for (const key of job.subKeys) await Promise.race([new SubSocket(key).ready, sleep(2000)]);
    }
    // Churn: every 2 s one socket completes 3 subscriptions and opens 3 new ones; every 15 s a
    // whole socket is closed and a new one opened with the same key (authentication again).
    tasks.push(
      (async () => {
        for (let tick = 1; running(); tick++) {
          await sleep(2000);
          const list = [...sockets].filter((s) => s.ws.readyState === WebSocket.OPEN);
          if (!list.length || !running()) continue;
          list[tick % list.length]!.churn(3);
          if (tick % 7 === 0) {
            const victim = list[(tick * 13) % list.length]!;
            victim.churned = true;
            subs.socketsChurned++;
            victim.ws.close(1000);
            setTimeout(() => running() && new SubSocket(victim.key), 500);
          }
        }
      })(),
    );
    // Job churn: the oldest watched job is cancelled (its watchers get the change, then complete)
    // and a new queued job takes its place.
    tasks.push(
      (async () => {
        while (running()) {
          await sleep(job.jobChurnSeconds * 1000);
          if (!running()) break;
          const started = await post(job.url, job.jobAdminKey, `mutation { startFineTuning(input: { modelKind: NEXT_ITEM, fromScratch: true }) { id } }`, undefined, 10_000);
          const id = (started.body?.data as { startFineTuning?: { id: string } } | undefined)?.startFineTuning?.id;
          if (!id) continue;
          subs.jobsStarted++;
          const old = jobs.shift()!;
          jobs.push(id);
          const cancelled = await post(job.url, job.jobAdminKey, `mutation($id: ID!) { cancelTrainingJob(id: $id) { status } }`, { id: old }, 10_000);
          if (cancelled.ok) subs.jobsCancelled++;
        }
      })(),
    );
  }

  // --- slow analytics -------------------------------------------------------------------------
  if (job.analytics) {
    const to = new Date();
    const from = new Date(to.getTime() - 90 * 86_400_000);
    // The whole demo world (Brazil), well inside the 50,000,000 km² area limit.
    const bbox = { minLatitude: -34, maxLatitude: 6, minLongitude: -74, maxLongitude: -34 };
    const queries: { name: string; query: string; variables: Json }[] = [
      {
        // The finest grid that answers over this area and range: res 9 (or 8, or 7 by day) is
        // refused at the 10,000 cells × buckets limit; res 7 by week gives ~8,500.
        name: 'aggregates: EVENTS, H3 res 7, WEEK, 90 days, Brazil bbox',
        query: `query($i: AggregateInput!) { aggregates(input: $i) { cellId bucketStart value users } }`,
        variables: { i: { metric: 'EVENTS', bucket: 'WEEK', grid: { h3Resolution: 7 }, where: { bbox }, from, to } },
      },
      {
        name: 'hotspots: EVENTS, H3 res 8, 90 days, Brazil bbox',
        query: `query($i: HotspotInput!) { hotspots(input: $i) { cellId zScore pValue classification } }`,
        variables: { i: { metric: 'EVENTS', h3Resolution: 8, where: { bbox }, from, to, onlySignificant: false } },
      },
      {
        name: 'timeSeries: USERS, HOUR, 90 days, Brazil bbox',
        query: `query($i: TimeSeriesInput!) { timeSeries(input: $i) { points { bucketStart value } anomalies { bucketStart } } }`,
        variables: { i: { metric: 'USERS', bucket: 'HOUR', where: { bbox }, from, to } },
      },
    ];
    const keys = [...job.partnerKeys.map((k, i) => ({ key: k, who: `partner ${i + 1}` })), { key: job.analyticsAdminKey, who: 'admin' }];
    for (const [ki, k] of keys.entries()) {
      for (let loop = 0; loop < job.loopsPerKey; loop++) {
        tasks.push(
          (async () => {
            for (let i = ki + loop; running(); i++) {
              const q = queries[i % queries.length]!;
              const label = `${k.who.startsWith('partner') ? 'partner' : 'admin'} — ${q.name}`;
              const c = (analytics[label] ??= { answered: 0, errors: {}, timedOut: 0, ms: [] });
              const s = performance.now();
              const r = await post(job.url, k.key, q.query, q.variables, ANALYTICS_CLIENT_TIMEOUT_MS);
              if (r.ok) {
                c.answered++;
                c.ms.push(performance.now() - s);
              } else if (r.cause === 'client TimeoutError') c.timedOut++;
              else {
                bump(c.errors, r.cause);
                // A refusal comes back at once: pause so a refused loop does not spin.
                await sleep(1000);
              }
            }
          })(),
        );
      }
    }
  }

  // --- hostile noise --------------------------------------------------------------------------
  if (job.hostile) {
    // 2 MiB of events for a frontend key, which is cut at 1 MiB (expect 413).
    const event = { idempotencyKey: 'x'.repeat(40), userId: '1', productId: '1', type: 'VIEW', occurredAt: new Date().toISOString() };
    const big = JSON.stringify({
      query: `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }`,
      variables: { e: Array.from({ length: Math.ceil((2 << 20) / JSON.stringify(event).length) }, () => event) },
    });
    tasks.push(
      (async () => {
        for (let i = 0; running(); i++) {
          await sleep(job.hostileEverySeconds * 1000);
          if (!running()) break;
          if (i % 2 === 0) {
            try {
              const res = await fetch(`${job.url}/graphql`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${job.anonymousFrontendKey}` },
                body: big,
                signal: AbortSignal.timeout(10_000),
              });
              await res.arrayBuffer();
              bump(hostile.oversized, `HTTP ${res.status}`);
            } catch (err) {
              // the server may close the upload early: that is a refusal too
              bump(hostile.oversized, `client ${(err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.name : 'Error')}`);
            }
          } else {
            hostile.silentSockets++;
            const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
            let openedAt = 0;
            ws.on('open', () => (openedAt = performance.now()));
            ws.on('error', () => undefined);
            silentSockets.push(
              new Promise<void>((resolve) => {
                // Bounded: a socket still open after 10 s is counted as such and closed by us.
                const guard = setTimeout(() => {
                  bump(hostile.silentCloses, 'still open after 10 s');
                  ws.terminate();
                }, 10_000);
                ws.on('close', (code) => {
                  clearTimeout(guard);
                  if (openedAt) {
                    bump(hostile.silentCloses, String(code));
                    hostile.silentCloseMs.push(performance.now() - openedAt);
                  } else bump(hostile.silentCloses, `never opened (${code})`);
                  resolve();
                });
              }),
            );
          }
        }
      })(),
    );
  }

  await sleep(Math.max(0, deadline - performance.now()));
  await Promise.all(tasks);
  await Promise.all(silentSockets);
  // Everything closed before the result is posted, so the caller can measure an idle server.
  const left = [...sockets];
  for (const s of left) {
    s.churned = true;
    s.ws.close(1000);
  }
  await Promise.race([Promise.all(left.map((s) => s.closed)), sleep(5000)]);
  for (const s of left) s.ws.terminate();
  return { subs, analytics, hostile, seconds: job.seconds };
}

if (parentPort) {
  const job = workerData as NormalJob | StressJob;
  const run = job.role === 'normal' ? runNormal(job) : runStress(job);
  run.then(
    (result) => parentPort!.postMessage(result),
    (err: unknown) => {
      throw err;
    },
  );
}
