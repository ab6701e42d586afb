/**
 * `npm run bench`: runs every benchmark in sequence on the real Postgres (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) and prints their markdown reports. Each reports
 * ratios against a baseline measured in the same run. Pass --quick for smaller sizes.
 */
import 'reflect-metadata';
import { runAnalyticsBench } from './analytics';
import { runAssistantBench } from './assistant';
import { runConsoleBench } from './console';
import { runFleetBench } from './fleet';
import { runIngestBench } from './ingest';
import { runLimiterBench } from './limiter';
import { runServingBench } from './serving';
import { runSoakBench } from './soak';

interface Bench {
  name: string;
  run(quick: boolean): Promise<string>;
}

const benches: Bench[] = [
  { name: 'ingest', run: (quick) => runIngestBench({ events: quick ? 100_000 : 1_000_000, concurrency: 2 }) },
  { name: 'analytics', run: (quick) => runAnalyticsBench({ quick }) },
  { name: 'serving', run: (quick) => runServingBench({ quick }) },
  { name: 'soak', run: (quick) => runSoakBench({ quick }) },
  { name: 'limiter', run: (quick) => runLimiterBench({ quick }) },
  { name: 'fleet', run: (quick) => runFleetBench({ quick }) },
  { name: 'console', run: (quick) => runConsoleBench({ quick }) },
  { name: 'assistant', run: (quick) => runAssistantBench({ quick }) },
];

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
