/**
 * Analytics benchmark on the real Postgres: p50/p99 of rollup-backed queries against the raw-scan
 * SQL reference of the same question in the same run, plus ingest-to-aggregate freshness.
 *
 *   node dist/bench/analytics.js [--events N] [--runs R] [--raw-runs R] [--db NAME]
 *
 * The demo world (seedDemo) with N events (default 10,000,000) is seeded once into its own
 * database (meridian_bench for 10M, meridian_bench_<N> otherwise) and reused: a run skips seeding
 * when the events are there, and an interrupted seed resumes (events have fixed idempotency keys).
 * Targets (issue 6): ≥ 50× faster than raw and p50 < 100 ms; an ingested event visible within 2 s.
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import { cellToParent, gridDisk } from 'h3-js';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { AnalyticsService } from '../src/analytics/analytics.service';
import { rebuildRollups, vacuumRollups } from '../src/analytics/rollup-rebuild';
import { intToH3 } from '../src/analytics/cells';
import { benjaminiHochberg, getisOrdGiStar } from '../src/analytics/hotspots';
import { silentLogger } from '../src/common/logger';
import { createDataSource } from '../src/db/data-source';
import { DEMO_SEED, seedDemo } from '../src/demo/seed-demo';
import { EventService } from '../src/events/event.service';
import { rollupFold } from '../src/analytics/rollup';
import { intOption, parseArgs } from '../src/tools/cli-args';
import { adminUrl, databaseUrl, markdownTable, summarize } from './bench-utils';

export interface AnalyticsBenchOptions {
  /** Seeded demo events. Defaults to 10,000,000 (200,000 with quick). */
  readonly events?: number;
  /** Timed runs of each rollup query. Defaults to 30 (10 with quick). */
  readonly runs?: number;
  /** Timed runs of each raw-scan reference. Defaults to 3 (1 with quick). */
  readonly rawRuns?: number;
  /** Database name; defaults to meridian_bench (10M) or meridian_bench_<N>. */
  readonly database?: string;
  readonly quick?: boolean;
  /** Progress lines go here. Defaults to stderr. */
  readonly log?: (line: string) => void;
}

/** Fixed, so a cached database always holds the same data. */
export const BENCH_ANCHOR = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

interface Case {
  readonly name: string;
  readonly rollup: () => Promise<number>;
  readonly raw: () => Promise<number>;
}

