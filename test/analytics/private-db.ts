/**
 * A database only this test file writes to: on the real Postgres the usual per-file clone; on the
 * embedded database a private PGlite, started in a child process (jest's VM cannot load PGlite) from
 * the run's migrated, seeded template. The shared embedded database is used by every test file at
 * once, and importing a dataset there would change what other files see.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createDataSource } from '../../src/db/data-source';
import type { Database } from '../../src/db/database';
import { openTestDatabase, realPostgresAvailable } from '../helpers/db';
import { templateFingerprint } from '../helpers/test-data';

export async function openPrivateDatabase(): Promise<Database> {
  if (realPostgresAvailable()) return openTestDatabase();
  const tmp = path.resolve(__dirname, '../.tmp');
  const dir = path.join(tmp, `pglite-private-${process.pid}-${Date.now()}`);
  fs.cpSync(path.join(tmp, `pglite-${templateFingerprint()}`), dir, { recursive: true });
  const child = spawn(process.execPath, [path.join(__dirname, 'embedded-server.js'), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (postgres:\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`embedded server exited with ${code}`)));
  });
  const dataSource = createDataSource({ url, poolSize: 4 });
  await dataSource.initialize();
  return {
    kind: 'embedded',
    dataSource,
    url,
    async close() {
      await dataSource.destroy();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
