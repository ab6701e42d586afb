/**
 * The runner with real processes: cancelling stops the real trainer's process group within 5 s
 * (asked in this process, and asked through the database as another server would); a trainer
 * crash fails the job with its stderr tail; bad artifacts are refused and the good model keeps
 * serving. Crashes and bad artifacts come from a stand-in trainer (fixtures/fake-trainer.js).
 */
import path from 'node:path';
import type { App } from '../../src/app';
import { silentLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { ModelVersionRepository } from '../../src/inference/model-version.repository';
import { createJobWorker } from '../../src/jobs/job-worker.factory';
import type { JobWorker } from '../../src/jobs/job-worker';
import type { TrainingJobRecord } from '../../src/jobs/training-job';
import type { StartFineTuning } from '../../src/jobs/training-job.service';
import { gql, startTestApp, testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import {
  activeVersions, type ActiveVersions, fakePython, groupAlive, jobEnv, LAST_WEEK, ROOT, tearDownJobsTest,
  SMOKE_NEXT_ITEM, tempDir, TRAINER_PYTHON, waitFor,
} from './jobs-helpers';

jest.setTimeout(240_000);

let db: Database;
let app: App;
let env: Record<string, string>;
let dataDir: string;
let saved: ActiveVersions;
let worker: JobWorker | null = null;

beforeAll(async () => {
  db = await openTestDatabase();
  dataDir = tempDir('trainer');
  env = jobEnv(dataDir, { MERIDIAN_JOB_WORKER: 'false', MERIDIAN_JOB_MAX_ATTEMPTS: '1' });
  app = await startTestApp(db, env);
  saved = await activeVersions(db.dataSource);
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
});

afterAll(() => tearDownJobsTest({ db, app, saved, dataDir }));

/** A worker in this process whose trainer is `python` (the real one unless a stand-in is given). */
function startWorker(python = TRAINER_PYTHON, extra: Record<string, string> = {}): void {
  worker = createJobWorker(db.dataSource, testConfig({ ...env, MERIDIAN_TRAINER_PYTHON: python, ...extra }), app.services, silentLogger(), { progressWriteMs: 200 });
  worker.start();
}

const smokeJob = (extra: Partial<StartFineTuning> = {}): StartFineTuning => ({
  modelKind: 'next-item',
  fromScratch: true,
  dataWindow: { from: new Date(LAST_WEEK.from), to: new Date(LAST_WEEK.to) },
  hyperparameters: { ...SMOKE_NEXT_ITEM },
  ...extra,
});

async function until(id: string, done: (j: TrainingJobRecord) => boolean, ms: number): Promise<TrainingJobRecord> {
  return waitFor(`job ${id}`, async () => {
    const j = await app.services.trainingJobs.get(id);
    return j && done(j) ? j : null;
  }, ms);
}

const terminal = (j: TrainingJobRecord) => ['succeeded', 'failed', 'cancelled'].includes(j.status);

/** next-item artifacts in the model store (a job that fails or is cancelled adds none). */
async function storedNextItems(): Promise<number> {
  const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM model_store_artifacts WHERE key LIKE 'next-item/%'`);
  return n;
}

async function versionsOf(jobId: string): Promise<number> {
  const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM model_versions WHERE source_job_id = $1`, [jobId]);
  return n;
}

describe('cancel during training', () => {
  // Many epochs: the trainer is still training when the cancel arrives.
  const long = { ...SMOKE_NEXT_ITEM, epochs: 500, patience: 500 };

  it.each([
    ['through the API (this process)', 'api'],
    ['through the database flag (a worker in another process sees it with its heartbeat)', 'db'],
  ])('stops the trainer process group within 5 s, asked %s', async (_how, via) => {
    startWorker();
    const storedBefore = await storedNextItems();
    const job = await app.services.trainingJobs.start(smokeJob({ hyperparameters: long }), 'test');
    const training = await until(job.id, (j) => j.status === 'training' && j.runnerRef !== null && (j.step ?? 0) > 0, 180_000);
    const pgid = Number(training.runnerRef);
    expect(groupAlive(pgid)).toBe(true);
    const asked = Date.now();
    if (via === 'api') {
      const r = await gql(app, `mutation($id: ID!) { cancelTrainingJob(id: $id) { status cancelRequested } }`, { id: job.id });
      expect(r.body.data!.cancelTrainingJob.cancelRequested).toBe(true);
    } else {
      await db.dataSource.query(`UPDATE training_jobs SET cancel_requested = true WHERE id = $1`, [job.id]);
    }
    await waitFor('trainer gone', async () => !groupAlive(pgid), 5_000, 50);
    const stoppedMs = Date.now() - asked;
    expect(stoppedMs).toBeLessThan(5_000);
    const final = await until(job.id, terminal, 10_000);
    expect(final.status).toBe('cancelled');
    expect(final.error).toBe('cancelled by an admin');
    expect(await versionsOf(job.id)).toBe(0);
    expect(await storedNextItems()).toBe(storedBefore);
  });
});

describe('a trainer that crashes', () => {
  it('fails the job with the tail of its error output', async () => {
    startWorker(fakePython(tempDir('fake'), 'python', 'fake-trainer.js', { FAKE_MODE: 'crash' }));
    const job = await app.services.trainingJobs.start(smokeJob(), 'test');
    const final = await until(job.id, terminal, 60_000);
    expect(final).toMatchObject({ status: 'failed', deadLettered: true, attempts: 1 });
    expect(final.error).toMatch(/^trainer train exited with code 1: RuntimeError: simulated crash in the training loop/);
    expect(final.error).toMatch(/Traceback \(most recent call last\)/);
    expect(final.logTail).toMatch(/RuntimeError: simulated crash/);
    expect(await versionsOf(job.id)).toBe(0);
  });
});

describe('the job timeout', () => {
  it('fails a job whose attempt runs too long and kills its stuck trainer', async () => {
    startWorker(fakePython(tempDir('fake'), 'python', 'fake-trainer.js', { FAKE_MODE: 'hang' }), { MERIDIAN_JOB_TIMEOUT_S: '6' });
    const job = await app.services.trainingJobs.start(smokeJob(), 'test');
    const running = await until(job.id, (j) => j.runnerRef !== null, 30_000);
    const final = await until(job.id, terminal, 30_000);
    expect(final).toMatchObject({ status: 'failed', attempts: 1 });
    expect(final.error).toBe('timed out after 6 s (MERIDIAN_JOB_TIMEOUT_S)');
    // It ignored SIGTERM: the SIGKILL that follows took it down.
    await waitFor('stuck trainer gone', async () => !groupAlive(Number(running.runnerRef)), 5_000, 50);
  });
});

describe('a bad artifact never replaces a good one', () => {
  const fake = (mode: string) => fakePython(tempDir('fake'), 'python', 'fake-trainer.js', {
    FAKE_MODE: mode, REAL_PYTHON: TRAINER_PYTHON, SHIPPED_DIR: path.join(ROOT, 'model-artifacts'),
  });

  it.each([
    ['one the registry cannot run (inputs differ from its manifest)', 'bad-inputs', /model inputs .* differ from the manifest/],
    ['one whose files do not match its manifest', 'bad-sha', /artifact was refused: model\.onnx sha256 .* does not match/],
  ])('refuses %s, even with autoPromote and winning metrics', async (_what, mode, reason) => {
    const versions = new ModelVersionRepository(db.dataSource);
    const activeBefore = await versions.active('next-item');
    const servingBefore = app.services.models.active('next-item');
    const storedBefore = await storedNextItems();
    startWorker(fake(mode));
    const job = await app.services.trainingJobs.start(smokeJob({ autoPromote: true }), 'test');
    const final = await until(job.id, terminal, 120_000);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(reason);
    expect(await versionsOf(job.id)).toBe(0);
    expect((await versions.active('next-item'))?.id).toBe(activeBefore?.id);
    expect(app.services.models.active('next-item')?.id).toBe(servingBefore?.id);
    // Nothing of it is left in the model store either.
    expect(await storedNextItems()).toBe(storedBefore);
  });
});
