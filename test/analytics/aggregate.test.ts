/**
 * Every aggregate equals the raw-event reference (test/analytics/reference.ts) over the seeded
 * demo data: each metric, bucket, grid and area form, with range edges that are not hour-aligned
 * so rollups, raw edges and boundary cells all take part. Runs on whichever database the run uses
 * (embedded PGlite+PostGIS 3.6, or real Postgres+PostGIS 3.3 with DATABASE_URL).
 */
import type { AggregateInputData } from '../../src/analytics/analytics.model';
import { AggregateService } from '../../src/analytics/aggregate.service';
import { RegionRollups } from '../../src/analytics/region-rollups';
import { RegionService } from '../../src/catalog/region.service';
import type { Database } from '../../src/db/database';
import { openTestDatabase } from '../helpers/db';
import { referenceAggregate, type RefQuery } from './reference';

let db: Database;
let service: AggregateService;
const region: Record<string, string> = {};
const category: Record<string, string> = {};
let topProduct: string;

beforeAll(async () => {
  db = await openTestDatabase();
  service = new AggregateService(db.dataSource, new RegionRollups(db.dataSource));
  // A region overlapping São Paulo's (the demo cities are disjoint), to exercise the union path.
  await new RegionService(db.dataSource).upsert([
    { code: 'test:sp-east', name: 'SP east (test)', kind: 'test', geometry: { type: 'Polygon', coordinates: [[[-46.6, -23.7], [-46.3, -23.7], [-46.3, -23.4], [-46.6, -23.4], [-46.6, -23.7]]] } },
  ]);
  for (const r of await db.dataSource.query(`SELECT id::text AS id, code FROM regions`)) region[r.code] = r.id;
  for (const c of await db.dataSource.query(`SELECT id::text AS id, external_id FROM categories`)) category[c.external_id] = c.id;
  [{ id: topProduct }] = await db.dataSource.query(
    `SELECT product_id::text AS id FROM events WHERE type = 'purchase' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
  );
});
afterAll(async () => {
  await db.close();
});

const cities = () => Object.entries(region).filter(([code]) => code.startsWith('city:')).map(([, id]) => id);
const SP = { lat: -23.5505, lng: -46.6333 };
/** A square around central São Paulo whose edges cut through many H3 cells. */
const SP_POLYGON = {
  type: 'Polygon',
  coordinates: [[[-46.71, -23.62], [-46.55, -23.62], [-46.55, -23.48], [-46.71, -23.48], [-46.71, -23.62]]],
};
/** A big polygon around the whole São Paulo metro area, so whole res-7 cells are interior. */
const SP_BIG = {
  type: 'Polygon',
  coordinates: [[[-47.2, -24.1], [-46.0, -24.1], [-46.0, -23.0], [-47.2, -23.0], [-47.2, -24.1]]],
};
const FROM = new Date('2026-03-20T05:17:23Z');
const TO = new Date('2026-05-16T13:45:10Z');

interface Case {
  name: string;
  input: () => AggregateInputData;
  ref: () => RefQuery;
  users?: boolean;
}

function both(
  name: string,
  spec: {
    metric: RefQuery['metric'];
    bucket: RefQuery['bucket'];
    eventTypes?: string[];
    /** regions: () => [] means every city region (grid { regions: true, regionKind: 'city' }). */
    grid?: { h3: number } | { regions: () => string[]; asWhere?: boolean } | null;
    where?: () => NonNullable<RefQuery['where']>;
    from?: Date;
    to?: Date;
    categories?: () => string[];
    products?: () => string[];
    users?: boolean;
  },
): Case {
  return {
    name,
    users: spec.users,
    input: () => {
      const w = spec.where?.();
      const g = spec.grid;
      return {
        metric: spec.metric,
        bucket: spec.bucket,
        eventTypes: spec.eventTypes?.map((t) => t as 'view'),
        grid: !g ? null : 'h3' in g ? { h3Resolution: g.h3 } : g.asWhere ? { regions: true } : { regions: true, regionKind: 'city' },
        where: w
          ? 'bbox' in w
            ? { bbox: { minLongitude: w.bbox[0], minLatitude: w.bbox[1], maxLongitude: w.bbox[2], maxLatitude: w.bbox[3] } }
            : 'polygon' in w
              ? { polygon: w.polygon as { type: string } }
              : 'near' in w
                ? { near: { latitude: w.near[0], longitude: w.near[1] }, radiusKm: w.radiusKm }
                : { regionIds: w.regionIds }
          : g && 'regions' in g && g.asWhere
            ? { regionIds: g.regions() }
            : null,
        from: spec.from ?? FROM,
        to: spec.to ?? TO,
        filter: { categoryIds: spec.categories?.(), productIds: spec.products?.() },
      };
    },
    ref: () => {
      const g = spec.grid;
      return {
        metric: spec.metric,
        bucket: spec.bucket,
        eventTypes: spec.eventTypes,
        grid: !g ? null : 'h3' in g ? { h3: g.h3 } : { regions: g.asWhere ? g.regions() : cities() },
        where: spec.where?.() ?? (g && 'regions' in g && g.asWhere ? { regionIds: g.regions() } : undefined),
        from: spec.from ?? FROM,
        to: spec.to ?? TO,
        categoryIds: spec.categories?.(),
        productIds: spec.products?.(),
      };
    },
  };
}

const cases: Case[] = [
  both('EVENTS by day, one cell, no area (res-7 daily + hourly + raw edges)', { metric: 'EVENTS', bucket: 'DAY' }),
  both('USERS by week on res-7 cells, no area', { metric: 'USERS', bucket: 'WEEK', grid: { h3: 7 } }),
  both('PURCHASES by day per region (region rollups)', { metric: 'PURCHASES', bucket: 'DAY', grid: { regions: () => [] } }),
  both('REVENUE by month over two disjoint regions as one cell', {
    metric: 'REVENUE',
    bucket: 'MONTH',
    where: () => ({ regionIds: [region['city:sao-paulo']!, region['city:rio-de-janeiro']!] }),
  }),
  both('CONVERSION by week on res-8 cells inside a polygon cutting through cells', {
    metric: 'CONVERSION',
    bucket: 'WEEK',
    grid: { h3: 8 },
    where: () => ({ polygon: SP_POLYGON }),
  }),
  both('CART+FAVORITE events by hour on res-9 cells within 5 km', {
    metric: 'EVENTS',
    bucket: 'HOUR',
    eventTypes: ['cart', 'favorite'],
    grid: { h3: 9 },
    where: () => ({ near: [SP.lat, SP.lng], radiusKm: 5 }),
    from: new Date('2026-05-01T07:31:00Z'),
    to: new Date('2026-05-04T22:05:00Z'),
  }),
  both('EVENTS by day on res-5 cells in a bbox, two categories', {
    metric: 'EVENTS',
    bucket: 'DAY',
    grid: { h3: 5 },
    where: () => ({ bbox: [-43.8, -23.2, -42.9, -22.6] }),
    categories: () => [category.sports!, category.beauty!],
  }),
  both('USERS by day per region inside a bbox (zones ∩ area)', {
    metric: 'USERS',
    bucket: 'DAY',
    grid: { regions: () => [] },
    where: () => ({ bbox: [-46.7, -23.7, -46.5, -23.4] }),
  }),
  both('EVENTS by week on res-10 cells within 1.5 km', {
    metric: 'EVENTS',
    bucket: 'WEEK',
    grid: { h3: 10 },
    where: () => ({ near: [SP.lat, SP.lng], radiusKm: 1.5 }),
    users: true,
  }),
  both('PURCHASES of one product by day (raw path)', { metric: 'PURCHASES', bucket: 'DAY', products: () => [topProduct], users: true }),
  both('EVENTS by day per region for chosen regions', {
    metric: 'EVENTS',
    bucket: 'DAY',
    grid: { regions: () => [region['city:curitiba']!, region['city:recife']!], asWhere: true },
  }),
  both('EVENTS by week on res-6 cells within regions (region cells, res-7 rollups)', {
    metric: 'EVENTS',
    bucket: 'WEEK',
    grid: { h3: 6 },
    where: () => ({ regionIds: [region['city:sao-paulo']!, region['city:brasilia']!] }),
    users: true,
  }),
  both('PURCHASES by day on res-8 cells in one region (region × res-8 rollups, purchase rows only)', {
    metric: 'PURCHASES',
    bucket: 'DAY',
    grid: { h3: 8 },
    where: () => ({ regionIds: [region['city:rio-de-janeiro']!] }),
    users: true,
  }),
  both('EVENTS by week on res-7 cells in one region (weekly, daily, hourly region × res-8 rollups and raw edges)', {
    metric: 'EVENTS',
    bucket: 'WEEK',
    grid: { h3: 7 },
    where: () => ({ regionIds: [region['city:sao-paulo']!] }),
    users: true,
  }),
  both('EVENTS by day on res-8 cells in two touching regions (union through cells, not double counted)', {
    metric: 'EVENTS',
    bucket: 'DAY',
    grid: { h3: 8 },
    where: () => ({ regionIds: [region['city:sao-paulo']!, region['test:sp-east']!] }),
  }),
  both('EVENTS by day on res-7 cells inside a big polygon (whole res-7 cells interior)', {
    metric: 'EVENTS',
    bucket: 'DAY',
    grid: { h3: 7 },
    where: () => ({ polygon: SP_BIG }),
    users: true,
  }),
  both('USERS with event types and a category, by month, no grid', {
    metric: 'USERS',
    bucket: 'MONTH',
    eventTypes: ['view', 'cart'],
    categories: () => [category.electronics!],
  }),
  both('USERS by day per city (region user counters for whole days, raw edges)', {
    metric: 'USERS',
    bucket: 'DAY',
    grid: { regions: () => [] },
  }),
  both('USERS by week per city, two event types and a category (region user rows by kinds)', {
    metric: 'USERS',
    bucket: 'WEEK',
    eventTypes: ['view', 'purchase'],
    grid: { regions: () => [] },
    categories: () => [category.electronics!],
  }),
  both('USERS by month for chosen regions, whole months only (region user counters)', {
    metric: 'USERS',
    bucket: 'MONTH',
    grid: { regions: () => [region['city:sao-paulo']!, region['test:sp-east']!], asWhere: true },
    from: new Date('2026-03-01T00:00:00Z'),
    to: new Date('2026-06-01T00:00:00Z'),
  }),
  both('REVENUE by day per region, one category (region rollups with category)', {
    metric: 'REVENUE',
    bucket: 'DAY',
    grid: { regions: () => [] },
    categories: () => [category.fashion!],
    users: true,
  }),
];

describe('aggregates equal the raw-event reference', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await service.aggregates(c.input(), null, { withUsers: c.users });
    const want = await referenceAggregate(db.dataSource, c.ref());
    expect(want.size).toBeGreaterThan(0);
    const gotMap = new Map(got.map((g) => [`${g.cellId}|${g.bucketStart.toISOString()}`, g]));
    expect([...gotMap.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, w] of want) {
      const g = gotMap.get(k)!;
      expect({ k, value: g.value }).toEqual({ k, value: w.value });
      if (c.users || c.ref().metric === 'USERS') expect({ k, users: g.users }).toEqual({ k, users: w.users });
    }
  });
});

describe('region rollups follow the region geometry', () => {
  it('rebuilds a region whose outline changed, and answers equal the reference before and after', async () => {
    const regions = new RegionService(db.dataSource);
    const square = (lng: number, lat: number, d: number) => ({
      type: 'Polygon',
      coordinates: [[[lng - d, lat - d], [lng + d, lat - d], [lng + d, lat + d], [lng - d, lat + d], [lng - d, lat - d]]],
    });
    const code = `test:moving-${process.pid}`;
    const check = async () => {
      const [{ id }] = await db.dataSource.query(`SELECT id::text AS id FROM regions WHERE code = $1`, [code]);
      const got = await service.aggregates({ metric: 'EVENTS', bucket: 'WEEK', grid: { regions: true }, where: { regionIds: [id] }, from: FROM, to: TO }, null);
      const want = await referenceAggregate(db.dataSource, { metric: 'EVENTS', bucket: 'WEEK', grid: { regions: [id] }, from: FROM, to: TO });
      expect(new Map(got.map((g) => [`${g.cellId}|${g.bucketStart.toISOString()}`, g.value]))).toEqual(
        new Map([...want].map(([k, v]) => [k, v.value])),
      );
      return want.size;
    };
    await regions.upsert([{ code, name: 'moving', kind: 'test', geometry: square(-46.63, -23.55, 0.05) }]);
    expect(await check()).toBeGreaterThan(0);
    await regions.upsert([{ code, name: 'moving', kind: 'test', geometry: square(-43.17, -22.9, 0.04) }]); // to Rio
    expect(await check()).toBeGreaterThan(0);
  });
});
