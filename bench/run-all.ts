/**
 * `npm run bench`: runs every benchmark in sequence on the real Postgres (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) and prints their markdown reports. Each reports
 * ratios against a baseline measured in the same run. Pass --quick for smaller sizes.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { runIngestBench } from './ingest';

interface Bench {
  name: string;
  run(quick: boolean): Promise<string>;
}

const benches: Bench[] = [{ name: 'ingest', run: (quick) => runIngestBench({ events: quick ? 100_000 : 1_000_000, concurrency: 2 }) }];

/** Benchmarks contributed by other modules register here when their file exists in the build. */
for (const [name, file, fn] of [
  ['analytics', './analytics', 'runAnalyticsBench'],
  ['serving', './serving', 'runServingBench'],
] as const) {
  if (fs.existsSync(path.join(__dirname, `${file}.js`))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional modules
    const mod = require(file) as Record<string, (o: { quick: boolean }) => Promise<string>>;
    if (typeof mod[fn] === 'function') benches.push({ name, run: (quick) => mod[fn]!({ quick }) });
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  for (const b of benches) {
    if (only && b.name !== only) continue;
    process.stderr.write(`running ${b.name}${quick ? ' (quick)' : ''}…\n`);
    process.stdout.write(`${await b.run(quick)}\n\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
