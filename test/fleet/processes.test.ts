/**
 * Two API servers and a standalone job worker as real processes on one Postgres (issue 18), each
 * with its own data folder (they share nothing but the database):
 * - a fine-tune the worker runs with autoPromote is served by both servers within 1 s of its
 *   activation, with no failed request on either under load (the model comes from the model
 *   store, the news by LISTEN/NOTIFY: the periodic sync is off);
 * - SIGKILL one server under load and the other answers every request; the killed one, started
 *   again, serves the active model versions.
 * Runs the built server (`npm test` builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readyUrl } from '../../bench/bench-utils';
import type { Database } from '../../src/db/database';
import { TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';

const realPostgres = !!process.env.DATABASE_URL && process.env.MERIDIAN_TEST_DB !== 'embedded';
const ROOT = path.resolve(__dirname, '../..');

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

let db: Database;
let users: string[];
const children: ChildProcess[] = [];

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info', MERIDIAN_SEED_DEMO: 'false', MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY,
    MERIDIAN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-fleet-')), MERIDIAN_INFERENCE_WORKERS: '1', MERIDIAN_MODEL_SYNC_MS: '0',
  };
}

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
    env: { ...env(), PORT: '0', HOST: '127.0.0.1', MERIDIAN_JOB_WORKER: 'false' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  return { url: await readyUrl(child), child };
}

/** The standalone worker (dist/src/tools/worker.js), with fast queue timings. */
function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/tools/worker.js')], {
    env: { ...env(), MERIDIAN_JOB_POLL_MS: '300', MERIDIAN_JOB_HEARTBEAT_MS: '300', MERIDIAN_TRAINER_THREADS: '1' },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

/** Recommendation requests on each server, two at a time, until stopped: answered and failed per server. */
function load(servers: readonly Server[]): { stop: () => Promise<{ ok: number; failed: number }[]> } {
  let running = true;
  const counts = servers.map(() => ({ ok: 0, failed: 0 }));
  const loops = servers.flatMap((s, n) =>
    [0, 1].map(async (offset) => {
      for (let i = offset; running; i += 2) {
        if ((await post(s.url, RECS, { id: users[i % users.length] })).ok) counts[n]!.ok++;
        else counts[n]!.failed++;
      }
    }),
  );
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<{ ok: boolean; data: Record<string, unknown> | null }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    return { ok: res.status === 200 && !body.errors, data: body.data ?? null };
  } catch {
    return { ok: false, data: null };
  }
}

const RECS = `query($id: ID!) { user(id: $id) { recommendations(first: 5) { product { id } } } }`;

/** The next-item version a server serves (its registry, not the database). */
async function servedNextItem(url: string): Promise<string | undefined> {
  const r = await post(url, `{ servingMetrics }`);
  const models = (r.data?.servingMetrics as { models?: { kind: string; versionId: string }[] } | undefined)?.models ?? [];
  return models.find((m) => m.kind === 'next-item')?.versionId;
}

beforeAll(async () => {
  if (!realPostgres) return;
  db = await openTestDatabase();
  users = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM users ORDER BY id LIMIT 40`)).map((r) => r.id);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.close();
});

(realPostgres ? describe : describe.skip)('two server processes', () => {
  it('serve a fine-tune the standalone worker ran with autoPromote within 1 s of its activation, 0 failed requests', async () => {
    const servers = await Promise.all([startServer(), startServer()]);
    const before = await servedNextItem(servers[0].url);
    expect(await servedNextItem(servers[1].url)).toBe(before);
    const traffic = load(servers);
    startWorker();
    const start = await post(servers[1].url, `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { id } }`, {
      i: {
        modelKind: 'NEXT_ITEM', dataWindow: { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' },
        hyperparameters: { epochs: 1, batch_size: 128 }, autoPromote: true, idempotencyKey: `fleet-${Date.now()}`,
      },
    });
    expect(start.ok).toBe(true);
    const jobId = (start.data!.startFineTuning as { id: string }).id;

    // Each server's served version, polled until both serve the job's version (or the job ends without one).
    const servedAt: (number | null)[] = [null, null];
    let version: { id: string; activated: number } | null = null;
    for (let ended = false; !ended || servedAt.some((t) => t === null);) {
      const [job] = await db.dataSource.query<{ status: string; error: string | null }[]>(`SELECT status, error FROM training_jobs WHERE id = $1`, [jobId]);
      const [row] = await db.dataSource.query<{ id: string; activated: Date }[]>(
        `SELECT id::text AS id, activated_at AS activated FROM model_versions WHERE source_job_id = $1 AND status = 'active'`,
        [jobId],
      );
      if (row) version = { id: row.id, activated: new Date(row.activated).getTime() };
      if (version) {
        for (const [n, s] of servers.entries()) {
          if (servedAt[n] === null && (await servedNextItem(s.url)) === version.id) servedAt[n] = Date.now();
        }
      }
      if (['succeeded', 'failed', 'cancelled'].includes(job!.status)) {
        if (!version) throw new Error(`the job ended ${job!.status} without an active version: ${job!.error ?? ''}`);
        if (ended && Date.now() - version.activated > 10_000) break; // not served within 10 s: fails below
        ended = true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const counts = await traffic.stop();
    const lags = servedAt.map((t) => (t === null ? null : t - version!.activated));
    process.stderr.write(`fleet fine-tune: served by both servers ${JSON.stringify(lags)} ms after activation; requests ${JSON.stringify(counts)}\n`);
    for (const lag of lags) {
      expect(lag).not.toBeNull();
      expect(lag!).toBeLessThan(1_000);
    }
    expect(counts.map((c) => c.failed)).toEqual([0, 0]);
    expect(counts.every((c) => c.ok > 20)).toBe(true);
  }, 600_000);

  it('SIGKILL one under load: the other answers every request; restarted, it serves the active versions', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const traffic = load([a, b]);
    await new Promise((r) => setTimeout(r, 1_000));
    a.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    const onB = (await traffic.stop())[1]!;
    expect(onB.failed).toBe(0);
    expect(onB.ok).toBeGreaterThan(20);

    const again = await startServer();
    expect((await post(again.url, RECS, { id: users[0] })).ok).toBe(true);
    const active = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM model_versions WHERE kind = 'next-item' AND status = 'active'`))[0]?.id;
    expect(await servedNextItem(again.url)).toBe(active);
    expect(await servedNextItem(b.url)).toBe(active);
  }, 120_000);
});
