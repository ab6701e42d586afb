/**
 * A fleet of real processes for tests: built API servers (dist/src/main.js) and standalone
 * workers (dist/src/tools/worker.js) on one test database, each with its own data folder, the
 * periodic model sync off (promotions arrive by LISTEN/NOTIFY), plus a recommendation load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readyUrl } from '../../bench/bench-utils';
import type { Database } from '../../src/db/database';
import { TEST_ADMIN_KEY } from '../helpers/app';

const ROOT = path.resolve(__dirname, '../..');

export const realPostgres = !!process.env.DATABASE_URL && process.env.MERIDIAN_TEST_DB !== 'embedded';

export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

export interface Answer {
  readonly ok: boolean;
  readonly data: Record<string, unknown> | null;
  readonly headers: Headers | null;
}

export const RECS = `query($id: ID!) { user(id: $id) { recommendations(first: 5) { product { id } } } }`;

/** One GraphQL request as the admin; ok when it answered 200 without errors (never throws). */
export async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    return { ok: res.status === 200 && !body.errors, data: body.data ?? null, headers: res.headers };
  } catch {
    return { ok: false, data: null, headers: null };
  }
}

/** The next-item version a server serves (its registry, not the database). */
export async function servedNextItem(url: string): Promise<string | undefined> {
  const r = await post(url, `{ servingMetrics }`);
  const models = (r.data?.servingMetrics as { models?: { kind: string; versionId: string }[] } | undefined)?.models ?? [];
  return models.find((m) => m.kind === 'next-item')?.versionId;
}

export class Fleet {
  private readonly children: ChildProcess[] = [];
  private users: string[] = [];

  constructor(readonly db: Database) {}

  async init(): Promise<void> {
    this.users = (await this.db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM users ORDER BY id LIMIT 40`)).map((r) => r.id);
  }

  user(i: number): string {
    return this.users[i % this.users.length]!;
  }

  async startServer(): Promise<Server> {
    const child = this.spawn('dist/src/main.js', { PORT: '0', HOST: '127.0.0.1', MERIDIAN_JOB_WORKER: 'false' }, ['ignore', 'pipe', 'ignore']);
    return { url: await readyUrl(child), child };
  }

  /** The standalone worker, with fast queue timings. */
  startWorker(): ChildProcess {
    return this.spawn('dist/src/tools/worker.js', { MERIDIAN_JOB_POLL_MS: '300', MERIDIAN_JOB_HEARTBEAT_MS: '300', MERIDIAN_TRAINER_THREADS: '1' }, 'ignore');
  }

  /** Recommendation requests to each URL, two at a time, until stopped: answered and failed per URL. */
  load(urls: readonly string[], onAnswer?: (a: Answer) => void): { stop: () => Promise<{ ok: number; failed: number }[]> } {
    let running = true;
    const counts = urls.map(() => ({ ok: 0, failed: 0 }));
    const loops = urls.flatMap((url, n) =>
      [0, 1].map(async (offset) => {
        for (let i = offset; running; i += 2) {
          const a = await post(url, RECS, { id: this.user(i) });
          onAnswer?.(a);
          if (a.ok) counts[n]!.ok++;
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

  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  private spawn(entry: string, extra: Record<string, string>, stdio: 'ignore' | ['ignore', 'pipe', 'ignore']): ChildProcess {
    const child = spawn(process.execPath, [path.join(ROOT, entry)], {
      env: {
        ...process.env, DATABASE_URL: this.db.url, LOG_LEVEL: 'info', MERIDIAN_SEED_DEMO: 'false', MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY,
        MERIDIAN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-fleet-')), MERIDIAN_INFERENCE_WORKERS: '1', MERIDIAN_MODEL_SYNC_MS: '0',
        ...extra,
      },
      stdio,
    });
    this.children.push(child);
    return child;
  }
}
