/**
 * Databases for tests. `default` is a fresh clone of the seeded template on the real Postgres
 * when DATABASE_URL is set (and MERIDIAN_TEST_DB is not "embedded"), else the embedded database of
 * this Jest run (scripts/run-jest.mjs starts one run per test file; a plain `jest` shares one).
 * Tests that write use unique external ids/keys so they can share it.
 */
import crypto from 'node:crypto';
import { Client } from 'pg';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import type { Database } from '../../src/db/database';

export type TestDbKind = 'default' | 'real' | 'embedded';

export function realPostgresAvailable(): boolean {
  return !!process.env.MERIDIAN_TEST_PG_TEMPLATE && !!process.env.DATABASE_URL;
}

export async function openTestDatabase(kind: TestDbKind = 'default', sqlLogger?: TypeOrmLogger): Promise<Database> {
  const useReal = kind === 'real' || (kind === 'default' && realPostgresAvailable());
  if (useReal) return cloneRealTemplate(sqlLogger);
  const url = process.env.MERIDIAN_TEST_EMBEDDED_URL;
  if (!url) throw new Error('embedded test database not started (globalSetup)');
  // One connection, as the embedded server itself uses (see Config.dbPoolSize).
  const dataSource = createDataSource({ url, poolSize: 1, logger: sqlLogger });
  await dataSource.initialize();
  await resetSharedState(dataSource);
  return { kind: 'embedded', dataSource, url, close: () => dataSource.destroy() };
}

/** Leaves no job for a later test file's server to pick up. */
export async function cancelOpenJobs(ds: DataSource): Promise<void> {
  await ds.query(
    `UPDATE training_jobs SET status = 'cancelled', cancel_requested = true, lease = NULL, finished_at = now(), updated_at = now()
     WHERE status NOT IN ('succeeded', 'failed', 'cancelled')`,
  );
}

/**
 * The embedded database is shared by every test file of a run: undo what an earlier file's jobs
 * may have left, so each file starts as on a fresh clone — no open job for this file's worker to
 * pick up, and the shipped baselines (relative artifact paths, registered first) active.
 */
async function resetSharedState(ds: DataSource): Promise<void> {
  await cancelOpenJobs(ds);
  await ds.query(
    `WITH base AS (SELECT DISTINCT ON (kind) id, kind FROM model_versions WHERE artifact_path NOT LIKE '/%' AND artifact_path !~ '^(postgres|directory):' ORDER BY kind, id)
     UPDATE model_versions m SET status = CASE WHEN m.id = b.id THEN 'active' ELSE 'archived' END
     FROM base b
     WHERE m.kind = b.kind AND ((m.status = 'active' AND m.id <> b.id) OR (m.id = b.id AND m.status <> 'active'))`,
  );
}

async function cloneRealTemplate(sqlLogger?: TypeOrmLogger): Promise<Database> {
  const adminUrl = process.env.DATABASE_URL!;
  const template = process.env.MERIDIAN_TEST_PG_TEMPLATE!;
  const name = `meridian_t_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataSource = createDataSource({ url: url.toString(), poolSize: 6, logger: sqlLogger });
  await dataSource.initialize();
  return {
    kind: 'postgres',
    dataSource,
    url: url.toString(),
    async close() {
      await dataSource.destroy();
      const a = new Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
