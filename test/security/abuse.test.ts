/**
 * The attack battery: every hostile request is answered 4xx quickly, and normal queries keep
 * their latency while the battery runs.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { useTestApp, withAuth } from '../helpers/app';

const t = useTestApp();

interface Attack {
  name: string;
  request: () => { url?: string; method?: string; headers?: Record<string, string>; body?: string };
  status: number | number[];
}

const json = { 'content-type': 'application/json' };
const post = (body: unknown, headers: Record<string, string> = json) => () => ({ method: 'POST', headers: withAuth(headers), body: JSON.stringify(body) });

const deep = `{ products(first: 100) { edges { node { reviews(first: 100) { product { reviews(first: 100) { product { reviews(first: 100) { rating } } } } } } } } }`;
const nestedLists = `{ users(first: 100) { edges { node { recentEvents(first: 100) { product { reviews(first: 100) { user { reviews(first: 100) { rating } } } } } } } } }`;
const aliases = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: categories { name }`).join(' ')} }`;
const duplicated = `{ categories { ${'name '.repeat(10_000)} } }`;
const circular = `query { categories { ...A } } fragment A on Category { name ...B } fragment B on Category { id ...A }`;

const ATTACKS: Attack[] = [
  { name: 'deep nesting', request: post({ query: deep }), status: 400 },
  { name: 'three nested lists of 100 (cost)', request: post({ query: nestedLists }), status: 400 },
  { name: '1,000 aliases', request: post({ query: aliases }), status: 400 },
  { name: '10,000 duplicated fields', request: post({ query: duplicated }), status: 400 },
  { name: 'circular fragments', request: post({ query: circular }), status: 400 },
  { name: 'batched queries', request: post([{ query: '{ categories { name } }' }, { query: '{ categories { id } }' }]), status: 400 },
  { name: 'a 10 MB variable', request: post({ query: 'query($x: String){ categories { name } }', variables: { x: 'x'.repeat(10 << 20) } }), status: 413 },
  { name: 'a huge list variable', request: post({ query: 'query($ids: [ID!]){ products(filter: { categoryIds: $ids }) { edges { cursor } } }', variables: { ids: Array.from({ length: 10_000 }, (_, i) => String(i)) } }), status: 400 },
  { name: 'a huge page', request: post({ query: '{ products(first: 100000) { edges { cursor } } }' }), status: 400 },
  { name: 'a 100 KB string argument', request: post({ query: `{ products(filter: { text: "${'a'.repeat(100_000)}" }) { edges { cursor } } }` }), status: 400 },
  { name: 'CSRF: GET without preflight header', request: () => ({ url: `?query=${encodeURIComponent('{ categories { name } }')}`, headers: withAuth({}) }), status: 400 },
  { name: 'CSRF: text/plain POST', request: post({ query: '{ categories { name } }' }, { 'content-type': 'text/plain' }), status: 400 },
  { name: 'CSRF: form-urlencoded POST', request: () => ({ method: 'POST', headers: withAuth({ 'content-type': 'application/x-www-form-urlencoded' }), body: 'query=%7B%20categories%20%7B%20name%20%7D%20%7D' }), status: 400 },
  { name: 'mutation over GET', request: () => ({ url: `?query=${encodeURIComponent('mutation { deleteUser(id: "1") { userId } }')}`, headers: withAuth({ 'apollo-require-preflight': '1' }) }), status: 405 },
  { name: 'unknown persisted query', request: post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }), status: [400, 404] },
  { name: 'no API key', request: () => ({ method: 'POST', headers: json, body: JSON.stringify({ query: '{ categories { name } }' }) }), status: 401 },
];

/** Request bodies are built once, so the client's own work does not load the shared event loop. */
const prepared = new Map<Attack, ReturnType<Attack['request']>>();

async function send(a: Attack): Promise<{ status: number; ms: number; body: string }> {
  if (!prepared.has(a)) prepared.set(a, a.request());
  const r = prepared.get(a)!;
  const started = performance.now();
  const res = await fetch(`${t.app.url}${r.url ?? ''}`, { method: r.method ?? 'GET', headers: r.headers, body: r.body });
  const ms = performance.now() - started; // time to the response status
  const body = await res.text();
  return { status: res.status, ms, body };
}

async function normalLatency(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await fetch(t.app.url, { method: 'POST', headers: withAuth(json), body: JSON.stringify({ query: '{ products(first: 10) { edges { node { name price category { name } } } } }' }) });
    expect(res.status).toBe(200);
    await res.text();
    out.push(performance.now() - started);
  }
  return out.sort((a, b) => a - b);
}

describe('attack battery', () => {
  for (const a of ATTACKS) {
    it(`answers "${a.name}" with ${String(a.status)} quickly`, async () => {
      await send(a); // warm
      const { status, ms, body } = await send(a);
      expect([a.status].flat()).toContain(status);
      expect(body).not.toMatch(/stack|at [A-Za-z]+ \(/);
      // 50 ms is the target on an idle machine; the 10 MB upload itself takes time to transmit
      expect(ms).toBeLessThan(a.name.includes('10 MB') ? 1000 : 150);
    });
  }

  it('keeps normal latency while the battery runs, and stays up', async () => {
    const before = await normalLatency(40);
    // One pass of the whole battery every 200 ms (~80 hostile requests/s), from another thread.
    const requests = ATTACKS.map((a) => {
      const r = a.request();
      return { url: `${t.app.url}${r.url ?? ''}`, method: r.method ?? 'GET', headers: r.headers, body: r.body };
    });
    const worker = new Worker(path.join(__dirname, '../helpers/battery-worker.js'), { workerData: { requests, pauseMs: 200 } });
    const done = new Promise<{ sent: number }>((resolve) => worker.once('message', resolve));
    await new Promise((r) => setTimeout(r, 500));
    const during = await normalLatency(40);
    worker.postMessage('stop');
    const { sent } = await done;
    await worker.terminate();
    expect(sent).toBeGreaterThan(ATTACKS.length);
    const q = (s: number[], p: number) => s[Math.ceil(s.length * p) - 1]!;
    // The battery runs on the same 2 shared cores as the server, so some slowdown is CPU
    // contention, not the server degrading; the bound catches a server that stalls or queues.
    expect(q(during, 0.5)).toBeLessThan(Math.max(100, q(before, 0.5) * 5));
    expect(q(during, 0.99)).toBeLessThan(Math.max(1000, q(before, 0.99) * 5));
    const health = await fetch(t.app.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
  });
});

describe('automatic persisted queries', () => {
  it('answers an unknown hash PERSISTED_QUERY_NOT_FOUND, then runs it by hash once registered', async () => {
    const query = '{ categories { name } }';
    const hash = createHash('sha256').update(query).digest('hex');
    const byHash = () =>
      fetch(t.app.url, { method: 'POST', headers: withAuth(json), body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }) });
    const miss = await byHash();
    expect(miss.status).toBe(400);
    expect(((await miss.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await fetch(t.app.url, {
      method: 'POST', headers: withAuth(json), body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(register.status).toBe(200);
    const hit = await byHash();
    expect(hit.status).toBe(200);
    expect(((await hit.json()) as { data: { categories: unknown[] } }).data.categories.length).toBeGreaterThan(0);
    const wrong = await fetch(t.app.url, {
      method: 'POST', headers: withAuth(json), body: JSON.stringify({ query: '{ regions { code } }', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(wrong.status).toBe(400);
  });
});
