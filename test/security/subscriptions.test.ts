/**
 * Subscriptions (graphql-ws over WebSocket) get the same limits as HTTP, and end cleanly:
 * - a completed or closed subscription stops reading the database, and watchers of one job share
 *   one poll;
 * - a socket that does not authenticate is closed within seconds, and silent sockets cannot keep
 *   an admin out;
 * - a key revoked in the database (as by another server process) loses its open sockets;
 * - depth, alias, directive, string and cost limits answer the same codes as over HTTP, the cost
 *   is charged to the key's budget, and subscriptions per socket and per key are capped.
 * Real server, real sockets (a raw graphql-transport-ws client, to see close codes and timings),
 * real database. The cost limits are lowered so a subscription can exceed them.
 */
import WebSocket from 'ws';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { cancelOpenJobs, openTestDatabase } from '../helpers/db';
import { createKey } from '../helpers/keys';

const MAX_COST = 20;
const ADMIN_BUDGET = 300;

let db: Database;
let app: App;

beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db, {
    MERIDIAN_JOB_WORKER: 'false', MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_MODEL_SYNC_MS: '0',
    MAX_QUERY_COST: String(MAX_COST), RATE_LIMIT_ADMIN_COST: String(ADMIN_BUDGET),
  });
});

afterAll(async () => {
  if (db) await cancelOpenJobs(db.dataSource);
  await app?.stop();
  await db?.close();
});

interface Message {
  readonly type: string;
  readonly id?: string;
  readonly payload?: { data?: unknown; errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[] } & { message?: string; extensions?: { code?: string } }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A graphql-transport-ws client that shows every message and how the socket ended. */
class RawClient {
  readonly messages: Message[] = [];
  readonly ws: WebSocket;
  /** The HTTP status when the upgrade was refused. */
  refused: number | null = null;
  opened = false;
  closed: { code: number; at: number } | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    this.ws.on('open', () => (this.opened = true));
    this.ws.on('message', (data) => this.messages.push(JSON.parse((data as Buffer).toString('utf8')) as Message));
    this.ws.on('unexpected-response', (_req, res) => {
      this.refused = res.statusCode ?? 0;
      this.ws.terminate();
    });
    this.ws.on('error', () => undefined);
    this.ws.on('close', (code) => (this.closed = { code, at: Date.now() }));
  }

  /** Resolves once the upgrade is answered: true when the socket opened. */
  settled(): Promise<boolean> {
    return until('the upgrade answer', () => (this.opened || this.refused !== null || this.closed ? { ok: this.opened } : null)).then((r) => r.ok);
  }

  async init(key: string): Promise<void> {
    await until('socket open', () => this.opened);
    this.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
    await until('connection_ack', () => this.messages.some((m) => m.type === 'connection_ack'));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  complete(id: string): void {
    this.send({ id, type: 'complete' });
  }

  /** The first next or error message of subscription `id`. */
  first(id: string, timeoutMs = 5000): Promise<Message> {
    return until(`a result for ${id}`, () => this.messages.find((m) => m.id === id && (m.type === 'next' || m.type === 'error')), timeoutMs);
  }

  /** The code of the error answering subscription `id`. */
  async errorCode(id: string): Promise<string | undefined> {
    const m = await this.first(id);
    expect(m.type).toBe('error');
    return m.payload?.[0]?.extensions?.code;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await until('close', () => this.closed);
  }

  private send(m: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(m));
  }
}

async function connect(key: string): Promise<RawClient> {
  const c = new RawClient(app.url);
  await c.init(key);
  return c;
}

/** A queued job: with no worker it never changes, so a subscription on it stays open. */
async function queuedJob(): Promise<string> {
  const job = await app.services.trainingJobs.start({ modelKind: 'next-item', fromScratch: true, hyperparameters: {} }, 'test');
  return job.id;
}

const PROGRESS = `subscription($id: ID!) { trainingJobProgress(id: $id) { id status } }`;

/** A fresh admin key with its own rate budget, and its prefix (to revoke it behind the server's back). */
async function freshKey(): Promise<{ key: string; prefix: string }> {
  const key = await createKey(app, 'ADMIN');
  return { key, prefix: key.split('_')[1]! };
}

