/**
 * The embedded default database: PGlite (Postgres in WASM) with PostGIS, persisted on disk and
 * served over the Postgres wire protocol by pglite-socket, so pg/TypeORM use the same code path
 * as against a real server.
 *
 * PGlite runs in its own worker thread. Its queries are synchronous WASM work: on the main thread
 * a 6 s analytics query stalled /healthz and every other request for 6 s. In the worker, the
 * server's event loop only moves bytes over the loopback socket.
 *
 * A lock file beside the data folder keeps a second process (say `npm run import` while the server
 * runs) from opening the same files, which PGlite does not prevent and which corrupts them.
 *
 * Caveat (see DESIGN.md): every socket connection shares one backend; a transaction open on one
 * connection blocks the others. Code must never await a query on another connection while it
 * holds a transaction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger';
import { acquireFolderLock } from './folder-lock';

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

interface WorkerInit {
  readonly dataDir: string;
  readonly maxConnections: number;
  readonly port: number;
  /** Resolved here: an eval'd worker resolves bare module names from the process's cwd. */
  readonly modules: { readonly pglite: string; readonly postgis: string; readonly socket: string };
}

type WorkerMessage = { kind: 'ready'; conn: string } | { kind: 'closed' } | { kind: 'error'; message: string };

/** The worker's body; runs from its source text (eval), so it needs no build step under ts-jest. */
function embeddedWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- runs as eval'd CommonJS in the worker */
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const parentPort = threads.parentPort;
  const init = threads.workerData as WorkerInit;
  const { PGlite } = require(init.modules.pglite) as typeof import('@electric-sql/pglite');
  const { postgis } = require(init.modules.postgis) as typeof import('@electric-sql/pglite-postgis');
  const { PGLiteSocketServer } = require(init.modules.socket) as typeof import('@electric-sql/pglite-socket');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  void (async () => {
    try {
      const db = await PGlite.create({ dataDir: init.dataDir, extensions: { postgis } });
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: init.port, maxConnections: init.maxConnections });
      await server.start();
      parentPort!.once('message', () => {
        void (async () => {
          await server.stop();
          // pglite-socket detaches closed sockets on a later tick and asks the database whether
          // a transaction is open: closing the database first makes that throw.
          await new Promise((r) => setTimeout(r, 50));
          await db.close();
          post({ kind: 'closed' });
        })().catch((err: unknown) => post({ kind: 'error', message: err instanceof Error ? err.message : String(err) }));
      });
      post({ kind: 'ready', conn: server.getServerConn() });
    } catch (err) {
      post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  })();
}

const WORKER_SOURCE = `(${embeddedWorkerMain.toString()})()`;

function nextMessage(worker: Worker): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`embedded database worker exited with code ${code}`));
    worker.once('exit', onExit);
    worker.once('error', reject);
    worker.once('message', (m: WorkerMessage) => {
      worker.off('exit', onExit);
      worker.off('error', reject);
      resolve(m);
    });
  });
}

export async function startEmbedded(opts: EmbeddedOptions, logger: Logger): Promise<EmbeddedDatabase> {
  fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  const lock = acquireFolderLock(opts.dataDir);
  const firstBoot = !fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  const started = Date.now();
  const init: WorkerInit = {
    dataDir: opts.dataDir,
    maxConnections: opts.maxConnections,
    port: opts.port ?? 0,
    modules: {
      pglite: require.resolve('@electric-sql/pglite'),
      postgis: require.resolve('@electric-sql/pglite-postgis'),
      socket: require.resolve('@electric-sql/pglite-socket'),
    },
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: init });
  let ready: WorkerMessage;
  try {
    ready = await nextMessage(worker);
  } catch (err) {
    lock.release();
    throw err;
  }
  if (ready.kind !== 'ready') {
    await worker.terminate();
    lock.release();
    throw new Error(`embedded database failed to start in ${opts.dataDir}: ${ready.kind === 'error' ? ready.message : ready.kind}`);
  }
  // A crashed worker leaves the server without a database: say so once, loudly.
  worker.on('error', (err) => logger.error({ err }, 'embedded database worker failed'));
  logger.info({ dataDir: opts.dataDir, firstBoot, ms: Date.now() - started, conn: ready.conn }, 'embedded database started');
  let closed: Promise<void> | null = null;
  return {
    url: `postgres://postgres@${ready.conn}/postgres`,
    dataDir: opts.dataDir,
    close() {
      closed ??= (async () => {
        try {
          const done = nextMessage(worker);
          worker.postMessage('close');
          const m = await done;
          if (m.kind === 'error') logger.error({ message: m.message }, 'embedded database did not close cleanly');
        } finally {
          await worker.terminate();
          lock.release();
        }
      })();
      return closed;
    },
  };
}
