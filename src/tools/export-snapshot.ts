/**
 * `npm run snapshot -- --out <dir> [--from ISO] [--to ISO]`: exports a training snapshot
 * (trainer/README.md format) from the configured database.
 */
import 'reflect-metadata';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import { exportSnapshot } from '../jobs/snapshot.exporter';
import { parseArgs } from './cli-args';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const out = args.options.out;
  if (typeof out !== 'string') throw new Error('usage: npm run snapshot -- --out <dir> [--from ISO] [--to ISO]');
  const date = (k: string) => (typeof args.options[k] === 'string' ? new Date(args.options[k]) : null);
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  try {
    const counts = await exportSnapshot(db.dataSource, out, { from: date('from'), to: date('to') });
    process.stdout.write(`${JSON.stringify({ out, counts })}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`snapshot failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
