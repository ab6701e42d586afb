/**
 * Assistant benchmark (issue 20): latency and throughput of `sendMessage` (a conversation turn:
 * intent model, exemplar bank, skills, the user's orders, facts, policy answers, one optimistic
 * write) against `classifyMessage` (the same intent model, nothing else) on the same server in the
 * same run, over HTTP on the real Postgres with the demo data. Scripted four-turn conversations
 * (where is my order → the first one → can I return it → something similar), one per user.
 *   node dist/bench/assistant.js [--quick]
 */
import { BENCH_ADMIN_KEY, dropDatabase, freshDatabase, markdownTable, printReport, startServer, summarize } from './bench-utils';

const SCRIPT = ['where is my order?', 'the first one', 'can I return it?', 'show me something similar'];
const CONCURRENCY = 8;

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Runs `jobs` (each a sequence of requests) `CONCURRENCY` at a time; latency per request, ms. */
async function run(jobs: (() => Promise<number[]>)[]): Promise<{ ms: number[]; seconds: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < jobs.length) ms.push(...(await jobs[next++]!()));
  }));
  return { ms, seconds: (performance.now() - t0) / 1000 };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const s = performance.now();
  await f();
  return performance.now() - s;
}

export async function runAssistantBench({ quick }: { quick: boolean }): Promise<string> {
  const name = 'meridian_bench_assistant';
  const url = await freshDatabase(name);
  const server = await startServer({ DATABASE_URL: url, MERIDIAN_SEED_DEMO: 'true', MERIDIAN_DEMO_EVENTS: '60000' });
  try {
    const users = quick ? 40 : 200;
    // warm-up: model sessions, policy embeddings, skill examples
    const w = (await post(server.url, `mutation { startConversation(input: { userId: "1" }) { id } }`, {})) as { startConversation: { id: string } };
    for (const t of SCRIPT) await post(server.url, `mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }`, { c: w.startConversation.id, t });
    const classify = await run(Array.from({ length: users }, (_, i) => async () => {
      const out: number[] = [];
      for (const t of SCRIPT) out.push(await timed(() => post(server.url, `query($t: String!) { classifyMessage(text: $t) { intent } }`, { t: `${t} ${i}` })));
      return out;
    }));
    const converse = await run(Array.from({ length: users }, (_, i) => async () => {
      const c = (await post(server.url, `mutation($u: ID!) { startConversation(input: { userId: $u }) { id } }`, { u: String(i + 2) })) as { startConversation: { id: string } };
      const out: number[] = [];
      for (const t of SCRIPT) {
        out.push(await timed(() => post(server.url, `mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { reply grounding { kind id } actions { kind } } }`,
          { c: c.startConversation.id, t })));
      }
      return out;
    }));
    const a = summarize(classify.ms);
    const b = summarize(converse.ms);
    return [
      `### Assistant (${users} users × ${SCRIPT.length} turns, concurrency ${CONCURRENCY}, real Postgres, 60,000 demo events)`,
      '',
      markdownTable(['operation', 'p50 ms', 'p99 ms', 'req/s', 'p50 vs classifyMessage'], [
        ['classifyMessage (intent model only)', a.p50, a.p99, classify.ms.length / classify.seconds, 1],
        ['sendMessage (a conversation turn)', b.p50, b.p99, converse.ms.length / converse.seconds, b.p50 / a.p50],
      ]),
    ].join('\n');
  } finally {
    await server.stop();
    await dropDatabase(name);
  }
}

if (require.main === module) printReport(runAssistantBench({ quick: process.argv.includes('--quick') }));
