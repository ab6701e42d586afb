/**
 * Two API servers and a standalone job worker as real processes on one Postgres (issue 18), each
 * with its own data folder (they share nothing but the database):
 * - a fine-tune the worker runs with autoPromote is served by both servers within 1 s of its
 *   activation, with no failed request on either under load (the model comes from the model
 *   store, the news by LISTEN/NOTIFY: the periodic sync is off);
 * - SIGKILL one server under load and the other answers every request; the killed one, started
 *   again, serves the active model versions.
 * Runs the built server (`npm test` builds first).
 */
import type { Database } from '../../src/db/database';
import { openTestDatabase } from '../helpers/db';
import { Fleet, post, realPostgres, RECS, servedNextItem } from './fleet-processes';

let db: Database;
let fleet: Fleet;

beforeAll(async () => {
  if (!realPostgres) return;
  db = await openTestDatabase();
  fleet = new Fleet(db);
  await fleet.init();
});

afterAll(async () => {
  fleet?.killAll();
  await db?.close();
});

(realPostgres ? describe : describe.skip)('two server processes', () => {
  it('serve a fine-tune the standalone worker ran with autoPromote within 1 s of its activation, 0 failed requests', async () => {
    const servers = await Promise.all([fleet.startServer(), fleet.startServer()]);
    const before = await servedNextItem(servers[0].url);
    expect(await servedNextItem(servers[1].url)).toBe(before);
    const traffic = fleet.load(servers.map((s) => s.url));
    fleet.startWorker();
    const start = await post(servers[1].url, `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { id } }`, {
      i: {
        modelKind: 'NEXT_ITEM', dataWindow: { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' },
        hyperparameters: { epochs: 1, batch_size: 128 }, autoPromote: true, idempotencyKey: `fleet-${Date.now()}`,
      },
    });
    expect(start.ok).toBe(true);
    const jobId = (start.data!.startFineTuning as { id: string }).id;

    // Each server's served version, polled until both serve the job's version (or the job ends without one).
    const servedAt: (number | null)[] = [null, null];
    let version: { id: string; activated: number } | null = null;
    for (let ended = false; !ended || servedAt.some((t) => t === null);) {
      const [job] = await db.dataSource.query<{ status: string; error: string | null }[]>(`SELECT status, error FROM training_jobs WHERE id = $1`, [jobId]);
      const [row] = await db.dataSource.query<{ id: string; activated: Date }[]>(
        `SELECT id::text AS id, activated_at AS activated FROM model_versions WHERE source_job_id = $1 AND status = 'active'`,
        [jobId],
      );
      if (row) version = { id: row.id, activated: new Date(row.activated).getTime() };
      if (version) {
        for (const [n, s] of servers.entries()) {
          if (servedAt[n] === null && (await servedNextItem(s.url)) === version.id) servedAt[n] = Date.now();
        }
      }
      if (['succeeded', 'failed', 'cancelled'].includes(job!.status)) {
        if (!version) throw new Error(`the job ended ${job!.status} without an active version: ${job!.error ?? ''}`);
        if (ended && Date.now() - version.activated > 10_000) break; // not served within 10 s: fails below
        ended = true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const counts = await traffic.stop();
    const lags = servedAt.map((t) => (t === null ? null : t - version!.activated));
    process.stderr.write(`fleet fine-tune: served by both servers ${JSON.stringify(lags)} ms after activation; requests ${JSON.stringify(counts)}\n`);
    for (const lag of lags) {
      expect(lag).not.toBeNull();
      expect(lag!).toBeLessThan(1_000);
    }
    expect(counts.map((c) => c.failed)).toEqual([0, 0]);
    expect(counts.every((c) => c.ok > 20)).toBe(true);
  }, 600_000);

  it('SIGKILL one under load: the other answers every request; restarted, it serves the active versions', async () => {
    const [a, b] = await Promise.all([fleet.startServer(), fleet.startServer()]);
    const traffic = fleet.load([a.url, b.url]);
    await new Promise((r) => setTimeout(r, 1_000));
    a.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    const onB = (await traffic.stop())[1]!;
    expect(onB.failed).toBe(0);
    expect(onB.ok).toBeGreaterThan(20);

    const again = await fleet.startServer();
    expect((await post(again.url, RECS, { id: fleet.user(0) })).ok).toBe(true);
    const active = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM model_versions WHERE kind = 'next-item' AND status = 'active'`))[0]?.id;
    expect(await servedNextItem(again.url)).toBe(active);
    expect(await servedNextItem(b.url)).toBe(active);
  }, 120_000);
});
