/** Opens the configured database (real Postgres or embedded PGlite), migrates it, and closes it. */
import path from 'node:path';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { Config } from '../config/config';
import { redactUrl } from '../config/config';
import type { Logger } from '../common/logger';
import { createDataSource } from './data-source';
import { startEmbedded, type EmbeddedDatabase } from './embedded';

export interface Database {
  readonly kind: 'postgres' | 'embedded';
  readonly dataSource: DataSource;
  readonly url: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly sqlLogger?: TypeOrmLogger;
  /** Run pending migrations before returning. Defaults to true. */
  readonly migrate?: boolean;
}

export async function openDatabase(config: Config, logger: Logger, opts: OpenOptions = {}): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbedded(
      { dataDir: path.join(config.dataDir, 'pglite'), maxConnections: config.dbPoolSize + 4 },
      logger,
    );
    url = embedded.url;
  }
  const kind = embedded ? 'embedded' : 'postgres';
  logger.info({ database: kind, url: redactUrl(url) }, `using ${kind} database`);
  const dataSource = createDataSource({ url, poolSize: config.dbPoolSize, logger: opts.sqlLogger });
  try {
    await dataSource.initialize();
    if (opts.migrate !== false) {
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      if (ran.length > 0) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
    }
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.close();
    throw err;
  }
  return {
    kind,
    dataSource,
    url,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.close();
    },
  };
}
