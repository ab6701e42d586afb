/**
 * `node dist/src/tools/worker.js`: a job worker without the HTTP server, for more training
 * capacity or to keep training off the API machines. Needs DATABASE_URL (a real Postgres, or the
 * socket URL of a running server's embedded database): two processes must never open the same
 * embedded data folder. It needs no filesystem shared with the servers: it reads base versions
 * from the model store and puts what it trains there; its promotions reach every server by
 * announcement (LISTEN/NOTIFY), and by their model sync (MERIDIAN_MODEL_SYNC_MS) as a fallback.
 * SIGTERM/SIGINT stop it gracefully (running jobs go back to the queue).
 */
import 'reflect-metadata';
import { createLogger } from '../common/logger';
import { loadConfigOrExit, runMain, stopOnSignals } from '../common/process-lifecycle';
import { ConfigError } from '../config/config';
import { openDatabase } from '../db/database';
import { createJobWorker } from '../jobs/job-worker.factory';
import { createWorkerServices } from '../services';

async function main(): Promise<void> {
  const loaded = loadConfigOrExit((c) => {
    if (!c.databaseUrl) throw new ConfigError('DATABASE_URL is required: a standalone worker cannot share the embedded database folder');
  });
  // The worker serves no requests: it loads models only to verify and promote them.
  const config = Object.freeze({ ...loaded, inference: { ...loaded.inference, loadAtStart: false, modelSyncMs: 0, workers: 1 } });
  const logger = createLogger(config.logLevel, { role: 'job-worker' });
  const db = await openDatabase(config, logger);
  const services = createWorkerServices(db.dataSource, config, logger);
  await services.models.start();
  const worker = createJobWorker(db.dataSource, config, services, logger);
  worker.start();
  logger.info({ worker: worker.id }, 'job worker ready');
  stopOnSignals(logger, 'job worker', async () => {
    await worker.stop();
    await services.models.stop();
    await db.close();
  });
}

runMain(main, 'worker failed to start');
