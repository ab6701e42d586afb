/**
 * `npm run seed -- [--events N] [--reset] [--anchor 2026-06-01]`: writes the deterministic demo
 * dataset into the configured database (DATABASE_URL, else the embedded one). Large seeds are
 * committed in chunks; --reset empties the tables first.
 */
import 'reflect-metadata';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import { startOfUtcDay } from '../demo/demo-generator';
import { vacuumRollups } from '../analytics/rollup-rebuild';
import { defaultDemoOptions, emptyAllTables, seedDemo } from '../demo/seed-demo';
import { intOption, parseArgs } from './cli-args';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  try {
    if (args.options.reset) {
      const tables = await emptyAllTables(db.dataSource);
      logger.info({ tables }, 'tables emptied');
    } else {
      const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM users`);
      if (n > 0) throw new Error('the database already has users; pass --reset to replace them with the demo dataset');
    }
    const anchor = typeof args.options.anchor === 'string' ? startOfUtcDay(new Date(args.options.anchor)) : undefined;
    const opts = defaultDemoOptions(intOption(args, 'events', config.demoEvents), anchor);
    const started = Date.now();
    const counts = await seedDemo(db.dataSource, opts, logger);
    await vacuumRollups(db.dataSource);
    logger.info({ ...counts, seconds: (Date.now() - started) / 1000 }, 'seeded');
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
