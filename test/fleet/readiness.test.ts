/**
 * /readyz for a load balancer (issue 18, part 6): it reports each dependency, and a server whose
 * database does not answer is not ready (503) until it answers again; models and the promotion
 * listener inform without deciding (the server degrades gracefully without them).
 */
import { Client } from 'pg';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';

const realPostgres = !!process.env.DATABASE_URL && process.env.MERIDIAN_TEST_DB !== 'embedded';

let db: Database;
let app: App;
let readyz: string;

beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db, { MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_WORKER: 'false', ...(realPostgres ? { DATABASE_URL: db.url } : {}) });
  readyz = app.url.replace('/graphql', '/readyz');
});

afterAll(async () => {
  if (realPostgres) await asAdmin(`ALTER DATABASE "${dbName()}" ALLOW_CONNECTIONS true`).catch(() => undefined);
  await app?.stop();
  await db?.close();
});

function dbName(): string {
  return new URL(db.url).pathname.slice(1);
}

/** A statement from a session on another database (the server's own pool is what goes down). */
async function asAdmin(sql: string): Promise<void> {
  const url = new URL(db.url);
  url.pathname = '/postgres';
  const c = new Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function get(): Promise<{ status: number; body: { status: string; dependencies: Record<string, { ok: boolean; required: boolean; detail?: string }> } }> {
  const r = await fetch(readyz);
  return { status: r.status, body: (await r.json()) as never };
}

describe('/readyz', () => {
  it('lists each dependency; only the database decides', async () => {
    const r = await get();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.dependencies.database).toMatchObject({ ok: true, required: true });
    // No model loaded here (MERIDIAN_LOAD_MODELS=false): reported, and the server is still ready.
    expect(r.body.dependencies.models).toMatchObject({ required: false });
    expect(r.body.dependencies.modelChanges).toMatchObject({ required: false });
    expect(r.body.dependencies.modelStore).toMatchObject({ ok: true, required: false });
    expect(r.body.dependencies.modelStore!.detail).toMatch(/^postgres, \d+ stored artifacts \(\d+ ms\)$/);
  });

  (realPostgres ? it : it.skip)('answers 503 naming the database while it takes no connections, and 200 once it is back', async () => {
    await asAdmin(`ALTER DATABASE "${dbName()}" ALLOW_CONNECTIONS false`);
    await asAdmin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName()}'`);
    const down = await get();
    expect(down.status).toBe(503);
    expect(down.body.dependencies.database).toMatchObject({ ok: false, required: true });
    expect(down.body.dependencies.database!.detail).toBeTruthy();
    await asAdmin(`ALTER DATABASE "${dbName()}" ALLOW_CONNECTIONS true`);
    for (let i = 0; i < 50 && (await get()).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await get()).status).toBe(200);
  });
});
