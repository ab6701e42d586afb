/**
 * The embedded default database: PGlite (Postgres in WASM) with PostGIS, persisted on disk and
 * served over the Postgres wire protocol by pglite-socket, so pg/TypeORM use the same code path
 * as against a real server.
 *
 * Caveat (see DESIGN.md): every socket connection shares one backend; a transaction open on one
 * connection blocks the others. Code must never await a query on another connection while it
 * holds a transaction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../common/logger';

export interface EmbeddedDatabase {
  /** postgres:// URL of the socket server on 127.0.0.1. */
  readonly url: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder for the PGlite data files; created when missing. */
  readonly dataDir: string;
  /** Socket connections accepted at once; must be ≥ the pg pool size. */
  readonly maxConnections: number;
  /** TCP port; 0 picks a free one. */
  readonly port?: number;
}

export async function startEmbedded(opts: EmbeddedOptions, logger: Logger): Promise<EmbeddedDatabase> {
  fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  const firstBoot = !fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  const started = Date.now();
  const db = await PGlite.create({ dataDir: opts.dataDir, extensions: { postgis } });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: opts.port ?? 0,
    maxConnections: opts.maxConnections,
  });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  logger.info({ dataDir: opts.dataDir, firstBoot, ms: Date.now() - started, conn }, 'embedded database started');
  return {
    url: `postgres://postgres@${conn}/postgres`,
    dataDir: opts.dataDir,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
