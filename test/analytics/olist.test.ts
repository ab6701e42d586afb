/**
 * Aggregates over the real Olist orders (../shared/data, imported with the Olist importer through
 * the public services, Brazilian states as regions) equal the raw-event reference: region rollups
 * over real state polygons, H3 grids country-wide and in an area, exact distinct buyers.
 */
import path from 'node:path';
import { AnalyticsService } from '../../src/analytics/analytics.service';
import { silentLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { importOlist } from '../../src/importers/olist.importer';
import { importRegions } from '../../src/importers/regions.importer';
import { createServices } from '../../src/services';
import { testConfig } from '../helpers/app';
import { sharedDataDir } from '../helpers/shared-data';
import { openPrivateDatabase } from './private-db';
import { referenceAggregate, type RefQuery } from './reference';

const DATA = sharedDataDir();
/** Orders imported (the first N by purchase time, 2016-09 → 2017-…). */
const ORDERS = 4_000;
let db: Database;
let analytics: AnalyticsService;
const state: Record<string, string> = {};
let healthBeauty: string;
let range: { from: Date; to: Date };

beforeAll(async () => {
  db = await openPrivateDatabase();
  const services = createServices(db.dataSource, testConfig(), silentLogger());
  await importRegions(services, path.join(DATA, 'regions/brazil-states.geojson.gz'), { codeProperty: 'sigla', codePrefix: 'br:', kind: 'state' });
  const imported = await importOlist(services, path.join(DATA, 'olist-brazilian-ecommerce'), silentLogger(), { maxOrders: ORDERS });
  expect(imported.events.accepted + imported.events.duplicates).toBeGreaterThan(ORDERS);
  analytics = new AnalyticsService(db.dataSource);
  for (const r of await db.dataSource.query(`SELECT id::text AS id, code FROM regions WHERE kind = 'state'`)) state[r.code] = r.id;
  [{ id: healthBeauty }] = await db.dataSource.query(`SELECT id::text AS id FROM categories WHERE name = 'health_beauty'`);
  const [r] = await db.dataSource.query(`SELECT min(occurred_at) AS a, max(occurred_at) AS b FROM events WHERE idempotency_key LIKE 'olist:%'`);
  range = { from: new Date(r.a), to: new Date(new Date(r.b).getTime() + 1) };
}, 600_000);
afterAll(async () => {
  await db?.close();
});

async function expectEqual(input: Parameters<AnalyticsService['aggregate']['aggregates']>[0], ref: RefQuery): Promise<number> {
  const got = await analytics.aggregate.aggregates(input, null, { withUsers: true });
  const want = await referenceAggregate(db.dataSource, ref);
  expect(want.size).toBeGreaterThan(0);
  const gotMap = new Map(got.map((g) => [`${g.cellId}|${g.bucketStart.toISOString()}`, { value: g.value, users: g.users }]));
  expect([...gotMap.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) expect({ k, ...gotMap.get(k)! }).toEqual({ k, value: w.value, users: w.users });
  return want.size;
}

describe('aggregates over real Olist orders equal the raw reference', () => {
  it('REVENUE by month for São Paulo, Rio and Minas Gerais states (region rollups, real state outlines)', async () => {
    const ids = [state['br:SP']!, state['br:RJ']!, state['br:MG']!];
    await expectEqual(
      { metric: 'REVENUE', bucket: 'MONTH', grid: { regions: true }, where: { regionIds: ids }, ...range },
      { metric: 'REVENUE', bucket: 'MONTH', grid: { regions: ids }, ...range },
    );
  }, 300_000);

  it('PURCHASES by week on res-4 cells country-wide, with distinct buyers', async () => {
    const n = await expectEqual(
      { metric: 'PURCHASES', bucket: 'WEEK', grid: { h3Resolution: 4 }, ...range },
      { metric: 'PURCHASES', bucket: 'WEEK', grid: { h3: 4 }, ...range },
    );
    expect(n).toBeGreaterThan(100);
  });

  it('USERS by day on res-7 cells in a bbox around the city of São Paulo, one category', async () => {
    await expectEqual(
      {
        metric: 'USERS', bucket: 'DAY', grid: { h3Resolution: 7 },
        where: { bbox: { minLongitude: -46.83, minLatitude: -23.78, maxLongitude: -46.36, maxLatitude: -23.36 } },
        filter: { categoryIds: [healthBeauty] }, ...range,
      },
      { metric: 'USERS', bucket: 'DAY', grid: { h3: 7 }, where: { bbox: [-46.83, -23.78, -46.36, -23.36] }, categoryIds: [healthBeauty], ...range },
    );
  });

  it('REVENUE by month inside the state of Paraná (one cell over a real, complex outline)', async () => {
    await expectEqual(
      { metric: 'REVENUE', bucket: 'MONTH', where: { regionIds: [state['br:PR']!] }, ...range },
      { metric: 'REVENUE', bucket: 'MONTH', grid: null, where: { regionIds: [state['br:PR']!] }, ...range },
    );
  }, 300_000);

  it('shares of health & beauty revenue by state add up to the located total', async () => {
    const d = await analytics.distribution.distribution({ categoryId: healthBeauty, metric: 'REVENUE', regionKind: 'state', ...range }, null);
    const inStates = d.regions.reduce((a, r) => a + r.value, 0);
    const [{ located }] = await db.dataSource.query(
      `SELECT coalesce(sum(e.price * e.quantity), 0)::float AS located FROM events e JOIN products p ON p.id = e.product_id
       WHERE e.type = 'purchase' AND p.category_id = $1 AND e.location IS NOT NULL AND e.occurred_at >= $2 AND e.occurred_at < $3
         AND EXISTS (SELECT 1 FROM regions r WHERE r.kind = 'state' AND ST_Intersects(r.geom, e.location))`,
      [healthBeauty, range.from, range.to],
    );
    // States touch along borders; a customer exactly on one would count twice — none is.
    expect(inStates).toBeCloseTo(located, 2);
    expect(d.regions[0]!.code).toBe('br:SP');
  }, 300_000);
});
