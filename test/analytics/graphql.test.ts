/**
 * The analytics API over HTTP: bad input answers BAD_USER_INPUT naming the field, geometry and
 * users are computed only when selected, the resolution is chosen to fit, and an event ingested
 * now shows in aggregates within 2 s (rollups are maintained by the ingestion statement).
 */
import crypto from 'node:crypto';
import { getResolution } from 'h3-js';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';

let db: Database;
let app: App;
const region: Record<string, string> = {};

beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db);
  for (const r of await db.dataSource.query(`SELECT id::text AS id, code FROM regions`)) region[r.code] = r.id;
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

const AGG = `query($input: AggregateInput!) { aggregates(input: $input) { cellId bucketStart value } }`;
const AGG_GEO = `query($input: AggregateInput!) { aggregates(input: $input) { cellId value users geometry } }`;
const RANGE = { from: '2026-05-01T00:00:00Z', to: '2026-05-08T00:00:00Z' };

async function badInput(input: Record<string, unknown>): Promise<{ message: string; paths: string[] }> {
  const r = await gql(app, AGG, { input });
  const err = r.body.errors?.[0];
  expect(err?.extensions?.code).toBe('BAD_USER_INPUT');
  return { message: err!.message, paths: (err!.extensions?.issues ?? []).map((i) => i.path) };
}

describe('aggregates: bad input is BAD_USER_INPUT naming the field', () => {
  it('an inverted time range', async () => {
    const e = await badInput({ metric: 'EVENTS', bucket: 'DAY', from: RANGE.to, to: RANGE.from });
    expect(e.paths).toContain('input.from');
  });
  it('more than 10,000 buckets', async () => {
    const e = await badInput({ metric: 'EVENTS', bucket: 'HOUR', from: '2025-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' });
    expect(e.paths).toEqual(['input.bucket']);
    expect(e.message).toMatch(/10000|10,000/);
  });
  it('an invalid (self-intersecting) polygon', async () => {
    const bowtie = { type: 'Polygon', coordinates: [[[-46.7, -23.6], [-46.5, -23.4], [-46.5, -23.6], [-46.7, -23.4], [-46.7, -23.6]]] };
    const e = await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { polygon: bowtie } });
    expect(e.paths).toEqual(['input.where.polygon']);
    expect(e.message).toMatch(/not a valid polygon/i);
  });
  it('a polygon that is not GeoJSON, and a point instead of a polygon', async () => {
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { polygon: { type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] } } })).paths).toEqual([
      'input.where.polygon',
    ]);
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { polygon: { type: 'Point', coordinates: [0, 0] } } })).paths).toEqual([
      'input.where.polygon',
    ]);
  });
  it('a resolution out of range', async () => {
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, grid: { h3Resolution: 11 } })).paths).toEqual(['input.grid.h3Resolution']);
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, grid: { h3Resolution: 2 } })).paths).toEqual(['input.grid.h3Resolution']);
  });
  it('two area forms at once, near without a radius, unknown region, event types with REVENUE', async () => {
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { regionIds: ['1'], near: { latitude: 0, longitude: 0 }, radiusKm: 1 } })).paths).toEqual(['input.where']);
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { near: { latitude: 0, longitude: 0 } } })).paths).toEqual(['input.where.radiusKm']);
    expect((await badInput({ metric: 'EVENTS', bucket: 'DAY', ...RANGE, where: { regionIds: ['987654321'] } })).paths).toEqual(['input.where.regionIds[0]']);
    expect((await badInput({ metric: 'REVENUE', bucket: 'DAY', ...RANGE, eventTypes: ['VIEW'] })).paths).toEqual(['input.eventTypes']);
  });
});