describe('subscriptions end cleanly', () => {
  it('stops reading the database once the client completes or closes, and watchers of one job share one poll', async () => {
    const id = await queuedJob();
    const { key } = await freshKey();
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(key)));
    clients.forEach((c) => [0, 1, 2, 3, 4].forEach((n) => c.subscribe(`s${n}`, PROGRESS, { id })));
    for (const c of clients) for (const n of [0, 1, 2, 3, 4]) expect((await c.first(`s${n}`)).type).toBe('next');

    const byId = jest.spyOn(app.services.trainingJobs.repo, 'byId');
    const polls = () => byId.mock.calls.filter(([jobId]) => jobId === id).length;
    try {
      // 20 open watchers of one job, polled once a second: one shared read per second, not 20.
      await sleep(3000);
      const whileOpen = polls();
      expect(whileOpen).toBeGreaterThanOrEqual(1);
      expect(whileOpen).toBeLessThanOrEqual(5);

      // Two clients complete their subscriptions, two close their sockets.
      clients.slice(0, 2).forEach((c) => [0, 1, 2, 3, 4].forEach((n) => c.complete(`s${n}`)));
      await Promise.all(clients.slice(2).map((c) => c.close()));
      await sleep(300);
      byId.mockClear();
      await sleep(3000);
      expect(polls()).toBe(0);
    } finally {
      byId.mockRestore();
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe('connection admission', () => {
  it('closes a socket that sends no connection_init within 3 s (4408)', async () => {
    const c = new RawClient(app.url);
    expect(await c.settled()).toBe(true);
    const opened = Date.now();
    const closed = await until('the server to close the silent socket', () => c.closed, 4500);
    expect(closed.code).toBe(4408);
    expect(closed.at - opened).toBeLessThan(4000);
  });

  it('lets an admin in while 100 silent sockets try to hold every slot', async () => {
    const id = await queuedJob();
    const silent = Array.from({ length: 100 }, () => new RawClient(app.url));
    try {
      await Promise.all(silent.map((c) => c.settled()));
      const admin = await connect((await freshKey()).key);
      admin.subscribe('a', PROGRESS, { id });
      expect((await admin.first('a')).type).toBe('next');
      await admin.close();
    } finally {
      await Promise.all(silent.map((c) => c.close()));
    }
  });
});

describe('revocation', () => {
  it('closes the sockets of a key revoked in the database (as by another server process) within 5 s (4403)', async () => {
    const id = await queuedJob();
    const { key, prefix } = await freshKey();
    const c = await connect(key);
    c.subscribe('r', PROGRESS, { id });
    expect((await c.first('r')).type).toBe('next');
    // Straight to the table: no in-process event or cache clearing tells this server.
    await db.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE prefix = $1`, [prefix]);
    const revoked = Date.now();
    const closed = await until('the socket of the revoked key to close', () => c.closed, 6000);
    expect(closed.code).toBe(4403);
    expect(closed.at - revoked).toBeLessThan(5000);
  });
});

describe('the same limits as HTTP', () => {
  const fields = (n: number, field = 'logTail', extra = '') => Array.from({ length: n }, (_, i) => `f${i}: ${field}${extra}`).join(' ');
  const nested = (depth: number) => `${'... on TrainingJob { '.repeat(depth)}id${' }'.repeat(depth)}`;
  const sub = (selection: string, id = '1') => `subscription { trainingJobProgress(id: "${id}") { ${selection} } }`;

  const cases: { name: string; query: string; variables?: Record<string, unknown>; code: string }[] = [
    { name: '900 aliased logTail fields', query: sub(fields(900)), code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: '21 directives', query: sub(fields(21, 'id', ' @include(if: true)')), code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'depth 12', query: sub(nested(11)), code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: `cost over ${MAX_COST}`, query: sub(fields(25, 'id')), code: 'COST_LIMIT_EXCEEDED' },
    { name: 'a 10,001-character string literal', query: sub('id', 'x'.repeat(10_001)), code: 'BAD_USER_INPUT' },
    { name: 'a 10,001-character variable', query: PROGRESS, variables: { id: 'x'.repeat(10_001) }, code: 'BAD_USER_INPUT' },
  ];

  it.each(cases)('refuses $name with $code, as HTTP does', async ({ query, variables, code }) => {
    const c = await connect((await freshKey()).key);
    try {
      c.subscribe('x', query, variables);
      expect(await c.errorCode('x')).toBe(code);
      const http = await gql(app, query, variables);
      expect(http.body.errors?.[0]?.extensions?.code).toBe(code);
    } finally {
      await c.close();
    }
  });

  it("charges each subscription's cost to the key's per-minute budget (RATE_LIMITED when spent)", async () => {
    const c = await connect((await freshKey()).key);
    const costly = sub(fields(MAX_COST - 2, 'id'), '987654321'); // cost 19, no such job: ends at once
    const answers: string[] = [];
    try {
      for (let i = 0; i < 25 && !answers.includes('RATE_LIMITED'); i++) {
        c.subscribe(`b${i}`, costly);
        const m = await c.first(`b${i}`);
        answers.push(m.type === 'error' ? (m.payload?.[0]?.extensions?.code ?? '?') : (m.payload?.errors?.[0]?.extensions?.code ?? 'OK'));
      }
    } finally {
      await c.close();
    }
    // 300 per minute at 19 each: 15 fit, plus what refills meanwhile (5 a second).
    expect(answers.slice(0, 15)).toEqual(Array(15).fill('NOT_FOUND'));
    expect(answers[answers.length - 1]).toBe('RATE_LIMITED');
    expect(answers.length).toBeLessThanOrEqual(20);
  });

  it('caps subscriptions at 10 per socket and 50 per key (RATE_LIMITED), and frees a slot when one ends', async () => {
    const id = await queuedJob();
    const { key } = await freshKey();
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(key)));
    try {
      const one = clients[0]!;
      for (let n = 0; n < 11; n++) one.subscribe(`p${n}`, PROGRESS, { id });
      for (let n = 0; n < 10; n++) expect((await one.first(`p${n}`)).type).toBe('next');
      expect(await one.errorCode('p10')).toBe('RATE_LIMITED');

      // 10 open on the first socket; 45 more asked for on five others: 40 fit under 50 per key.
      const answers: string[] = [];
      for (const c of clients.slice(1)) {
        for (let n = 0; n < 9; n++) c.subscribe(`k${n}`, PROGRESS, { id });
        for (let n = 0; n < 9; n++) {
          const m = await c.first(`k${n}`);
          answers.push(m.type === 'next' ? 'OK' : (m.payload?.[0]?.extensions?.code ?? '?'));
        }
      }
      expect(answers.filter((a) => a === 'OK')).toHaveLength(40);
      expect(answers.filter((a) => a === 'RATE_LIMITED')).toHaveLength(5);

      one.complete('p0');
      await sleep(100);
      one.subscribe('again', PROGRESS, { id });
      expect((await one.first('again')).type).toBe('next');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
