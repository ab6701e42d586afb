/**
 * Hot swap across the fleet (issue 18, part 3): two API servers on one real Postgres, without the
 * periodic sync (MERIDIAN_MODEL_SYNC_MS=0). A promotion or rollback on one reaches the other
 * within 1 s through LISTEN/NOTIFY, with no failed request on either under load, also after the
 * other's listening connection was cut. The embedded database is one process: nothing to reach.
 */
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { copyArtifact, editManifest } from '../serving/serving-helpers';

const realPostgres = !!process.env.DATABASE_URL && process.env.MERIDIAN_TEST_DB !== 'embedded';
const maybe = realPostgres ? describe : describe.skip;

let db: Database;
let a: App;
let b: App;
let users: string[];

beforeAll(async () => {
  if (!realPostgres) return;
  db = await openTestDatabase();
  const env = { DATABASE_URL: db.url, MERIDIAN_MODEL_SYNC_MS: '0', MERIDIAN_JOB_WORKER: 'false', MERIDIAN_INFERENCE_WORKERS: '1' };
  a = await startTestApp(db, env);
  b = await startTestApp(db, env);
  users = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM users ORDER BY id LIMIT 40`)).map((r) => r.id);
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await db?.close();
});

/** Recommendation requests against both servers until stopped; failures per server. */
function load(): { stop: () => Promise<{ a: number; b: number; ok: number }> } {
  let running = true;
  const failed = { a: 0, b: 0 };
  let ok = 0;
  const loop = async (app: App, name: 'a' | 'b', offset: number) => {
    for (let i = offset; running; i += 3) {
      const r = await gql(app, `query($id: ID!) { user(id: $id) { recommendations(first: 5) { product { id } } } }`, { id: users[i % users.length] });
      if (r.status === 200 && !r.body.errors) ok++;
      else failed[name]++;
    }
  };
  const loops = [loop(a, 'a', 0), loop(a, 'a', 1), loop(b, 'b', 0), loop(b, 'b', 1)];
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ...failed, ok };
    },
  };
}

async function candidate(tag: string): Promise<string> {
  const dir = copyArtifact('next-item');
  editManifest(dir, (m) => (m.version = `${m.version}-fleet-${tag}-${Date.now()}`));
  return (await a.services.models.register('next-item', dir)).id;
}

/** ms until server `on` serves version `id` of next-item (throws after `limitMs`). */
async function servedWithin(on: App, id: string, limitMs: number): Promise<number> {
  const start = performance.now();
  while (on.services.models.active('next-item')?.id !== id) {
    if (performance.now() - start > limitMs) throw new Error(`version ${id} not served within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

maybe('two servers on one Postgres', () => {
  it('a promotion and a rollback on server A are served by server B within 1 s, 0 failed requests on either', async () => {
    const before = a.services.models.active('next-item')!.id;
    const id = await candidate('promote');
    const traffic = load();
    await new Promise((r) => setTimeout(r, 300));
    await a.services.models.promote(id);
    const promotedMs = await servedWithin(b, id, 1_000);
    await a.services.models.rollback('next-item');
    const rolledBackMs = await servedWithin(b, before, 1_000);
    await new Promise((r) => setTimeout(r, 300));
    const result = await traffic.stop();
    expect({ failed: [result.a, result.b], promotedUnder1s: promotedMs < 1_000, rolledBackUnder1s: rolledBackMs < 1_000 }).toEqual({
      failed: [0, 0], promotedUnder1s: true, rolledBackUnder1s: true,
    });
    expect(result.ok).toBeGreaterThan(10);
  }, 30_000);

  it('a server whose listening connection was cut reconnects and catches up', async () => {
    const killed = await db.dataSource.query<{ ok: boolean }[]>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'meridian-model-listener' AND datname = current_database()`,
    );
    expect(killed.length).toBe(2); // one listener per server
    const id = await candidate('reconnect');
    await a.services.models.promote(id); // may be announced while B is still reconnecting
    await servedWithin(b, id, 5_000);
    const back = await candidate('after-reconnect');
    await a.services.models.promote(back);
    expect(await servedWithin(b, back, 1_000)).toBeLessThan(1_000);
  }, 30_000);
});
