/**
 * INTENT fine-tuning from the platform's own data: agents' intent-labelled customer messages are
 * stored by labelMessages (validated whole, idempotent per text), exported as texts.csv, and a job
 * fine-tunes the active intent model on them with the real trainer, compared with the active
 * version on the same held-out messages. Messages are real (the Bitext e-commerce customer-service sample, CDLA-Sharing 1.0).
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { App } from '../../src/app';
import { startApp } from '../../src/app';
import { createLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { exportSnapshot } from '../../src/jobs/snapshot.exporter';
import { gql, testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { sharedDataDir } from '../helpers/shared-data';
import { activeVersions, type ActiveVersions, jobEnv, tearDownJobsTest, tempDir, waitFor } from './jobs-helpers';

jest.setTimeout(600_000);

let db: Database;
let app: App;
let saved: ActiveVersions;
let dataDir: string;

/** 25 messages of each of 6 intents, in file order (the Bitext e-commerce customer-service sample). */
function shopMessages(): { text: string; intent: string }[] {
  const csv = gunzipSync(fs.readFileSync(path.join(sharedDataDir(), 'intent-ecommerce-bitext/customer_service_8k.csv.gz'))).toString('utf8');
  const want = ['track_order', 'cancel_order', 'get_refund', 'payment_issue', 'recover_password', 'contact_human_agent'];
  const out: { text: string; intent: string }[] = [];
  for (const line of csv.split('\n').slice(1)) {
    const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),([a-z_]+),/.exec(line.trim());
    if (!m) continue;
    const intent = m[3]!;
    const text = (m[1] ?? m[2]!).replace(/""/g, '"').trim();
    if (want.includes(intent) && out.filter((x) => x.intent === intent).length < 25 && !out.some((x) => x.text === text)) out.push({ text, intent });
  }
  return out;
}

const LABEL = `mutation($m: [LabeledMessageInput!]!) { labelMessages(messages: $m) { inserted relabeled unchanged } }`;
const count = async () => Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM labeled_messages`))[0].n);

beforeAll(async () => {
  db = await openTestDatabase();
  await db.dataSource.query(`DELETE FROM labeled_messages`);
  app = await startApp(testConfig(jobEnv((dataDir = tempDir('intent')))), createLogger('silent'), { db });
  saved = await activeVersions(db.dataSource);
});

afterAll(() => tearDownJobsTest({ db, app, saved, dataDir, extra: (ds) => ds.query(`DELETE FROM labeled_messages`) }));

describe('labelled customer messages', () => {
  const messages = shopMessages();

  it('stores a batch once; a retry changes nothing; a new label re-labels', async () => {
    expect(messages).toHaveLength(150);
    const first = await gql(app, LABEL, { m: messages });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.labelMessages).toEqual({ inserted: 150, relabeled: 0, unchanged: 0 });
    const retry = await gql(app, LABEL, { m: messages });
    expect(retry.body.data!.labelMessages).toEqual({ inserted: 0, relabeled: 0, unchanged: 150 });
    const relabel = await gql(app, LABEL, { m: [{ ...messages[0]!, intent: 'delivery_period' }] });
    expect(relabel.body.data!.labelMessages).toEqual({ inserted: 0, relabeled: 1, unchanged: 0 });
    await gql(app, LABEL, { m: [messages[0]!] }); // back to its original label
    expect(await count()).toBe(150);
    const intents = await gql(app, `{ labeledMessageIntents { intent count } }`);
    expect(intents.body.data!.labeledMessageIntents).toHaveLength(6);
    expect(intents.body.data!.labeledMessageIntents.every((c: { count: number }) => c.count === 25)).toBe(true);
  });

  it('refuses a batch with a bad item whole, naming the item and field', async () => {
    const r = await gql(app, LABEL, { m: [{ text: 'where is my new card?', intent: 'card_arrival' }, { text: 'hello', intent: '  ' }, { text: ' ', intent: 'x' }] });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/messages\[1\]\.intent/);
    expect(r.body.errors?.[0]?.message).toMatch(/messages\[2\]\.text/);
    expect(await count()).toBe(150);
  });

  it('is for admins only', async () => {
    const key = await gql(app, `mutation { createApiKey(input: { name: "fe", role: FRONTEND }) { secret } }`);
    const r = await gql(app, LABEL, { m: [messages[1]!] }, { authorization: `Bearer ${key.body.data!.createApiKey.secret}` });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('exports texts.csv for intent jobs only', async () => {
    const dir = tempDir('texts');
    try {
      const withTexts = await exportSnapshot(db.dataSource, path.join(dir, 'a'), {}, { texts: true });
      expect(withTexts.texts).toBe(150);
      const lines = fs.readFileSync(path.join(dir, 'a/texts.csv'), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('text,label');
      expect(lines).toHaveLength(151);
      const without = await exportSnapshot(db.dataSource, path.join(dir, 'b'));
      expect(without.texts).toBeUndefined();
      expect(fs.existsSync(path.join(dir, 'b/texts.csv'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fine-tunes the active intent model on them and compares on the same held-out messages', async () => {
    const active = app.services.models.active('intent')!;
    const start = await gql(app, `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { id baseVersionId } }`, {
      i: { modelKind: 'INTENT', hyperparameters: { epochs: 3, max_length: 64 }, autoPromote: false, idempotencyKey: `intent-${Date.now()}` },
    });
    expect(start.body.errors).toBeUndefined();
    expect(start.body.data!.startFineTuning.baseVersionId).toBe(active.id);
    const id = start.body.data!.startFineTuning.id as string;
    const job = await waitFor('the intent job to end', async () => {
      const r = await gql(app, `query($id: ID!) { trainingJob(id: $id) { status error comparison resultVersion { id status metrics } } }`, { id });
      const j = r.body.data!.trainingJob as { status: string; error: string | null; comparison: Record<string, unknown>; resultVersion: { id: string; status: string; metrics: Record<string, number> } };
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    }, 540_000, 500);
    process.stderr.write(`intent fine-tune comparison: ${JSON.stringify({ ...job.comparison, activeMetrics: undefined })}\n`);
    expect(job.error).toBeNull();
    expect(job.status).toBe('SUCCEEDED');
    expect(job.resultVersion.status).toBe('CANDIDATE');
    expect(job.comparison).toMatchObject({ metric: 'accuracy', activeVersionId: active.id, promoted: false });
    expect(job.comparison.candidate).toBe(job.resultVersion.metrics.accuracy);
    expect(typeof job.comparison.active).toBe('number');
    // autoPromote off: the active version keeps serving
    expect(app.services.models.active('intent')!.id).toBe(active.id);
  });
});
