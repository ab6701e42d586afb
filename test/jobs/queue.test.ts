/**
 * The queue and the API without a trainer: validation before queueing, idempotency, roles,
 * cancellation, listing, the global concurrency limit, lease fencing, dead-worker recovery,
 * retries with backoff and the dead-letter state (through the real pipeline with a scripted
 * runner), the /metrics gauge, and the graphql-ws front door.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from '../../src/app';
import { silentLogger } from '../../src/common/logger';
import { ModelVersionRepository } from '../../src/inference/model-version.repository';
import type { Database } from '../../src/db/database';
import type { JobRunner, RunResult, TrainerTask } from '../../src/jobs/job-runner';
import { createJobWorker } from '../../src/jobs/job-worker.factory';
import type { JobWorker } from '../../src/jobs/job-worker';
import { LocalProcessRunner } from '../../src/jobs/local-process.runner';
import type { TrainingJobRepository } from '../../src/jobs/training-job.repository';
import type { StartFineTuning } from '../../src/jobs/training-job.service';
import { gql, startTestApp, TEST_ADMIN_KEY, testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { bearer, createKey } from '../helpers/keys';
import { cancelOpenJobs, jobEnv, LAST_WEEK, ROOT, subscribeWs, tempDir, waitFor } from './jobs-helpers';

let db: Database;
let app: App;
let repo: TrainingJobRepository;
let env: Record<string, string>;

const START = `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) {
  id status modelKind baseVersionId attempts maxAttempts autoPromote hyperparameters dataFrom dataTo idempotencyKey } }`;

beforeAll(async () => {
  db = await openTestDatabase();
  env = jobEnv(tempDir('queue'), { MERIDIAN_JOB_WORKER: 'false', MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_MAX_ATTEMPTS: '2' });
  app = await startTestApp(db, env);
  repo = app.services.trainingJobs.repo;
  // Fine-tuning needs a base: the shipped next-item baseline, as a fresh server activates it.
  const versions = new ModelVersionRepository(db.dataSource);
  if (!(await versions.active('next-item'))) {
    const v = await app.services.models.register('next-item', path.join(ROOT, 'model-artifacts/next-item'));
    await versions.activate(v.id, 'current');
  }
});

afterAll(async () => {
  if (db) await cancelOpenJobs(db.dataSource);
  await app?.stop();
  await db?.close();
  if (env) fs.rmSync(env.MERIDIAN_DATA_DIR!, { recursive: true, force: true });
});

beforeEach(async () => {
  await cancelOpenJobs(db.dataSource);
});

async function queuedCount(): Promise<number> {
  const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM training_jobs`);
  return n;
}

function input(extra: Record<string, unknown> = {}) {
  return { modelKind: 'NEXT_ITEM', fromScratch: true, dataWindow: LAST_WEEK, hyperparameters: { epochs: 1 }, ...extra };
}

/** The same request as the service takes it (no GraphQL enum names or date strings). */
const svcInput = (): StartFineTuning => ({
  modelKind: 'next-item', fromScratch: true, dataWindow: { from: new Date(LAST_WEEK.from), to: new Date(LAST_WEEK.to) }, hyperparameters: { epochs: 1 },
});