describe('aggregates: selection-driven work', () => {
  it('computes geometry and users only when selected', async () => {
    const spy = jest.spyOn(app.services.analytics.aggregate, 'aggregates');
    const input = { metric: 'EVENTS', bucket: 'WEEK', grid: { h3Resolution: 6 }, ...RANGE, where: { regionIds: [region['city:recife']] } };
    const plain = await gql(app, AGG, { input });
    expect(plain.body.errors).toBeUndefined();
    expect(spy.mock.calls[0]![2]).toEqual({ withGeometry: false, withUsers: false });
    const shaped = await gql(app, `query($input: AggregateInput!) { aggregates(input: $input) { ...C } } fragment C on AggregateCell { cellId users geometry }`, { input });
    expect(spy.mock.calls[1]![2]).toEqual({ withGeometry: true, withUsers: true });
    spy.mockRestore();
    const cells = shaped.body.data!.aggregates as { cellId: string; users: number; geometry: { type: string; coordinates: number[][][] } }[];
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) {
      expect(c.geometry.type).toBe('Polygon');
      expect(c.geometry.coordinates[0]!.length).toBe(7); // hexagon, closed ring
      expect(c.users).toBeGreaterThan(0);
    }
  });
  it('returns region outlines and the area outline for region and one-cell answers', async () => {
    const r = await gql(app, AGG_GEO, { input: { metric: 'PURCHASES', bucket: 'MONTH', grid: { regions: true, regionKind: 'city' }, ...RANGE } });
    expect(r.body.errors).toBeUndefined();
    const cells = r.body.data!.aggregates as { cellId: string; geometry: { type: string } }[];
    expect(new Set(cells.map((c) => c.cellId)).size).toBe(6);
    expect(cells.every((c) => c.geometry.type === 'MultiPolygon')).toBe(true);
    const one = await gql(app, AGG_GEO, { input: { metric: 'EVENTS', bucket: 'MONTH', ...RANGE, where: { near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 3 } } });
    expect(one.body.data!.aggregates[0].cellId).toBe('all');
    expect(one.body.data!.aggregates[0].geometry.type).toBe('Polygon');
  });
  it('chooses a resolution that fits the area when none is given', async () => {
    const month = { from: '2026-04-15T00:00:00Z', to: '2026-05-15T00:00:00Z' };
    const city = await gql(app, AGG, { input: { metric: 'EVENTS', bucket: 'DAY', grid: {}, ...month, where: { regionIds: [region['city:sao-paulo']] } } });
    const near = await gql(app, AGG, { input: { metric: 'EVENTS', bucket: 'DAY', grid: {}, ...month, where: { near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 4 } } });
    expect(city.body.errors).toBeUndefined();
    const rc = getResolution(city.body.data!.aggregates[0].cellId);
    const rn = getResolution(near.body.data!.aggregates[0].cellId);
    expect(rn).toBeGreaterThan(rc);
    expect(rn).toBeLessThanOrEqual(9);
    // 30 daily buckets leave room for at most 333 cells: the city is shown coarser than the 4 km circle.
    expect(new Set(city.body.data!.aggregates.map((c: { cellId: string }) => c.cellId)).size).toBeLessThanOrEqual(333);
    expect(rc).toBeLessThan(9);
  });
});

describe('freshness', () => {
  it('an event ingested now shows in aggregates within 2 s (one cell, a radius, and per region)', async () => {
    const [{ id: userId }] = await db.dataSource.query(`SELECT id::text AS id FROM users ORDER BY id LIMIT 1`);
    const [{ id: productId }] = await db.dataSource.query(`SELECT id::text AS id FROM products ORDER BY id LIMIT 1`);
    const now = Date.now();
    const from = new Date(now - 3_600_000).toISOString();
    const to = new Date(now + 60_000).toISOString();
    const loc = { latitude: -8.0476, longitude: -34.877 }; // Recife
    const queries = [
      { metric: 'PURCHASES', bucket: 'HOUR', from, to },
      { metric: 'PURCHASES', bucket: 'HOUR', from, to, where: { near: loc, radiusKm: 2 } },
      { metric: 'PURCHASES', bucket: 'HOUR', from, to, grid: { regions: true }, where: { regionIds: [region['city:recife']] } },
    ];
    const total = async (input: Record<string, unknown>) => {
      const r = await gql(app, AGG, { input });
      expect(r.body.errors).toBeUndefined();
      return (r.body.data!.aggregates as { value: number }[]).reduce((a, c) => a + c.value, 0);
    };
    const totals = async () => {
      const out: number[] = [];
      for (const q of queries) out.push(await total(q));
      return out;
    };
    const before = await totals();
    const started = Date.now();
    const ingest = await gql(app, `mutation($e:[EventInput!]!){ ingestEvents(events:$e){ accepted } }`, {
      e: [{ idempotencyKey: `fresh-${crypto.randomBytes(6).toString('hex')}`, userId, productId, type: 'PURCHASE', occurredAt: new Date(now - 1000).toISOString(), location: loc, quantity: 3 }],
    });
    expect(ingest.body.errors).toBeUndefined();
    expect(ingest.body.data!.ingestEvents.accepted).toBe(1);
    const after = await totals();
    const elapsed = Date.now() - started;
    expect(after).toEqual(before.map((b) => b + 1));
    expect(elapsed).toBeLessThan(2000);
  });
});
