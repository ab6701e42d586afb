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
import { startTestApp } from '../helpers/app';
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

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new IORedis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
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

  it("spend one key's per-minute budget together: the sum of what both admit stays within it", async () => {
    const headers = { 'content-type': 'application/json', ...bearer(await createKey(apps[0]!, 'FRONTEND')) };
    let admittedCost = 0;
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const res = await fetch(apps[i % 2]!.url, { method: 'POST', headers, body: JSON.stringify({ query: '{ categories { name } }' }) });
      if (res.status === 429) refused++;
      else {
        expect(res.status).toBe(200);
        admittedCost += Number(res.headers.get('x-query-cost'));
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(admittedCost).toBeGreaterThan(0);
    expect(admittedCost).toBeLessThanOrEqual(40); // per server in memory, each would admit up to 40
  });
});
