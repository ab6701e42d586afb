/**
 * The reply model wired into conversations (issue 20, item 6), on a tiny random model the trainer
 * makes in the test (make-tiny-lm, export-lm): the turn is stored with its grounded template reply
 * at once; assistantReply(turnId) streams the model's tokens and ends with the reply that stands —
 * the model's if it states nothing outside the grounding, else the template — recorded on the turn
 * and counted in /metrics. A later subscriber (any server) gets the reply that stood; handoffs are
 * never generated. The tiny model writes gibberish: only the mechanics are tested.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { App } from '../../src/app';
import { unsupportedFacts } from '../../src/assistant/grounding';
import type { Database } from '../../src/db/database';
import { gql, startTestApp, TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { subscribeWs } from '../jobs/jobs-helpers';

const ROOT = path.resolve(__dirname, '../..');
const PYTHON = path.join(ROOT, 'trainer/.venv/bin/python');
const run = promisify(execFile);
const REPLY = `subscription($t: ID!) { assistantReply(turnId: $t) { turnId delta text done replySource outcome } }`;

let tmp: string;
let db: Database;
let app: App;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-reply-lm-'));
  const env = { ...process.env, HF_HUB_OFFLINE: '1', MERIDIAN_TRAINER_THREADS: '1', PYTHONPATH: path.join(ROOT, 'trainer') };
  const trainer = (...args: string[]) => run(PYTHON, ['-m', 'meridian_trainer', ...args], { cwd: path.join(ROOT, 'trainer'), env, timeout: 300_000 });
  await trainer('make-tiny-lm', '--arch', 'llama', '--seed', '3', '--out', path.join(tmp, 'ckpt'));
  await trainer('export-lm', '--from', path.join(tmp, 'ckpt'), '--out', path.join(tmp, 'lm'));
  db = await openTestDatabase();
  app = await startTestApp(db, { MERIDIAN_ASSISTANT_LM_DIR: path.join(tmp, 'lm'), MERIDIAN_ASSISTANT_LM_MAX_TOKENS: '24', MERIDIAN_ASSISTANT_LM_TEMPERATURE: '0' });
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await db?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function turn(text: string) {
  const [u] = await db.dataSource.query<{ id: string }[]>(`SELECT user_id::text AS id FROM events WHERE type = 'purchase' ORDER BY id LIMIT 1`);
  const c = await gql(app, `mutation($u: ID!) { startConversation(input: { userId: $u }) { id } }`, { u: u!.id });
  const r = await gql(app, `mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id reply replySource handoff grounding { kind id fields } } }`,
    { c: c.body.data!.startConversation.id, t: text });
  if (!r.body.data) throw new Error(JSON.stringify(r.body.errors));
  return r.body.data.sendMessage as { id: string; reply: string; replySource: string; handoff: boolean; grounding: { kind: 'ORDER'; id: string; fields: Record<string, never> }[] };
}

async function stored(id: string) {
  const [row] = await db.dataSource.query(`SELECT reply, reply_source, template_reply, lm_status, lm_finish FROM conversation_turns WHERE id = $1`, [id]);
  return row as { reply: string; reply_source: string; template_reply: string | null; lm_status: string; lm_finish: string };
}

it('streams the model reply, keeps it only if grounded, and records and counts the outcome', async () => {
  const t = await turn('where is my order?');
  expect(t.replySource).toBe('template');
  expect((await stored(t.id)).lm_status).toBe('pending');
  const sub = subscribeWs(app.url, REPLY, { t: t.id }, TEST_ADMIN_KEY);
  await sub.finished;
  await sub.dispose();
  const events = sub.results.map((r) => r.data!.assistantReply as { delta: string; text: string; done: boolean; replySource: string; outcome: string | null });
  const final = events[events.length - 1]!;
  expect(final.done).toBe(true);
  expect(events.slice(0, -1).every((e) => !e.done && e.replySource === 'model')).toBe(true);
  expect(events.length).toBeGreaterThan(2); // tokens streamed before the end
  const row = await stored(t.id);
  expect(['model', 'ungrounded', 'empty']).toContain(final.outcome);
  if (final.outcome === 'model') {
    expect(row).toMatchObject({ lm_status: 'done', reply_source: 'model', reply: final.text, template_reply: t.reply });
    expect(unsupportedFacts(final.text, t.grounding)).toEqual([]);
  } else {
    // the streamed text stated something the grounding does not hold (or nothing): the template stands
    expect(row).toMatchObject({ lm_status: 'fallback', reply_source: 'template', reply: t.reply, lm_finish: final.outcome });
    expect(final).toMatchObject({ text: t.reply, replySource: 'template' });
  }
  const metrics = await (await fetch(new URL('/metrics', app.url), { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).text();
  expect(metrics).toMatch(new RegExp(`meridian_assistant_model_replies_total\\{outcome="${final.outcome}"\\} 1`));

  // a later subscriber gets the reply that stood, without generating again
  const again = subscribeWs(app.url, REPLY, { t: t.id }, TEST_ADMIN_KEY);
  await again.finished;
  await again.dispose();
  expect(again.results.map((r) => r.data!.assistantReply)).toEqual([expect.objectContaining({ done: true, text: row.reply, delta: '' })]);
}, 120_000);

it('an ungrounded generated reply is replaced by the template (the check itself)', () => {
  const grounding = [{ kind: 'ORDER' as const, id: '4133', fields: { placedOn: '2026-03-17', items: ['3 × Estrela Pro desk lamp'], total: 512.91 } }];
  expect(unsupportedFacts('Your order #4133 of 2026-03-17 (3 × Estrela Pro desk lamp) cost 512.91.', grounding, ['Estrela Pro desk lamp'])).toEqual([]);
  expect(unsupportedFacts('It will arrive on 2026-03-20.', grounding)).toEqual(['2026-03-20']);
  expect(unsupportedFacts('Order #4134 is on its way.', grounding)).toEqual(['4134']);
  expect(unsupportedFacts('Try the Jade Lite webcam instead.', grounding, ['Jade Lite webcam'])).toEqual(['Jade Lite webcam']);
  expect(unsupportedFacts('It cost 1,299.90 in total.', grounding)).toEqual(['1,299.90']);
});

it('never generates for a handoff, and a subscriber to one gets the stored reply', async () => {
  const t = await turn('I need to speak with a real person');
  expect(t.handoff).toBe(true);
  expect((await stored(t.id)).lm_status).toBeNull();
  const sub = subscribeWs(app.url, REPLY, { t: t.id }, TEST_ADMIN_KEY);
  await sub.finished;
  await sub.dispose();
  expect(sub.results.map((r) => r.data!.assistantReply)).toEqual([expect.objectContaining({ done: true, text: t.reply, replySource: 'template' })]);
});

it("the owner's frontend key reads its reply; another user's key gets NOT_FOUND; two subscribers share one generation", async () => {
  const t = await turn('where is my order?');
  const [owner] = await db.dataSource.query<{ id: string }[]>(
    `SELECT c.user_id::text AS id FROM conversation_turns t JOIN conversations c ON c.id = t.conversation_id WHERE t.id = $1`, [t.id]);
  const [other] = await db.dataSource.query<{ id: string }[]>(`SELECT id::text FROM users WHERE id <> $1 LIMIT 1`, [owner!.id]);
  const key = async (u: string) => (await gql(app, `mutation($u: ID!) { createApiKey(input: { name: "fe", role: FRONTEND, userId: $u }) { secret } }`, { u })).body.data!.createApiKey.secret as string;
  const count = async () => {
    const m = await (await fetch(new URL('/metrics', app.url), { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).text();
    return [...m.matchAll(/meridian_assistant_model_replies_total\{outcome="[a-z]+"\} (\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
  };
  const before = await count();

  const stranger = subscribeWs(app.url, REPLY, { t: t.id }, await key(other!.id));
  // graphql-ws answers a refused subscribe with an error message (the client's error callback)
  const refused = await stranger.finished.then(() => null, (e: { detail?: { extensions?: { code?: string } }[] }) => e);
  await stranger.dispose();
  const codes = [...(refused?.detail ?? []), ...stranger.results.flatMap((r) => r.errors ?? [])].map((e) => e.extensions?.code);
  expect(codes).toEqual(['NOT_FOUND']);
  expect(stranger.results.every((r) => !r.data?.assistantReply)).toBe(true);

  const ownerKey = await key(owner!.id);
  const [a, b] = [subscribeWs(app.url, REPLY, { t: t.id }, ownerKey), subscribeWs(app.url, REPLY, { t: t.id }, TEST_ADMIN_KEY)];
  await Promise.all([a.finished, b.finished]);
  await Promise.all([a.dispose(), b.dispose()]);
  const last = (r: typeof a) => r.results[r.results.length - 1]!.data!.assistantReply as { done: boolean; text: string };
  expect(last(a).done && last(b).done).toBe(true);
  expect(last(a).text).toBe(last(b).text); // the one reply that stands, however each subscriber came to it
  expect(last(a).text).toBe((await stored(t.id)).reply);
  expect(await count()).toBe(before + 1); // generated once
}, 120_000);