export async function runAnalyticsBench(opts: AnalyticsBenchOptions = {}): Promise<string> {
  const events = opts.events ?? (opts.quick ? 200_000 : 10_000_000);
  const runs = opts.runs ?? (opts.quick ? 10 : 30);
  const rawRuns = opts.rawRuns ?? (opts.quick ? 1 : 3);
  const name = opts.database ?? (events === 10_000_000 ? 'meridian_bench' : `meridian_bench_${events}`);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));

  const ds = await openBenchDatabase(name, events, log);
  try {
    const analytics = new AnalyticsService(ds);
    const ingest = new EventService(ds, { maxBatch: 5000, futureSkewSeconds: 300 }, rollupFold);
    const ids = await lookups(ds);
    const t0 = Date.now();
    const rebuilt = await analytics.regions.ensureFresh(ids.cities);
    const rebuildMs = Date.now() - t0;
    if (rebuilt) log(`built region rollups of ${rebuilt} regions in ${rebuildMs} ms (first use only)`);

    const from90 = new Date(BENCH_ANCHOR.getTime() - 90 * DAY);
    // Three ISO weeks (Mon 2026-10-12 … Sun 2026-11-01): the whole 90 days at res 8 exceeds the 10,000-cell answer limit.
    const from3w = new Date(BENCH_ANCHOR.getTime() - 20 * DAY);
    const from30 = new Date(BENCH_ANCHOR.getTime() - 30 * DAY);
    const cases: Case[] = [
      {
        name: 'city-level daily EVENTS, 90 days (6 cities × 90 days)',
        rollup: async () =>
          (await analytics.aggregate.aggregates(
            { metric: 'EVENTS', bucket: 'DAY', grid: { regions: true, regionKind: 'city' }, from: from90, to: BENCH_ANCHOR },
            null,
          )).length,
        raw: async () =>
          (await ds.query(
            `SELECT r.id, date_trunc('day', e.occurred_at, 'UTC') AS d, count(*) FROM events e
             JOIN regions r ON r.kind = 'city' AND ST_Intersects(r.geom, e.location)
             WHERE e.occurred_at >= $1 AND e.occurred_at < $2 GROUP BY 1, 2`,
            [from90, BENCH_ANCHOR],
          )).length,
      },
      {
        name: 'country-wide H3 res-8 weekly REVENUE of one category, 3 weeks',
        rollup: async () =>
          (await analytics.aggregate.aggregates(
            { metric: 'REVENUE', bucket: 'WEEK', grid: { h3Resolution: 8 }, filter: { categoryIds: [ids.electronics] }, from: from3w, to: BENCH_ANCHOR },
            null,
          )).length,
        raw: async () => {
          const rows: { h: string; w: Date; rev: string }[] = await ds.query(
            `SELECT e.h3_r9::text AS h, date_trunc('week', e.occurred_at, 'UTC') AS w, sum(e.price * e.quantity)::text AS rev
             FROM events e JOIN products p ON p.id = e.product_id
             WHERE e.type = 'purchase' AND p.category_id = $3 AND e.location IS NOT NULL
               AND e.occurred_at >= $1 AND e.occurred_at < $2 GROUP BY 1, 2`,
            [from3w, BENCH_ANCHOR, ids.electronics],
          );
          const cells = new Set(rows.map((r) => `${cellToParent(intToH3(r.h), 8)}|${new Date(r.w).getTime()}`));
          return cells.size;
        },
      },
      {
        name: 'hot spots: Gi* on H3 res 8 in São Paulo, 30 days of EVENTS',
        rollup: async () =>
          (await analytics.hotspot.hotspots(
            { metric: 'EVENTS', h3Resolution: 8, where: { regionIds: [ids.saoPaulo] }, from: from30, to: BENCH_ANCHOR },
            null,
          )).length,
        raw: async () => rawHotspots(ds, ids.saoPaulo, from30, BENCH_ANCHOR),
      },
      {
        name: 'city-level daily distinct USERS, 90 days (exact)',
        rollup: async () =>
          (await analytics.aggregate.aggregates(
            { metric: 'USERS', bucket: 'DAY', grid: { regions: true, regionKind: 'city' }, from: from90, to: BENCH_ANCHOR },
            null,
          )).length,
        raw: async () =>
          (await ds.query(
            `SELECT r.id, date_trunc('day', e.occurred_at, 'UTC') AS d, count(DISTINCT e.user_id) FROM events e
             JOIN regions r ON r.kind = 'city' AND ST_Intersects(r.geom, e.location)
             WHERE e.occurred_at >= $1 AND e.occurred_at < $2 GROUP BY 1, 2`,
            [from90, BENCH_ANCHOR],
          )).length,
      },
    ];

    const table: (string | number)[][] = [];
    for (const c of cases) {
      log(`timing: ${c.name}`);
      const rollupRows = await c.rollup(); // warm-up (plans, caches)
      const rollup = await time(c.rollup, runs);
      const rawRows = await c.raw();
      const raw = await time(c.raw, rawRuns);
      if (rawRows !== rollupRows) log(`  note: rollup answered ${rollupRows} cells, raw ${rawRows}`);
      table.push([c.name, rollupRows, ms(rollup.p50), ms(rollup.p99), ms(raw.p50), ms(raw.p99), `${Math.round(raw.p50 / rollup.p50)}×`]);
    }

    log('timing: freshness');
    const fresh = await freshness(ds, analytics, ingest, opts.quick ? 10 : 20);
    const header = ['query', 'cells', 'rollup p50 ms', 'rollup p99 ms', 'raw p50 ms', 'raw p99 ms', 'speed-up (p50)'];
    const [{ n }] = await ds.query<[{ n: string }]>(`SELECT count(*)::bigint AS n FROM events`);
    return [
      `### Analytics (${Number(n).toLocaleString('en-US')} events, real Postgres; ${runs} rollup runs, ${rawRuns} raw runs)`,
      '',
      markdownTable(header, table),
      '',
      `Ingest-to-aggregate freshness (ingest one event, read it back): p50 ${ms(fresh.p50)} ms, p99 ${ms(fresh.p99)} ms over ${fresh.n} events; ` +
        `the first read after the ingest call returned always shows the event (rollups are written by the ingest statement).`,
      rebuilt ? `Region rollups were built on first use in ${rebuildMs} ms (once per region geometry).` : '',
    ].join('\n');
  } finally {
    await ds.destroy();
  }
}

