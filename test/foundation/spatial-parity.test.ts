/**
 * The embedded PGlite+PostGIS 3.6 and the real Postgres+PostGIS 3.3 must answer the same spatial
 * queries identically over the same seeded data. Needs DATABASE_URL (CI sets it).
 */
import type { Database } from '../../src/db/database';
import { openTestDatabase, realPostgresAvailable } from '../helpers/db';

const describeWithReal = realPostgresAvailable() ? describe : describe.skip;

describeWithReal('embedded vs real PostGIS', () => {
  let real: Database;
  let embedded: Database;
  beforeAll(async () => {
    real = await openTestDatabase('real');
    embedded = await openTestDatabase('embedded');
  });
  afterAll(async () => {
    await real?.close();
    await embedded?.close();
  });

  const queries: [string, string, unknown[]][] = [
    [
      'products within 10 km of a point (geography distance)',
      `SELECT external_id FROM products
       WHERE ST_DWithin(seller_location::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 10000)
       ORDER BY external_id`,
      [-43.1729, -22.9068],
    ],
    [
      'users inside each city region',
      `SELECT r.code, count(u.*)::int AS n FROM regions r JOIN users u ON ST_Contains(r.geom, u.home_location)
       GROUP BY r.code ORDER BY r.code`,
      [],
    ],
    [
      'events by H3 cell in a bounding box on one day (seed events only)',
      `SELECT h3_r9::text AS cell, count(*)::int AS n FROM events
       WHERE idempotency_key LIKE 'demo-%' AND location && ST_MakeEnvelope(-46.8, -23.8, -46.4, -23.3, 4326)
         AND occurred_at >= '2026-05-20' AND occurred_at < '2026-05-21'
       GROUP BY 1 ORDER BY 1`,
      [],
    ],
    [
      'distance in metres from each Recife seller to the centre, rounded',
      `SELECT external_id, round(ST_Distance(seller_location::geography, ST_SetSRID(ST_MakePoint(-34.877, -8.0476), 4326)::geography))::int AS m
       FROM products WHERE attributes->>'city' = 'recife' ORDER BY external_id`,
      [],
    ],
  ];

  it.each(queries)('%s', async (_name, sql, params) => {
    const [a, b] = await Promise.all([real.dataSource.query(sql, params), embedded.dataSource.query(sql, params)]);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});
