/**
 * Rate limits shared by the fleet through Redis (issue 18, part 1): a key's cost budget and its
 * concurrency hold across servers (their sum, not each), and when Redis stops answering no request
 * fails: each server limits in memory, counts it, and goes back to Redis when it answers again.
 * Each test file runs its own redis-server (Debian's package, as in CI) on a free port, so it can
 * stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import IORedis from 'ioredis';
import type { App } from '../../src/app';
import { silentLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { RedisLimiter } from '../../src/security/redis-limiter';
import { startTestApp, TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { bearer, createKey } from '../helpers/keys';

let port: number;
let server: ChildProcess | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts redis-server on `port` and returns once it answers PING (throws if it does not within 5 s). */
async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    // A fresh client per try that does not reconnect by itself: a second connect() on one client
    // throws "already connecting/connected" once its own reconnection has begun.
    const probe = new IORedis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server on port ${port} did not answer within 5 s`);
}

async function stopRedis(): Promise<void> {
  const s = server;
  server = null;
  if (!s || s.exitCode !== null) return;
  await new Promise((r) => {
    s.once('exit', r);
    s.kill('SIGKILL');
  });
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
});

afterAll(async () => {
  await stopRedis();
});

describe('RedisLimiter: two servers, one Redis', () => {
  const limits = { costPerMinute: 1_000, concurrency: 3 };
  let clients: IORedis[] = [];
  const server = (): RedisLimiter => {
    const c = new IORedis(port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    clients.push(c);
    return new RedisLimiter(c, silentLogger());
  };
  const ready = async (l: RedisLimiter) => {
    for (let i = 0; i < 100 && !l.shared; i++) await new Promise((r) => setTimeout(r, 20));
  };
  afterEach(() => {
    clients.forEach((c) => c.disconnect());
    clients = [];
  });

  it('hold one cost budget and one concurrency cap between them', async () => {
    const [a, b] = [server(), server()];
    await Promise.all([ready(a), ready(b)]);
    const key = `key:budget-${Date.now()}`;
    const spent = [await a.spend(key, 300, limits), await b.spend(key, 300, limits), await a.spend(key, 300, limits), await b.spend(key, 300, limits)];
    expect(spent.map((s) => s.ok)).toEqual([true, true, true, false]);
    expect(spent[3]).toMatchObject({ ok: false, reason: 'cost budget exhausted' });

    const slots = [await a.enter(key, limits), await a.enter(key, limits), await b.enter(key, limits)];
    expect(slots.every((s) => s.admission.ok)).toBe(true);
    expect((await b.enter(key, limits)).admission).toMatchObject({ ok: false });
    slots[0]!.release();
    slots[0]!.release(); // twice is harmless
    await new Promise((r) => setTimeout(r, 20));
    const again = await b.enter(key, limits);
    expect(again.admission.ok).toBe(true);
    expect((await a.enter(key, limits)).admission.ok).toBe(false);
  });

  it('limit in memory while Redis is down (no request fails), count it, and share again when it is back', async () => {
    const a = server();
    await ready(a);
    const key = `key:outage-${Date.now()}`;
    expect((await a.spend(key, 1, limits)).ok).toBe(true);
    await stopRedis();
    const during = [];
    for (let i = 0; i < 20; i++) {
      during.push(await a.spend(key, 1, limits));
      const slot = await a.enter(key, limits);
      during.push(slot.admission);
      slot.release();
    }
    expect(during.every((d) => d.ok)).toBe(true); // a full in-memory budget, nothing thrown
    expect(a.shared).toBe(false);
    expect(a.fallbackDecisions).toBeGreaterThanOrEqual(40);
    await startRedis();
    for (let i = 0; i < 200 && !a.shared; i++) {
      await a.spend(key, 1, limits);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(a.shared).toBe(true);
  }, 30_000);

  it('report shared again once Redis is back, before any request asks', async () => {
    const a = server();
    await ready(a);
    await stopRedis();
    expect((await a.spend(`key:idle-${Date.now()}`, 1, limits)).ok).toBe(true); // in memory
    expect(a.shared).toBe(false);
    await startRedis();
    await ready(a); // no decision in between: what /metrics and /readyz show of an idle server
    expect(a.shared).toBe(true);
  });
});

describe('two API servers with REDIS_URL', () => {
  let db: Database;
  let apps: App[] = [];
  beforeAll(async () => {
    db = await openTestDatabase();
    const env = { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_FRONTEND_COST: '40', MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_WORKER: 'false' };
    apps = [await startTestApp(db, env), await startTestApp(db, env)];
  });
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await db?.close();
  });

  /** 60 requests with `key`, alternating between the servers: the cost they admitted and how many were refused (429). */
  async function spendOnBoth(key: string, body: string): Promise<{ admittedCost: number; refused: number }> {
    const headers = { 'content-type': 'application/json', ...bearer(key) };
    let admittedCost = 0;
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const res = await fetch(apps[i % 2]!.url, { method: 'POST', headers, body });
      if (res.status === 429) refused++;
      else {
        expect(res.status).toBe(200);
        admittedCost += Number(res.headers.get('x-query-cost'));
      }
    }
    return { admittedCost, refused };
  }

  it("spend one key's per-minute budget together: the sum of what both admit stays within it", async () => {
    const { admittedCost, refused } = await spendOnBoth(await createKey(apps[0]!, 'FRONTEND'), JSON.stringify({ query: '{ categories { name } }' }));
    expect(refused).toBeGreaterThan(0);
    expect(admittedCost).toBeGreaterThan(0);
    expect(admittedCost).toBeLessThanOrEqual(40); // per server in memory, each would admit up to 40
  });

  it('stop Redis under load on both: no request fails, each counts its fallback, and both share limits again once Redis is back', async () => {
    // An admin key for the load: its budget (5,000,000 a minute, 64 at once) is far from reached,
    // so any refusal here (429 included) is the outage's doing and counts as a failure.
    const loadHeaders = { 'content-type': 'application/json', ...bearer(await createKey(apps[0]!, 'ADMIN')) };
    const body = JSON.stringify({ query: '{ categories { name } }' });
    const started = Date.now();
    const ms = () => Date.now() - started;
    let outage: { from: number; to: number } | null = null;
    const served = apps.map(() => ({ ok: 0, duringOutage: 0, failures: [] as string[] }));
    let running = true;
    const loop = async (i: number) => {
      const app = apps[i]!;
      while (running) {
        const t0 = ms();
        let failure: string | null = null;
        try {
          const res = await fetch(app.url, { method: 'POST', headers: loadHeaders, body, signal: AbortSignal.timeout(5_000) });
          const text = await res.text();
          const parsed = JSON.parse(text) as { data?: { categories?: unknown }; errors?: unknown[] };
          if (res.status !== 200 || parsed.errors || !Array.isArray(parsed.data?.categories)) failure = `${res.status} ${text.slice(0, 200)}`;
        } catch (err) {
          failure = err instanceof Error ? err.message : String(err);
        }
        if (failure) served[i]!.failures.push(`server ${i} at ${t0} ms: ${failure}`);
        else {
          served[i]!.ok++;
          if (outage && t0 >= outage.from && ms() <= outage.to) served[i]!.duringOutage++;
        }
      }
    };
    const gauges = async () =>
      Promise.all(apps.map(async (app) => {
        const res = await fetch(new URL('/metrics', app.url), { headers: bearer(TEST_ADMIN_KEY) });
        expect(res.status).toBe(200);
        const text = await res.text();
        const value = (name: string) => {
          const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
          if (!m) throw new Error(`${name} is not on ${app.url} /metrics`);
          return Number(m[1]);
        };
        return { shared: value('meridian_rate_limit_shared'), fallback: value('meridian_rate_limit_fallback_decisions') };
      }));
    /** Polls /metrics until `done` holds on both servers; returns their gauges then, or null after `withinMs`. */
    const until = async (done: (g: { shared: number; fallback: number }) => boolean, withinMs: number) => {
      for (const deadline = Date.now() + withinMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        const g = await gauges();
        if (g.every(done)) return g;
      }
      return null;
    };
    const pause = (t: number) => new Promise((r) => setTimeout(r, t));

    const loops = apps.flatMap((_, i) => [loop(i), loop(i), loop(i)]);
    let before: { shared: number; fallback: number }[] | null | undefined;
    let recoveredInMs: number | undefined;
    const duringOutage: { shared: number; fallback: number }[][] = [];
    let atOutageEnd: { shared: number; fallback: number }[] | undefined;
    try {
      before = await until((g) => g.shared === 1, 5_000);
      expect(before).not.toBeNull(); // both servers limit in Redis under the load before the outage
      await pause(500);
      await stopRedis();
      outage = { from: ms(), to: Infinity };
      const down = await until((g) => g.shared === 0, 2_000);
      expect(down).not.toBeNull(); // both noticed
      for (let i = 0; i < 8; i++, await pause(250)) duringOutage.push(await gauges()); // 2 s of load on a dead Redis
      outage.to = ms();
      atOutageEnd = await gauges(); // after every request counted as served during the outage
      duringOutage.push(atOutageEnd);
      await startRedis();
      const back = Date.now();
      const shared = await until((g) => g.shared === 1, 5_000);
      recoveredInMs = Date.now() - back;
      expect(shared).not.toBeNull();
      // From here on Redis decides every request: a second more of load makes no fallback decision.
      await pause(1_000);
      for (const [i, g] of (await gauges()).entries()) {
        expect(g.shared).toBe(1);
        expect(g.fallback).toBe(shared![i]!.fallback);
      }
    } finally {
      running = false;
      await Promise.all(loops);
      if (!server) await startRedis(); // for what follows, should an assertion have stopped us during the outage
    }

    const failures = served.flatMap((s) => s.failures);
    expect({ failed: failures.length, first: failures.slice(0, 5) }).toEqual({ failed: 0, first: [] });
    for (const [i, s] of served.entries()) {
      expect(s.duringOutage).toBeGreaterThanOrEqual(20); // the outage was under load on each server
      expect(duringOutage.every((g) => g[i]!.shared === 0)).toBe(true);
      // Counted: each request served during the outage was two decisions in memory (slot and cost).
      expect(atOutageEnd[i]!.fallback).toBeGreaterThanOrEqual(before![i]!.fallback + 2 * s.duringOutage);
    }
    expect(recoveredInMs).toBeLessThan(5_000);

    // Shared again: a fresh key's budget spent on both servers admits at most the budget, not one per server.
    const { admittedCost, refused } = await spendOnBoth(await createKey(apps[1]!, 'FRONTEND'), body);
    expect(refused).toBeGreaterThan(0);
    expect(admittedCost).toBeGreaterThan(0);
    expect(admittedCost).toBeLessThanOrEqual(40);
    expect((await gauges()).map((g) => g.shared)).toEqual([1, 1]);
  }, 30_000);
});
