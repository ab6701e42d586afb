import { spawn } from 'node:child_process';
import path from 'node:path';
import type { App } from '../../src/app';
import { encodeCursor } from '../../src/common/pagination';
import type { Database } from '../../src/db/database';
import { gql, startTestApp, TEST_ADMIN_KEY, withAuth } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';

let db: Database;
let app: App;
let base: string;
beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db);
  base = app.url.replace('/graphql', '');
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

describe('HTTP surface', () => {
  it('answers liveness and readiness', async () => {
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ready' });
  });

  it('refuses a body over 1 MB with 413 unless it is a bulk ingestion', async () => {
    const padding = 'x'.repeat(1_100_000);
    const res = await fetch(app.url, {
      method: 'POST',
      headers: withAuth({ 'content-type': 'application/json' }),
      body: JSON.stringify({ query: `{ users(first:1){ edges { cursor } } }`, variables: { padding } }),
    });
    expect(res.status).toBe(413);
    const ingest = await fetch(app.url, {
      method: 'POST',
      headers: withAuth({ 'content-type': 'application/json' }),
      body: JSON.stringify({ query: `mutation($events:[EventInput!]!){ ingestEvents(events:$events){ accepted } }`, variables: { events: [], padding } }),
    });
    expect(ingest.status).not.toBe(413);
  });

  it('refuses mutations over GET and GET requests without a CSRF-safe header', async () => {
    const q = encodeURIComponent('mutation { upsertUsers(users: []) { id } }');
    const mutation = await fetch(`${app.url}?query=${q}`, { headers: withAuth({ 'apollo-require-preflight': '1' }) });
    expect(mutation.status).toBe(405);
    const plain = await fetch(`${app.url}?query=${encodeURIComponent('{ categories { name } }')}`, { headers: withAuth({}) });
    expect(plain.status).toBe(400);
  });

  it('answers a tampered cursor with BAD_USER_INPUT, not a SQL error', async () => {
    const r = await gql(app, `query($a:String){ products(after:$a){ edges { cursor } } }`, { a: encodeCursor(["1' OR 1=1"]) });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/after/);
  });

  it('hides internal errors: no SQL text or stack reaches the client', async () => {
    const own = await openTestDatabase();
    const broken = await startTestApp(own);
    await own.dataSource.query(`ALTER TABLE categories RENAME TO categories_gone`);
    try {
      const r = await gql(broken, `{ categories { name } }`);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(r.body.errors?.[0]?.message).toBe('Internal server error');
      expect(JSON.stringify(r.body)).not.toMatch(/categories_gone|relation|SELECT|at /);
    } finally {
      await own.dataSource.query(`ALTER TABLE categories_gone RENAME TO categories`);
      await broken.stop();
      await own.close();
    }
  });
});

describe('process lifecycle', () => {
  it('starts from the built entry point, logs JSON, and exits 0 on SIGTERM after draining', async () => {
    const own = await openTestDatabase();
    const main = path.resolve(__dirname, '../../dist/src/main.js');
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY, DATABASE_URL: own.url, PORT: '0', HOST: '127.0.0.1', MERIDIAN_SEED_DEMO: 'false', LOG_LEVEL: 'info', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('meridian ready'), 60_000);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; url?: string; database?: string });
      const ready = lines.find((l) => l.msg === 'meridian ready')!;
      expect(ready.database).toBe('postgres'); // a DATABASE_URL was given
      expect(out).toContain('using');
      const res = await fetch(ready.url!, {
        method: 'POST',
        headers: withAuth({ 'content-type': 'application/json' }),
        body: JSON.stringify({ query: '{ categories { name } }' }),
      });
      expect(res.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('meridian stopped');
    } finally {
      child.kill('SIGKILL');
      await own.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
