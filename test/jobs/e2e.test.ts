/**
 * The "done when" of fine-tuning, end to end with the real trainer: an admin starts a NEXT_ITEM
 * fine-tune from the active version on the demo data, watches it by query and by the graphql-ws
 * subscription, it finishes with metrics compared against the active version, autoPromote makes
 * it active without a restart, and rollbackModel brings back the previous version. Then promotions
 * and rollbacks under a steady load of recommendation requests: none may fail.
 */
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { startApp } from '../../src/app';
import { createLogger } from '../../src/common/logger';
import { gql, TEST_ADMIN_KEY, testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { activeVersions, type ActiveVersions, jobEnv, subscribeWs, tearDownJobsTest, tempDir, waitFor } from './jobs-helpers';

jest.setTimeout(600_000);

let db: Database;
let app: App;
let saved: ActiveVersions;
let dataDir: string;

const AT = '2026-05-31T18:00:00.000Z';
const JOB_FIELDS = `id status progress epoch step totalSteps loss metrics etaSeconds logTail error createdAt startedAt finishedAt
  resultVersion { id version status metrics } comparison attempts`;

interface Job {
  id: string; status: string; progress: number; epoch: number | null; step: number | null; loss: number | null;
  metrics: Record<string, number>; comparison: Record<string, unknown> | null; error: string | null;
  resultVersion: { id: string; version: string; status: string; metrics: Record<string, number> } | null;
}

beforeAll(async () => {
  db = await openTestDatabase();
  // The worker runs inside this server, as it does by default.
  // MERIDIAN_TEST_LOG_LEVEL=error shows why a request failed (the client only sees INTERNAL_SERVER_ERROR).
  const level = (process.env.MERIDIAN_TEST_LOG_LEVEL ?? 'silent') as Parameters<typeof createLogger>[0];
  app = await startApp(testConfig(jobEnv((dataDir = tempDir('e2e')), { MERIDIAN_JOB_PROMOTION_MARGIN: '0.005' })), createLogger(level), { db });
  saved = await activeVersions(db.dataSource);
});

afterAll(() => tearDownJobsTest({ db, app, saved, dataDir }));

async function userWithHistory(): Promise<string> {
  const [row] = await db.dataSource.query<{ id: string }[]>(`SELECT user_id::text AS id FROM events GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1`);
  return row!.id;
}

async function servingNextItem(): Promise<string | null> {
  const r = await gql(app, `{ servingMetrics }`);
  const m = (r.body.data!.servingMetrics.models as { kind: string; version: string }[]).find((x) => x.kind === 'next-item');
  return m?.version ?? null;
}

describe('fine-tuning NEXT_ITEM from the active version', () => {
  let job: Job;
  let activeBefore: { id: string; version: string };

  it('runs, reports progress by query and subscription, compares with the active version and promotes itself', async () => {
    const before = await gql(app, `{ modelVersions(kind: NEXT_ITEM) { id version status } }`);
    activeBefore = (before.body.data!.modelVersions as { id: string; version: string; status: string }[]).find((v) => v.status === 'ACTIVE')!;
    expect(activeBefore).toBeDefined();

    const start = await gql(app, `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { ${JOB_FIELDS} baseVersionId } }`, {
      i: {
        modelKind: 'NEXT_ITEM',
        // All demo history: the fine-tune sees the same data as the comparison.
        dataWindow: { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' },
        hyperparameters: { epochs: 1, batch_size: 128 },
        autoPromote: true,
        idempotencyKey: `e2e-${Date.now()}`,
      },
    });
    expect(start.body.errors).toBeUndefined();
    const id = start.body.data!.startFineTuning.id as string;
    expect(start.body.data!.startFineTuning.baseVersionId).toBe(activeBefore.id);

    const sub = subscribeWs<{ trainingJobProgress: Job }>(app.url, `subscription($id: ID!) { trainingJobProgress(id: $id) { ${JOB_FIELDS} } }`, { id }, TEST_ADMIN_KEY);
    const polled: Job[] = [];
    job = await waitFor('the job to end', async () => {
      const r = await gql(app, `query($id: ID!) { trainingJob(id: $id) { ${JOB_FIELDS} } }`, { id });
      const j = r.body.data!.trainingJob as Job;
      polled.push(j);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    }, 540_000, 500);
    await sub.finished;
    await sub.dispose();

    expect(job.error).toBeNull();
    expect(job.status).toBe('SUCCEEDED');
    expect(job.progress).toBe(1);

    // By query: the job was seen training, with epoch/step/loss.
    const training = polled.filter((j) => j.status === 'TRAINING');
    expect(training.length).toBeGreaterThan(0);
    expect(polled.some((j) => j.step !== null && j.loss !== null)).toBe(true);

    // By subscription: statuses in lifecycle order, progress never going back, ending with the outcome.
    const streamed = sub.results.map((r) => r.data!.trainingJobProgress);
    expect(sub.results.every((r) => !r.errors)).toBe(true);
    const order = ['QUEUED', 'EXPORTING', 'TRAINING', 'EVALUATING', 'REGISTERING', 'SUCCEEDED'];
    const seen = streamed.map((j) => order.indexOf(j.status));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(streamed.map((j) => j.status)).toEqual(expect.arrayContaining(['TRAINING', 'SUCCEEDED']));
    for (let i = 1; i < streamed.length; i++) expect(streamed[i]!.progress).toBeGreaterThanOrEqual(streamed[i - 1]!.progress);
    expect(streamed.filter((j) => j.status === 'TRAINING').length).toBeGreaterThan(1);
    expect(streamed[streamed.length - 1]).toMatchObject({ status: 'SUCCEEDED', progress: 1 });

    // Compared with the active version on the same held-out data.
    const c = job.comparison!;
    process.stderr.write(`fine-tune comparison: ${JSON.stringify({ ...c, activeMetrics: undefined })}\n`);
    expect(c).toMatchObject({ metric: 'ndcg@10', activeVersionId: activeBefore.id, activeVersion: activeBefore.version, margin: 0.005 });
    expect(c.candidate).toBe(job.resultVersion!.metrics['ndcg@10']);
    expect(typeof c.active).toBe('number');
    expect(c.delta).toBeCloseTo((c.candidate as number) - (c.active as number), 9);
    expect(c.beats).toBe(true);
    expect(c.promoted).toBe(true);
    expect(c.decision).toMatch(/beats it/);

    // Promoted without a restart: this very server serves the new version.
    expect(job.resultVersion!.status).toBe('ACTIVE');
    expect(app.services.models.active('next-item')!.id).toBe(job.resultVersion!.id);
    const user = await userWithHistory();
    const recs = await gql(app, `query($id: ID!, $at: DateTime) { user(id: $id) { recommendations(first: 5, at: $at) { product { id } sources } } }`, { id: user, at: AT });
    expect(recs.body.errors).toBeUndefined();
    expect(recs.body.data!.user.recommendations.length).toBeGreaterThan(0);
    expect(await servingNextItem()).toBe(job.resultVersion!.version);
    const versions = await gql(app, `{ modelVersions(kind: NEXT_ITEM) { id status sourceJobId } }`);
    const mine = (versions.body.data!.modelVersions as { id: string; status: string; sourceJobId: string | null }[]).filter((v) => v.sourceJobId === id);
    expect(mine).toEqual([{ id: job.resultVersion!.id, status: 'ACTIVE', sourceJobId: id }]);
  });

  it('rollbackModel brings back the previous version', async () => {
    const r = await gql(app, `mutation { rollbackModel(kind: NEXT_ITEM) { id version status } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.rollbackModel).toEqual({ id: activeBefore.id, version: activeBefore.version, status: 'ACTIVE' });
    expect(app.services.models.active('next-item')!.id).toBe(activeBefore.id);
    const user = await userWithHistory();
    await gql(app, `query($id: ID!, $at: DateTime) { user(id: $id) { recommendations(first: 5, at: $at) { product { id } } } }`, { id: user, at: AT });
    expect(await servingNextItem()).toBe(activeBefore.version);
  });

  it('promotes and rolls back under load with 0 failed requests', async () => {
    const user = await userWithHistory();
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const Q = `query($id: ID!, $at: DateTime) { user(id: $id) { recommendations(first: 5, at: $at) { product { id } } } }`;
    const loop = async () => {
      while (!stop) {
        try {
          const r = await gql(app, Q, { id: user, at: AT });
          if (r.status !== 200 || r.body.errors) failures.push(JSON.stringify(r.body.errors ?? r.status));
          else ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 4 }, loop);
    const served = async (what: string) => {
      const at = ok + failures.length;
      await waitFor(what, async () => ok + failures.length > at + 4, 60_000, 50);
    };
    try {
      await served('load');
      for (let i = 0; i < 3; i++) {
        const p = await gql(app, `mutation($id: ID!) { promoteModelVersion(id: $id) { status } }`, { id: job.resultVersion!.id });
        expect(p.body.data!.promoteModelVersion.status).toBe('ACTIVE');
        await served('requests on the new version');
        const b = await gql(app, `mutation { rollbackModel(kind: NEXT_ITEM) { id } }`);
        expect(b.body.data!.rollbackModel.id).toBe(activeBefore.id);
        await served('requests on the old version');
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(30);
  });
});