describe('startFineTuning', () => {
  it('queues a job with what was asked for', async () => {
    const r = await gql(app, START, { i: input({ autoPromote: true }) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.startFineTuning).toMatchObject({
      status: 'QUEUED', modelKind: 'NEXT_ITEM', baseVersionId: null, attempts: 0, maxAttempts: 2, autoPromote: true,
      hyperparameters: { epochs: 1 }, dataFrom: LAST_WEEK.from, dataTo: LAST_WEEK.to,
    });
  });

  it('refuses bad hyperparameters with BAD_USER_INPUT naming the key, before anything is queued', async () => {
    const before = await queuedCount();
    const r = await gql(app, START, { i: input({ hyperparameters: { lr: 50, epochz: 1 } }) });
    expect(r.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.extensions!.issues!.map((i) => i.path).sort()).toEqual(['input.hyperparameters.epochz', 'input.hyperparameters.lr']);
    expect(r.body.errors![0]!.message).toMatch(/input\.hyperparameters\.lr: must be ≤ 1/);
    const arch = await gql(app, START, { i: input({ fromScratch: false, hyperparameters: { d_model: 8 } }) });
    expect(arch.body.errors![0]!.extensions!.issues![0]).toEqual({
      path: 'input.hyperparameters.d_model', message: expect.stringContaining("fine-tuning keeps the base's value 64"),
    });
    const window = await gql(app, START, { i: input({ dataWindow: { from: LAST_WEEK.to, to: LAST_WEEK.from } }) });
    expect(window.body.errors![0]!.extensions!.issues![0]!.path).toBe('input.dataWindow');
    const base = await gql(app, START, { i: input({ fromScratch: false, baseVersionId: '987654321' }) });
    expect(base.body.errors![0]!.extensions!.issues![0]).toEqual({ path: 'input.baseVersionId', message: 'model version 987654321 does not exist' });
    expect(await queuedCount()).toBe(before);
  });

  it('returns the existing job for a repeated idempotency key', async () => {
    const key = `idem-${Date.now()}`;
    const a = await gql(app, START, { i: input({ idempotencyKey: key }) });
    const b = await gql(app, START, { i: input({ idempotencyKey: key, hyperparameters: { epochs: 2 } }) });
    expect(b.body.data!.startFineTuning.id).toBe(a.body.data!.startFineTuning.id);
    expect(b.body.data!.startFineTuning.hyperparameters).toEqual({ epochs: 1 });
    const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM training_jobs WHERE idempotency_key = $1`, [key]);
    expect(n).toBe(1);
  });

  it('is for admins only, like every job and model operation', async () => {
    const frontend = bearer(await createKey(app, 'FRONTEND'));
    for (const q of [
      { query: START, variables: { i: input() } },
      { query: `{ trainingJobs { edges { node { id } } } }` },
      { query: `{ modelVersions(kind: NEXT_ITEM) { id } }` },
      { query: `mutation { rollbackModel(kind: NEXT_ITEM) { id } }` },
      { query: `mutation { promoteModelVersion(id: "1") { id } }` },
      { query: `mutation { cancelTrainingJob(id: "1") { id } }` },
    ]) {
      const r = await gql(app, q.query, q.variables, frontend);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});

describe('cancelTrainingJob and listing', () => {
  it('cancels a queued job at once, answers NOT_FOUND for an unknown one', async () => {
    const id = (await gql(app, START, { i: input() })).body.data!.startFineTuning.id as string;
    const c = await gql(app, `mutation($id: ID!) { cancelTrainingJob(id: $id) { id status cancelRequested finishedAt } }`, { id });
    expect(c.body.data!.cancelTrainingJob).toMatchObject({ status: 'CANCELLED', cancelRequested: true });
    expect(c.body.data!.cancelTrainingJob.finishedAt).not.toBeNull();
    const again = await gql(app, `mutation($id: ID!) { cancelTrainingJob(id: $id) { status } }`, { id });
    expect(again.body.data!.cancelTrainingJob.status).toBe('CANCELLED');
    const missing = await gql(app, `mutation { cancelTrainingJob(id: "987654321") { id } }`);
    expect(missing.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('lists jobs newest first with filters and cursors', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await gql(app, START, { i: input() })).body.data!.startFineTuning.id as string);
    const Q = `query($f: TrainingJobFilter, $first: Int, $after: String) { trainingJobs(filter: $f, first: $first, after: $after) {
      edges { node { id status } } pageInfo { hasNextPage endCursor } } }`;
    const p1 = await gql(app, Q, { f: { status: ['QUEUED'], modelKind: 'NEXT_ITEM' }, first: 2 });
    expect(p1.body.data!.trainingJobs.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(p1.body.data!.trainingJobs.pageInfo.hasNextPage).toBe(true);
    const p2 = await gql(app, Q, { f: { status: ['QUEUED'] }, first: 2, after: p1.body.data!.trainingJobs.pageInfo.endCursor });
    expect(p2.body.data!.trainingJobs.edges[0].node.id).toBe(ids[0]);
    const none = await gql(app, Q, { f: { modelKind: 'INTENT', status: ['TRAINING'] } });
    expect(none.body.data!.trainingJobs.edges).toEqual([]);
  });
});

describe('queue semantics', () => {
  async function enqueue(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await app.services.trainingJobs.start(svcInput(), 'test')).id);
    return ids;
  }

  it('claims the oldest job, never more than the concurrency limit at once', async () => {
    const [a, b] = await enqueue(2);
    const first = await repo.claim('w1', 'lease-1', 1);
    expect(first?.job.id).toBe(a);
    expect(first?.job).toMatchObject({ status: 'exporting', attempts: 1, workerId: 'w1' });
    expect(await repo.claim('w2', 'lease-2', 1)).toBeNull();
    const second = await repo.claim('w2', 'lease-2', 2);
    expect(second?.job.id).toBe(b);
  });

  it('holds the limit when workers race for the last slot', async () => {
    await enqueue(4);
    const claims = await Promise.all([1, 2, 3, 4].map((i) => repo.claim(`racer-${i}`, `lease-${i}`, 2)));
    expect(claims.filter(Boolean)).toHaveLength(2);
    const running = await db.dataSource.query<{ slot: number }[]>(
      `SELECT slot FROM training_jobs WHERE status IN ('exporting', 'training', 'evaluating', 'registering') ORDER BY slot`,
    );
    expect(running.map((r) => r.slot)).toEqual([1, 2]);
  });

  it('fences writes by the lease: a replaced worker cannot touch the job', async () => {
    const [id] = await enqueue(1);
    await repo.claim('w1', 'lease-a', 1);
    expect(await repo.setProgress(id!, 'stale', { progress: 0.5 })).toBe(false);
    expect(await repo.succeed(id!, 'stale', '1', null, {})).toBe(false);
    expect(await repo.heartbeat(id!, 'stale')).toBeNull();
    expect(await repo.setProgress(id!, 'lease-a', { progress: 0.5, epoch: 1 })).toBe(true);
    expect(await repo.heartbeat(id!, 'lease-a')).toEqual({ cancelRequested: false });
  });

  it('takes back a job whose worker stopped heartbeating, with backoff, and dead-letters it after the last attempt', async () => {
    const [id] = await enqueue(1); // max attempts 2 (MERIDIAN_JOB_MAX_ATTEMPTS)
    await repo.claim('dead-1', 'l1', 1);
    await db.dataSource.query(`UPDATE training_jobs SET status = 'training', heartbeat_at = now() - interval '10 seconds' WHERE id = $1`, [id]);
    const reaped = await repo.reapDead(3000, 60_000);
    expect(reaped.map((r) => r.id)).toContain(id);
    let job = (await repo.byId(id!))!;
    expect(job).toMatchObject({ status: 'queued', attempts: 1, lease: null, deadLettered: false });
    expect(job.error).toMatch(/worker dead-1 stopped heartbeating during training \(attempt 1 of 2\)/);
    expect(job.runAfter.getTime()).toBeGreaterThan(Date.now() + 30_000); // backoff: not claimable yet
    expect(await repo.claim('w', 'l', 1)).toBeNull();
    await db.dataSource.query(`UPDATE training_jobs SET run_after = now() WHERE id = $1`, [id]);
    await repo.claim('dead-2', 'l2', 1);
    await db.dataSource.query(`UPDATE training_jobs SET heartbeat_at = now() - interval '10 seconds' WHERE id = $1`, [id]);
    await repo.reapDead(3000, 0);
    job = (await repo.byId(id!))!;
    expect(job).toMatchObject({ status: 'failed', attempts: 2, deadLettered: true });
    expect(job.finishedAt).not.toBeNull();
  });

  it('a live worker is never reaped', async () => {
    const [id] = await enqueue(1);
    await repo.claim('alive', 'l', 1);
    expect((await repo.reapDead(3000, 0)).map((r) => r.id)).not.toContain(id);
  });

  it("recovers a job whose worker vanished on another machine by lease expiry, and leaves that machine's run alone", async () => {
    const [id] = await enqueue(1);
    await repo.claim('ray-worker', 'l-ray', 1);
    // A runner reference is text: a Ray submission id here, not a local pid.
    await repo.setRunner(id!, 'l-ray', 'raysubmit_7f3a9c', 'another-host');
    expect((await repo.byId(id!))!.runnerRef).toBe('raysubmit_7f3a9c');
    await db.dataSource.query(`UPDATE training_jobs SET status = 'training', heartbeat_at = now() - interval '10 seconds' WHERE id = $1`, [id]);
    const reaped = (await repo.reapDead(3000, 0)).find((r) => r.id === id);
    expect(reaped).toMatchObject({ runnerRef: 'raysubmit_7f3a9c', runnerHost: 'another-host' });
    expect((await repo.byId(id!))!.status).toBe('queued');
    // The local runner only stops process groups it started on this host.
    const local = new LocalProcessRunner({ python: 'python3', trainerDir: '.' }, silentLogger());
    expect(local.stopOrphan('raysubmit_7f3a9c', 'another-host', id!)).toBe(false);
    expect(local.stopOrphan('raysubmit_7f3a9c', os.hostname(), id!)).toBe(false);
  });
});

/** A runner that answers like a trainer that failed, without starting anything. */
class ScriptedRunner implements JobRunner {
  readonly name = 'scripted';
  readonly calls: TrainerTask[] = [];
  constructor(private readonly result: RunResult) {}
  async run(task: TrainerTask): Promise<RunResult> {
    this.calls.push(task);
    return this.result;
  }
}

describe('retries through the worker', () => {
  let worker: JobWorker | null = null;
  afterEach(async () => {
    await worker?.stop();
    worker = null;
  });

  function startWorker(runner: JobRunner): void {
    worker = createJobWorker(db.dataSource, testConfig(env), app.services, silentLogger(), { runner, progressWriteMs: 50 });
    worker.start();
  }

  it('retries a crashed trainer with backoff, then dead-letters the job with the stderr tail', async () => {
    const runner = new ScriptedRunner({ exitCode: 1, signal: null, done: null, errorMessage: 'RuntimeError: boom', stderrTail: 'Traceback (most recent call last):\nRuntimeError: boom' });
    const { id } = await app.services.trainingJobs.start(svcInput(), 'test');
    startWorker(runner);
    const job = await waitFor('dead letter', async () => {
      const j = await repo.byId(id);
      return j?.status === 'failed' ? j : null;
    }, 60_000);
    expect(runner.calls.filter((c) => c.command === 'train')).toHaveLength(2);
    expect(job).toMatchObject({ attempts: 2, deadLettered: true });
    expect(job.error).toMatch(/trainer train exited with code 1: RuntimeError: boom/);
    expect(job.error).toMatch(/Traceback/);
    expect(job.logTail).toMatch(/RuntimeError: boom/);
  });

  it('resumes at registration when a dead attempt had already registered the model: no retraining, one version', async () => {
    const runner = new ScriptedRunner({ exitCode: 1, signal: null, done: null, errorMessage: 'must not train again', stderrTail: '' });
    const { id } = await app.services.trainingJobs.start(svcInput(), 'test');
    // What a worker killed between registration and success leaves behind: a version and a comparison.
    const dir = path.join(tempDir('resume'), 'next-item');
    fs.cpSync(path.join(ROOT, 'model-artifacts/next-item'), dir, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { version: string };
    manifest.version = `${manifest.version}-resume${id}`;
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const version = await app.services.models.register('next-item', dir, { sourceJobId: id });
    const comparison = { metric: 'ndcg@10', candidate: 0.2, active: 0.3, delta: -0.1, margin: 0.005, beats: false, activeVersionId: null, activeVersion: null, activeMetrics: null, activeError: null };
    await db.dataSource.query(`UPDATE training_jobs SET comparison = $2::jsonb, attempts = 1 WHERE id = $1`, [id, JSON.stringify(comparison)]);
    startWorker(runner);
    const job = await waitFor('resumed job', async () => {
      const j = await repo.byId(id);
      return j?.status === 'succeeded' ? j : null;
    }, 60_000);
    expect(runner.calls).toEqual([]);
    expect(job.resultVersionId).toBe(version.id);
    expect(job.comparison).toMatchObject({ metric: 'ndcg@10', promoted: false });
    const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM model_versions WHERE source_job_id = $1`, [id]);
    expect(n).toBe(1);
  });

  it('fails bad input (exit 2) at once, without retrying', async () => {
    const runner = new ScriptedRunner({ exitCode: 2, signal: null, done: null, errorMessage: 'snapshot has no events', stderrTail: '' });
    const { id } = await app.services.trainingJobs.start(svcInput(), 'test');
    startWorker(runner);
    const job = await waitFor('failure', async () => {
      const j = await repo.byId(id);
      return j?.status === 'failed' ? j : null;
    }, 60_000);
    expect(job).toMatchObject({ attempts: 1, deadLettered: false });
    expect(job.error).toMatch(/code 2: snapshot has no events/);
  });
});

