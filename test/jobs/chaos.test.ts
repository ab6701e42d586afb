/**
 * Crash safety with real processes: worker and server processes (the compiled entry points) run
 * real smoke fine-tunes and are killed with SIGKILL at random points, one kill per run. Afterwards
 * every job must reach a terminal state, each succeeded job must have exactly one model version,
 * no registered version may be partial (every one verifies against its sha256), the active model
 * must verify and come from a job that promoted it, dead workers must be noticed within a minute,
 * and no trainer may be left running.
 *
 * MERIDIAN_KILL_RUNS sets the number of runs (default 3, to keep the suite short; the full check is
 * MERIDIAN_KILL_RUNS=20). MERIDIAN_KILL_SEED fixes the kill times.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { ModelVersionRepository } from '../../src/inference/model-version.repository';
import { isTerminal, type JobStatus } from '../../src/jobs/training-job';
import { startTestApp, TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import {
  activeVersions, type ActiveVersions, ensureBuilt, jobEnv, LAST_WEEK, ROOT, SMOKE_NEXT_ITEM, tearDownJobsTest,
  tempDir, trainerPids, waitFor,
} from './jobs-helpers';

const RUNS = Number(process.env.MERIDIAN_KILL_RUNS ?? 3);
const SEED = Number(process.env.MERIDIAN_KILL_SEED ?? Date.now() % 100_000);
/** An attempt of a smoke job takes ~20–35 s here (export, train, evaluate the active model, register). */
const MAX_KILL_DELAY_S = 30;

jest.setTimeout((RUNS * 160 + 300) * 1000);

let db: Database;
let app: App;
let saved: ActiveVersions;
let dataDir: string;
const children = new Set<ChildProcess>();