/** Opens (creating, migrating and seeding when needed) the cached benchmark database. */
export async function openBenchDatabase(name: string, events: number, log: (l: string) => void): Promise<DataSource> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!exists.rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const ds = createDataSource({ url: databaseUrl(name), poolSize: 4 });
  await ds.initialize();
  const ran = await ds.runMigrations({ transaction: 'each' });
  if (ran.length) log(`migrated ${name}: ${ran.map((m) => m.name).join(', ')}`);
  const [{ n }] = await ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM events WHERE idempotency_key LIKE 'demo-%'`);
  if (n < events) {
    log(`seeding ${name}: ${n} of ${events} demo events present; seeding (resumes where it stopped)…`);
    const t0 = Date.now();
    await seedDemo(ds, { seed: DEMO_SEED, events, anchor: BENCH_ANCHOR, days: 90 }, silentLogger());
    log(`seeded in ${Math.round((Date.now() - t0) / 1000)} s`);
    await vacuumRollups(ds);
  }
  // A seed interrupted between loading events and rebuilding the rollups leaves them behind.
  const [{ folded }] = await ds.query<[{ folded: string }]>(
    `SELECT coalesce(sum(views + searches + carts + purchases + favorites), 0)::bigint AS folded FROM analytics_daily`,
  );
  const [{ total }] = await ds.query<[{ total: string }]>(`SELECT count(*)::bigint AS total FROM events`);
  if (folded !== total) {
    log(`rollups hold ${folded} of ${total} events; rebuilding them…`);
    await rebuildRollups(ds);
    await vacuumRollups(ds);
  }
  return ds;
}

async function lookups(ds: DataSource): Promise<{ cities: string[]; saoPaulo: string; electronics: string }> {
  const cities = await ds.query<{ id: string; code: string }[]>(`SELECT id::text AS id, code FROM regions WHERE kind = 'city' ORDER BY id`);
  const [cat] = await ds.query<{ id: string }[]>(`SELECT id::text AS id FROM categories WHERE external_id = 'electronics'`);
  return { cities: cities.map((c) => c.id), saoPaulo: cities.find((c) => c.code === 'city:sao-paulo')!.id, electronics: cat!.id };
}

/** The hot-spot question answered from raw events: per-cell counts by a scan, then the same Gi*. */
async function rawHotspots(ds: DataSource, regionId: string, from: Date, to: Date): Promise<number> {
  const rows: { h: string; n: number }[] = await ds.query(
    `SELECT e.h3_r9::text AS h, count(*)::int AS n FROM events e JOIN regions r ON r.id = $1 AND ST_Intersects(r.geom, e.location)
     WHERE e.occurred_at >= $2 AND e.occurred_at < $3 GROUP BY 1`,
    [regionId, from, to],
  );
  const values = new Map<string, number>();
  for (const r of rows) {
    const c = cellToParent(intToH3(r.h), 8);
    values.set(c, (values.get(c) ?? 0) + r.n);
  }
  const study = new Map(values);
  for (const c of values.keys()) for (const nb of gridDisk(c, 1)) if (!study.has(nb)) study.set(nb, 0);
  // (The rollup path also drops ring cells outside the region; the count of significant cells
  // can differ slightly at the border. This is a timing reference.)
  const stats = getisOrdGiStar(study, (k) => gridDisk(k, 1));
  return benjaminiHochberg(stats.map((s) => s.p), 0.05).filter(Boolean).length;
}

/** Ingest one event, then read the aggregate that must include it; the elapsed time per event. */
async function freshness(ds: DataSource, analytics: AnalyticsService, ingest: EventService, n: number) {
  const [{ user, product }] = await ds.query<[{ user: string; product: string }]>(
    `SELECT (SELECT id::text FROM users ORDER BY id LIMIT 1) AS user, (SELECT id::text FROM products ORDER BY id LIMIT 1) AS product`,
  );
  const samples: number[] = [];
  const loc = { latitude: -23.55, longitude: -46.63 };
  for (let i = 0; i < n; i++) {
    const now = new Date();
    const q = {
      metric: 'EVENTS' as const, bucket: 'HOUR' as const, from: new Date(now.getTime() - 3_600_000), to: new Date(now.getTime() + 60_000),
      where: { near: loc, radiusKm: 1 },
    };
    const total = async () => (await analytics.aggregate.aggregates(q, null)).reduce((a, c) => a + (c.value ?? 0), 0);
    const before = await total();
    const t0 = process.hrtime.bigint();
    await ingest.ingest([
      { idempotencyKey: `bench-fresh-${crypto.randomBytes(8).toString('hex')}`, userId: user, productId: product, type: 'view', occurredAt: now, location: loc },
    ]);
    let after = await total();
    while (after < before + 1) after = await total(); // never loops in practice: the read after commit sees it
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return summarize(samples);
}

async function time(fn: () => Promise<unknown>, runs: number) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return summarize(samples);
}

function ms(v: number): number {
  return Math.round(v * 10) / 10;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.options.quick === true;
  const out = await runAnalyticsBench({
    quick,
    events: args.options.events !== undefined ? intOption(args, 'events', 10_000_000) : undefined,
    runs: args.options.runs !== undefined ? intOption(args, 'runs', 30) : undefined,
    rawRuns: args.options['raw-runs'] !== undefined ? intOption(args, 'raw-runs', 3) : undefined,
    database: typeof args.options.db === 'string' ? args.options.db : undefined,
  });
  process.stdout.write(`${out}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
