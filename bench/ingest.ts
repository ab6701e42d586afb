/**
 * Ingestion throughput: 1,000,000 events through the GraphQL mutation in batches of 5,000,
 * against a raw COPY of the same rows into the same table, in the same run, on the real Postgres.
 *   node dist/bench/ingest.js [--events N] [--concurrency C]
 * Target (issue 2): GraphQL ingestion ≥ 30% of COPY throughput.
 */
import 'reflect-metadata';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { silentLogger } from '../src/common/logger';
import { createDataSource } from '../src/db/data-source';
import { defaultDemoOptions, seedDemo } from '../src/demo/seed-demo';
import { RegionRollups } from '../src/analytics/region-rollups';
import { h3r9 } from '../src/events/event.writer';
import { intOption, parseArgs } from '../src/tools/cli-args';
import { BENCH_ADMIN_KEY, freshDatabase, markdownTable, printReport, startServer } from './bench-utils';

interface Row {
  key: string; user: string; product: string; type: string; at: string; lat: number; lng: number; session: string;
}

function makeRows(n: number, users: string[], products: string[]): Row[] {
  const types = ['view', 'view', 'view', 'view', 'cart', 'purchase', 'favorite'];
  const start = Date.now() - 30 * 86_400_000;
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      key: `bench-${i}`,
      user: users[(i * 7919) % users.length]!,
      product: products[(i * 104_729) % products.length]!,
      type: types[i % types.length]!,
      at: new Date(start + i * 1000).toISOString(),
      lat: -23.55 + ((i % 1000) - 500) / 5000,
      lng: -46.63 + ((i % 997) - 498) / 5000,
      session: `bench-s${Math.floor(i / 6)}`,
    });
  }
  return rows;
}

const MUTATION = 'mutation($events:[EventInput!]!){ ingestEvents(events:$events){ accepted duplicates } }';

export async function runIngestBench(opts: { events: number; concurrency: number }): Promise<string> {
  const url = await freshDatabase('meridian_bench_ingest');
  const ds = createDataSource({ url, poolSize: 2 });
  await ds.initialize();
  await ds.runMigrations();
  await seedDemo(ds, defaultDemoOptions(0), silentLogger()); // users, products, regions; no events
  // A server whose city dashboards have run keeps the city rollups (and their distinct-user
  // tables) up to date on every ingest: measure that state, not the cheaper unbuilt one.
  const regions = new RegionRollups(ds);
  await regions.ensureFresh(await regions.ids('city'));
  const users = (await ds.query<{ id: string }[]>('SELECT id FROM users')).map((r) => r.id);
  const products = (await ds.query<{ id: string }[]>('SELECT id, price FROM products')).map((r) => r.id);
  const rows = makeRows(opts.events, users, products);

  // 1. GraphQL mutation over HTTP, against the built server in its own process.
  const server = await startServer({ DATABASE_URL: url });
  let gqlSeconds: number;
  let accepted = 0;
  try {
    const batches: Row[][] = [];
    for (let i = 0; i < rows.length; i += 5000) batches.push(rows.slice(i, i + 5000));
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const res = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
            body: JSON.stringify({
              query: MUTATION,
              variables: {
                events: batch.map((r) => ({
                  idempotencyKey: r.key, userId: r.user, productId: r.product, type: r.type.toUpperCase(),
                  occurredAt: r.at, location: { latitude: r.lat, longitude: r.lng }, sessionId: r.session,
                })),
              },
            }),
          });
          const body = (await res.json()) as { data?: { ingestEvents: { accepted: number } }; errors?: unknown };
          if (!body.data) throw new Error(`ingest failed: ${JSON.stringify(body.errors)}`);
          accepted += body.data.ingestEvents.accepted;
        }
      }),
    );
    gqlSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await server.stop(); // also when a batch fails: never leave the server running
  }
  if (accepted !== rows.length) throw new Error(`accepted ${accepted} of ${rows.length}`);

  // 2. Raw COPY of the same rows into the same (emptied) table.
  await ds.query('TRUNCATE events');
  const priceById = new Map((await ds.query<{ id: string; price: string }[]>('SELECT id, price FROM products')).map((r) => [r.id, r.price]));
  // The COPY payload (with H3 cells and prices) is prepared before timing: the baseline is COPY itself.
  const payload: string[] = [];
  let chunk = '';
  for (const r of rows) {
    chunk += `${r.key}\t${r.user}\t${r.product}\t${r.type}\t${r.at}\tSRID=4326;POINT(${r.lng} ${r.lat})\t${h3r9(r.lat, r.lng)}\t${r.session}\t1\t${priceById.get(r.product)}\n`;
    if (chunk.length > 1 << 16) {
      payload.push(chunk);
      chunk = '';
    }
  }
  if (chunk) payload.push(chunk);
  const client = new Client({ connectionString: url });
  await client.connect();
  const t1 = process.hrtime.bigint();
  const copy = client.query(
    copyFrom(`COPY events (idempotency_key, user_id, product_id, type, occurred_at, location, h3_r9, session_id, quantity, price) FROM STDIN`),
  );
  await pipeline(Readable.from(payload), copy);
  const copySeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  await client.end();
  const [{ n }] = await ds.query<[{ n: number }]>('SELECT count(*)::int AS n FROM events');
  await ds.destroy();
  if (n !== rows.length) throw new Error(`COPY stored ${n} of ${rows.length}`);

  const gqlRate = rows.length / gqlSeconds;
  const copyRate = rows.length / copySeconds;
  return [
    `### Ingestion (${rows.length.toLocaleString('en')} events, batches of 5,000, concurrency ${opts.concurrency})`,
    '',
    markdownTable(
      ['path', 'seconds', 'events/s', 'ratio to COPY'],
      [
        ['GraphQL ingestEvents (HTTP, validated, idempotent)', gqlSeconds, Math.round(gqlRate), gqlRate / copyRate],
        ['raw COPY into the same table (baseline)', copySeconds, Math.round(copyRate), 1],
      ],
    ),
    '',
    `Target: ≥ 0.30 of COPY. Result: ${(gqlRate / copyRate).toFixed(2)} — ${gqlRate / copyRate >= 0.3 ? 'met' : 'NOT met'}.`,
  ].join('\n');
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  printReport(runIngestBench({ events: intOption(args, 'events', 1_000_000), concurrency: intOption(args, 'concurrency', 2) }));
}