/** mulberry32: reproducible kill times from MERIDIAN_KILL_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  ensureBuilt();
  db = await openTestDatabase();
  dataDir = tempDir('chaos');
  // Jobs record their attempt limit when queued: 10, so a job the kills keep hitting still gets to finish.
  app = await startTestApp(db, jobEnv(dataDir, { MERIDIAN_JOB_WORKER: 'false', MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_MAX_ATTEMPTS: '10' }));
  saved = await activeVersions(db.dataSource);
  const versions = new ModelVersionRepository(db.dataSource);
  if (!(await versions.active('next-item'))) {
    const v = await app.services.models.register('next-item', path.join(ROOT, 'model-artifacts/next-item'));
    await versions.activate(v.id, 'current');
  }
}, 300_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await tearDownJobsTest({ db, app, saved });
});

function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...jobEnv(dataDir, { MERIDIAN_LOAD_MODELS: 'false' }),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    DB_POOL_SIZE: '2',
    PORT: '0',
    HOST: '127.0.0.1',
    MERIDIAN_SEED_DEMO: 'false',
    MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY,
  };
}

/** Starts the standalone worker or the whole server (with its in-process worker); logs go to a file. */
function startProcess(kind: 'worker' | 'server', n: number): ChildProcess {
  const entry = kind === 'worker' ? 'dist/src/tools/worker.js' : 'dist/src/main.js';
  const log = fs.openSync(path.join(dataDir, `${kind}-${n}.log`), 'a');
  const child = spawn(process.execPath, [entry], { cwd: ROOT, env: childEnv(), stdio: ['ignore', log, log] });
  fs.closeSync(log);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

interface Row { id: string; status: JobStatus; lease: string | null; attempts: number; result_version_id: string | null; dead_lettered: boolean; comparison: { promoted?: boolean } | null }

async function jobRows(ids: readonly string[]): Promise<Row[]> {
  return await db.dataSource.query<Row[]>(
    `SELECT id::text AS id, status, lease, attempts, result_version_id::text AS result_version_id, dead_lettered, comparison
     FROM training_jobs WHERE id = ANY($1) ORDER BY id`,
    [ids],
  );
}

it(`every job survives ${RUNS} SIGKILLs of its worker or server at random points`, async () => {
  const random = rng(SEED);
  const ids: string[] = [];
  const hits: { run: number; kind: string; afterS: number; stages: string[] }[] = [];
  const detections: Promise<number | null>[] = [];
  /** Leases of attempts whose process was killed: they no longer mean "running". */
  const deadLeases = new Set<string>();

  for (let run = 0; run < RUNS; run++) {
    const job = await app.services.trainingJobs.start({
      modelKind: 'next-item',
      fromScratch: true,
      dataWindow: { from: new Date(LAST_WEEK.from), to: new Date(LAST_WEEK.to) },
      hyperparameters: { ...SMOKE_NEXT_ITEM },
      autoPromote: run % 2 === 0,
      seed: run,
    }, 'chaos');
    ids.push(job.id);
    const kind = run % 2 === 0 ? 'worker' : 'server';
    const child = startProcess(kind, run);
    // The kill lands at a random point of an attempt: timed from the moment the process claims a job.
    await waitFor('a claimed job', async () => (await jobRows(ids)).some((r) => r.lease !== null && !deadLeases.has(r.lease)), 120_000, 100)
      .catch(() => undefined);
    const afterS = random() * MAX_KILL_DELAY_S;
    await new Promise((r) => setTimeout(r, afterS * 1000));
    const atKill = await jobRows(ids);
    child.kill('SIGKILL');
    await exited(child);
    const running = atKill.filter((r) => !isTerminal(r.status) && r.status !== 'queued');
    running.forEach((r) => r.lease && deadLeases.add(r.lease));
    hits.push({ run, kind, afterS: Math.round(afterS * 10) / 10, stages: running.map((r) => `${r.id}:${r.status}`) });
    // A job the dead process held must be taken back (a new lease) within a minute.
    for (const r of running) {
      const killedAt = Date.now();
      detections.push(waitFor(`job ${r.id} taken back`, async () => {
        const [now] = await jobRows([r.id]);
        return now && now.lease !== r.lease ? Date.now() - killedAt : null;
      }, 60_000, 200).catch(() => null));
    }
  }

  const last = startProcess('worker', RUNS);
  const final = await waitFor('every job terminal', async () => {
    const rows = await jobRows(ids);
    return rows.every((r) => isTerminal(r.status)) ? rows : null;
  }, RUNS * 100_000 + 120_000, 1000);
  last.kill('SIGTERM');
  await exited(last);
  const detected = await Promise.all(detections);

  const summary = {
    seed: SEED, runs: RUNS, hits,
    detectionMs: detected,
    outcomes: final.map((r) => ({ id: r.id, status: r.status, attempts: r.attempts, deadLettered: r.dead_lettered, promoted: r.comparison?.promoted ?? null })),
  };
  fs.writeFileSync(path.join(dataDir, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stderr.write(`chaos summary (${dataDir}): ${JSON.stringify(summary)}\n`);

  // Dead workers were noticed within a minute.
  for (const ms of detected) expect(ms).not.toBeNull();
  expect(Math.max(0, ...detected.map((d) => d ?? 0))).toBeLessThan(60_000);

  // Every succeeded job has exactly one model version, and it is the one on the job.
  const versions = await db.dataSource.query<{ id: string; source_job_id: string; kind: 'next-item'; status: string; artifact_path: string; sha256: string }[]>(
    `SELECT id::text AS id, source_job_id, kind, status, artifact_path, sha256 FROM model_versions WHERE source_job_id = ANY($1)`,
    [ids],
  );
  for (const r of final.filter((x) => x.status === 'succeeded')) {
    const own = versions.filter((v) => v.source_job_id === r.id);
    expect(own.map((v) => v.id)).toEqual([r.result_version_id]);
  }
  expect(final.filter((x) => x.status === 'succeeded').length).toBeGreaterThan(0);

  // No registered version is partial: each is in the model store and its files verify (fetched by
  // this process, which trained none of them).
  const repo = new ModelVersionRepository(db.dataSource);
  for (const v of versions) {
    expect(v.artifact_path).toMatch(/^postgres:next-item\//);
    const record = (await repo.byId(v.id))!;
    const dir = await app.services.models.artifactDir(record);
    expect(() => app.services.models.checkArtifact('next-item', dir, v.sha256)).not.toThrow();
  }

  // What serves verifies, and if it came from these jobs, from one that decided to promote it.
  const active = (await repo.active('next-item'))!;
  const activeDir = await app.services.models.artifactDir(active);
  expect(() => app.services.models.checkArtifact('next-item', activeDir, active.sha256)).not.toThrow();
  if (active.sourceJobId && ids.includes(active.sourceJobId)) {
    const owner = final.find((r) => r.id === active.sourceJobId)!;
    expect(owner.status).toBe('succeeded');
    expect(owner.comparison?.promoted).toBe(true);
  }

  // No trainer outlives its worker.
  await waitFor('no orphaned trainers', async () => trainerPids(dataDir).length === 0, 15_000, 500);
});
