/**
 * Prepares the databases a test run uses:
 * - real Postgres (when DATABASE_URL is set and MERIDIAN_TEST_DB is not "embedded"): a migrated,
 *   seeded template database; each test file clones it (CREATE DATABASE … TEMPLATE).
 * - embedded PGlite: a migrated, seeded data folder cached under test/.tmp, copied per run and
 *   served over a socket for the whole run.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { silentLogger } from '../../src/common/logger';
import { createDataSource } from '../../src/db/data-source';
import { type EmbeddedDatabase, startEmbedded } from '../../src/db/embedded';
import { migrateAndSeed, templateFingerprint } from './test-data';

const TMP = path.resolve(__dirname, '../.tmp');

declare global {
  var __meridianEmbedded: { db: EmbeddedDatabase; runDir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  fs.mkdirSync(TMP, { recursive: true });
  const fingerprint = templateFingerprint();
  const realUrl = process.env.DATABASE_URL;
  if (realUrl && process.env.MERIDIAN_TEST_DB !== 'embedded') {
    process.env.MERIDIAN_TEST_PG_TEMPLATE = await ensurePgTemplate(realUrl, `meridian_tpl_${fingerprint}`);
  }
  const template = path.join(TMP, `pglite-${fingerprint}`);
  if (!fs.existsSync(path.join(template, 'PG_VERSION'))) await buildEmbeddedTemplate(template);
  const runDir = path.join(TMP, `pglite-run-${process.pid}`);
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.cpSync(template, runDir, { recursive: true });
  const db = await startEmbedded({ dataDir: runDir, maxConnections: 32 }, silentLogger());
  globalThis.__meridianEmbedded = { db, runDir };
  process.env.MERIDIAN_TEST_EMBEDDED_URL = db.url;
}

async function ensurePgTemplate(adminUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return name;
    // Built under a private name and renamed, so concurrent runs never clone a half-built template.
    // Templates of older fingerprints are kept: another run may still be cloning them.
    const building = `${name}_b${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS "${building}"`);
    await admin.query(`CREATE DATABASE "${building}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${building}`;
    const ds = createDataSource({ url: url.toString(), poolSize: 2 });
    await ds.initialize();
    try {
      await migrateAndSeed(ds);
    } finally {
      await ds.destroy();
    }
    try {
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    } catch {
      await admin.query(`DROP DATABASE IF EXISTS "${building}"`); // another run finished first
    }
    return name;
  } finally {
    await admin.end();
  }
}

async function buildEmbeddedTemplate(dir: string): Promise<void> {
  const building = `${dir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  const db = await startEmbedded({ dataDir: building, maxConnections: 4 }, silentLogger());
  const ds = createDataSource({ url: db.url, poolSize: 1 });
  await ds.initialize();
  try {
    await migrateAndSeed(ds);
  } finally {
    await ds.destroy();
    await db.close();
  }
  try {
    fs.renameSync(building, dir);
  } catch {
    fs.rmSync(building, { recursive: true, force: true }); // another run finished first
  }
}
