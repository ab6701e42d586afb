/**
 * Two API servers as real processes on one Postgres (issue 18): SIGKILL one under load and the
 * other answers every request; the killed one, started again, serves the active model versions.
 * Runs the built server (`npm test` builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
    env: {
      ...process.env, DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MERIDIAN_SEED_DEMO: 'false',
      MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY, MERIDIAN_JOB_WORKER: 'false', MERIDIAN_INFERENCE_WORKERS: '1',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  return { url: await readyUrl(child), child };
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
  it('SIGKILL one under load: the other answers every request; restarted, it serves the active versions', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    let running = true;
    const onB = { ok: 0, failed: 0 };
    const loop = async (offset: number) => {
      for (let i = offset; running; i += 2) {
        const r = await post(b.url, RECS, { id: users[i % users.length] });
        if (r.ok) onB.ok++;
        else onB.failed++;
      }
    };
    const loopsA = [0, 1].map(async (offset) => {
      for (let i = offset; running; i += 2) await post(a.url, RECS, { id: users[i % users.length] });
    });
    const loopsB = [loop(0), loop(1)];
    await new Promise((r) => setTimeout(r, 1_000));
    a.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    running = false;
    await Promise.all([...loopsA, ...loopsB]);
    expect(onB.failed).toBe(0);
    expect(onB.ok).toBeGreaterThan(20);

    const again = await startServer();
    expect((await post(again.url, RECS, { id: users[0] })).ok).toBe(true);
    const active = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM model_versions WHERE kind = 'next-item' AND status = 'active'`))[0]?.id;
    expect(await servedNextItem(again.url)).toBe(active);
    expect(await servedNextItem(b.url)).toBe(active);
  }, 120_000);
});