describe('observability and the websocket front door', () => {
  it('publishes job counts by status on /metrics', async () => {
    await app.services.trainingJobs.start(svcInput(), 'test');
    const res = await fetch(app.url.replace('/graphql', '/metrics'), { headers: bearer(TEST_ADMIN_KEY) });
    const text = await res.text();
    expect(text).toMatch(/meridian_jobs\{status="queued"\} [1-9]/);
    expect(text).toMatch(/meridian_jobs\{status="dead_lettered"\} \d+/);
  });

  it('keeps job progress to admins over the socket (partners are refused at connect, frontend keys by the field rule), and refuses queries over it', async () => {
    const job = (await gql(app, START, { i: input() })).body.data!.startFineTuning.id as string;
    const SUB = `subscription($id: ID!) { trainingJobProgress(id: $id) { id status } }`;
    const partner = subscribeWs(app.url, SUB, { id: job }, await createKey(app, 'PARTNER'));
    await expect(partner.finished).rejects.toBeDefined();
    await partner.dispose();
    // frontend keys connect (for their own assistant replies) but may not follow jobs
    const frontend = subscribeWs(app.url, SUB, { id: job }, await createKey(app, 'FRONTEND'));
    const refused = await frontend.finished.then(() => null, (e: { detail?: { extensions?: { code?: string } }[] }) => e);
    await frontend.dispose();
    const codes = [...(refused?.detail ?? []), ...frontend.results.flatMap((r) => r.errors ?? [])].map((e) => e.extensions?.code);
    expect(codes).toEqual(['FORBIDDEN']);
    expect(frontend.results.every((r) => !r.data?.trainingJobProgress)).toBe(true);
    const query = subscribeWs(app.url, `{ trainingJob(id: "${job}") { id } }`, {}, TEST_ADMIN_KEY);
    await expect(query.finished).rejects.toBeDefined();
    await query.dispose();
    const missing = subscribeWs(app.url, SUB, { id: '987654321' }, TEST_ADMIN_KEY);
    await missing.finished;
    expect(missing.results).toEqual([{ errors: [expect.objectContaining({ message: 'Training job 987654321 not found', extensions: { code: 'NOT_FOUND' } })] }]);
    await missing.dispose();
  });

  it('streams a job until it ends', async () => {
    const id = (await gql(app, START, { i: input() })).body.data!.startFineTuning.id as string;
    const sub = subscribeWs(app.url, `subscription($id: ID!) { trainingJobProgress(id: $id) { id status } }`, { id }, TEST_ADMIN_KEY);
    await waitFor('first event', async () => sub.results.length > 0, 10_000, 50);
    await gql(app, `mutation($id: ID!) { cancelTrainingJob(id: $id) { id } }`, { id });
    await sub.finished;
    expect(sub.results.map((r) => r.data?.trainingJobProgress.status)).toEqual(['QUEUED', 'CANCELLED']);
    await sub.dispose();
  });
});
