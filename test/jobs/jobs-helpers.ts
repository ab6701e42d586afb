/**
 * Helpers for the jobs tests: fast queue settings, the smoke hyperparameters, a compiled build
 * for child processes, fake trainers (small executable scripts standing in for python), process
 * checks, and saving/restoring which model versions are active (the embedded test database is
 * shared by every test file of a run, so a promotion must not leak into the serving tests).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { ModelVersionRepository } from '../../src/inference/model-version.repository';
import { cancelOpenJobs } from '../helpers/db';

export const ROOT = path.resolve(__dirname, '../..');
export const TRAINER_DIR = path.join(ROOT, 'trainer');
export const TRAINER_PYTHON = path.join(TRAINER_DIR, '.venv/bin/python');

/** The test demo data: 20,000 events from 2026-03-03 to 2026-06-01; the last week is ~1,700 events. */
export const LAST_WEEK = { from: '2026-05-25T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' };

/** trainer/configs/smoke_next_item.json: a from-scratch next-item model in ~20 s. */
export const SMOKE_NEXT_ITEM: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(TRAINER_DIR, 'configs/smoke_next_item.json'), 'utf8'),
) as Record<string, unknown>;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meridian-${prefix}-`));
}

/** Queue timings for tests: fast polls and heartbeats, a dead worker noticed after 3 s. */
export function jobEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MERIDIAN_DATA_DIR: dataDir,
    MERIDIAN_JOB_POLL_MS: '300',
    MERIDIAN_JOB_HEARTBEAT_MS: '300',
    MERIDIAN_JOB_DEAD_AFTER_MS: '3000',
    MERIDIAN_JOB_RETRY_BACKOFF_MS: '300',
    MERIDIAN_MODEL_SYNC_MS: '0',
    MERIDIAN_INFERENCE_WORKERS: '1',
    MERIDIAN_TRAINER_THREADS: '1',
    ...extra,
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True while any process of the group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of trainer processes whose command line mentions `marker` (from /proc). */
export function trainerPids(marker: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('meridian_trainer') && cmd.includes(marker)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Compiles dist/ when it is older than the sources: child processes (worker, server) run the
 * compiled JavaScript, as in production. `npm test` builds first anyway.
 */
export function ensureBuilt(): void {
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return t;
  };
  const built = path.join(ROOT, 'dist/src/tools/worker.js');
  const sources = Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'migrations')));
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sources && fs.existsSync(path.join(ROOT, 'dist/src/main.js'))) return;
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

/** Writes an executable Node script that stands in for the trainer's python (see test/jobs/fixtures). */
export function fakePython(dir: string, name: string, fixture: string, env: Record<string, string> = {}): string {
  const file = path.join(dir, name);
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}\n`).join('');
  fs.writeFileSync(file, `#!/bin/sh\n${exports}exec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(__dirname, 'fixtures', fixture))} "$@"\n`);
  fs.chmodSync(file, 0o755);
  return file;
}

export type ActiveVersions = Record<string, string>;

export async function activeVersions(ds: DataSource): Promise<ActiveVersions> {
  const rows = await ds.query<{ kind: string; id: string }[]>(`SELECT kind, id::text AS id FROM model_versions WHERE status = 'active'`);
  return Object.fromEntries(rows.map((r) => [r.kind, r.id]));
}

/** Puts back the versions that were active before a test promoted others. */
export async function restoreActive(ds: DataSource, saved: ActiveVersions): Promise<void> {
  const repo = new ModelVersionRepository(ds);
  for (const [, id] of Object.entries(saved)) await repo.activate(id, 'keep');
}

export { cancelOpenJobs };

/**
 * A jobs test file's teardown: no job left open, the versions active before it put back, the
 * server and database closed, its data folder removed. `extra` runs first (its own cleanup SQL).
 */
export async function tearDownJobsTest(t: {
  db?: Database; app?: App; saved?: ActiveVersions; dataDir?: string; extra?: (ds: DataSource) => Promise<unknown>;
}): Promise<void> {
  if (t.db) {
    await cancelOpenJobs(t.db.dataSource);
    if (t.saved) await restoreActive(t.db.dataSource, t.saved);
    await t.extra?.(t.db.dataSource);
  }
  await t.app?.stop();
  await t.db?.close();
  if (t.dataDir) fs.rmSync(t.dataDir, { recursive: true, force: true });
}

export interface SubscriptionRun<T> {
  /** Every `next` payload, in order. */
  readonly results: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] }[];
  /** Resolves on complete; rejects on an error or a closed socket (with what graphql-ws reported). */
  readonly finished: Promise<void>;
  dispose(): Promise<void>;
}

/** Runs one operation over graphql-ws against a running app (`{ authorization: "Bearer <key>" }` in connection_init). */
export function subscribeWs<T = Record<string, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  httpUrl: string,
  query: string,
  variables: Record<string, unknown>,
  key: string,
): SubscriptionRun<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: only some tests need a client
  const { createClient } = require('graphql-ws') as typeof import('graphql-ws');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const WebSocket = require('ws') as typeof import('ws');
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: true,
  });
  const results: SubscriptionRun<T>['results'] = [];
  const finished = new Promise<void>((resolve, reject) => {
    client.subscribe<T>({ query, variables }, {
      next: (r) => void results.push(r as SubscriptionRun<T>['results'][number]),
      error: (e) => reject(e instanceof Error ? e : Object.assign(new Error('subscription error'), { detail: e })),
      complete: () => resolve(),
    });
  });
  finished.catch(() => undefined);
  return { results, finished, dispose: () => Promise.resolve(client.dispose()) };
}
