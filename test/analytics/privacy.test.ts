/**
 * The partner privacy rule: nothing resting on fewer than k distinct users is returned (k from
 * config, default 10, never below 2), and no individual's location is returned.
 */
import { AnalyticsService } from '../../src/analytics/analytics.service';
import { minUsers } from '../../src/analytics/privacy';
import { ConfigError, loadConfig } from '../../src/config/config';
import type { Database } from '../../src/db/database';
import { openTestDatabase } from '../helpers/db';

let db: Database;
let analytics: AnalyticsService;
const region: Record<string, string> = {};
const FROM = new Date('2026-04-01T00:00:00Z');
const TO = new Date('2026-05-01T00:00:00Z');

beforeAll(async () => {
  db = await openTestDatabase();
  analytics = new AnalyticsService(db.dataSource, { kAnonymityMin: 10 });
  for (const r of await db.dataSource.query(`SELECT id::text AS id, code FROM regions`)) region[r.code] = r.id;
});
afterAll(async () => {
  await db.close();
});

describe('k-anonymity for partners', () => {
  it('config: MERIDIAN_K_ANONYMITY defaults to 10 and is validated', () => {
    expect(loadConfig({}).kAnonymityMin).toBe(10);
    expect(loadConfig({ MERIDIAN_K_ANONYMITY: '25' }).kAnonymityMin).toBe(25);
    expect(() => loadConfig({ MERIDIAN_K_ANONYMITY: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ MERIDIAN_K_ANONYMITY: 'ten' })).toThrow(/MERIDIAN_K_ANONYMITY/);
  });

  it('suppresses aggregate cells with fewer than k users and keeps the others unchanged', async () => {
    const input = { metric: 'EVENTS' as const, bucket: 'WEEK' as const, grid: { h3Resolution: 5 }, from: FROM, to: TO };
    const full = await analytics.aggregate.aggregates(input, null, { withUsers: true });
    const partner = await analytics.aggregate.aggregates(input, analytics.partnerAccess());
    expect(full.some((c) => c.users! < 10)).toBe(true); // the test would prove nothing otherwise
    expect(partner.length).toBeGreaterThan(0);
    expect(partner.every((c) => c.users! >= 10)).toBe(true);
    const byKey = new Map(full.map((c) => [`${c.cellId}|${c.bucketStart.toISOString()}`, c]));
    for (const c of partner) expect(c.value).toBe(byKey.get(`${c.cellId}|${c.bucketStart.toISOString()}`)!.value);
    expect(partner.length).toBe(full.filter((c) => c.users! >= 10).length);
  });

  it('never shows a one-user cell, even with k configured to 1', async () => {
    expect(minUsers({ kAnonymity: 1 })).toBe(2);
    expect(minUsers(null)).toBeNull();
    const loose = new AnalyticsService(db.dataSource, { kAnonymityMin: 1 });
    const cells = await loose.aggregate.aggregates(
      { metric: 'PURCHASES', bucket: 'DAY', grid: { h3Resolution: 9 }, from: FROM, to: TO },
      loose.partnerAccess(),
    );
    expect(cells.every((c) => c.users! >= 2)).toBe(true);
  });

  it('time series points, distribution shares and hot spots follow the same rule', async () => {
    const ts = await analytics.series.timeSeries(
      { metric: 'PURCHASES', bucket: 'DAY', where: { regionIds: [region['city:recife']!] }, from: FROM, to: TO },
      analytics.partnerAccess(),
    );
    expect(ts.points.some((p) => p.value === null)).toBe(true);
    expect(ts.points.every((p) => p.value === null || p.users! >= 10)).toBe(true);
    expect(ts.seasonality.dailyProfile).toEqual([]);

    const [{ id: product }] = await db.dataSource.query(
      `SELECT product_id::text AS id FROM events WHERE type = 'purchase' GROUP BY 1 HAVING count(DISTINCT user_id) BETWEEN 1 AND 3 ORDER BY 1 LIMIT 1`,
    );
    const d = await analytics.distribution.distribution({ productId: product, from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-06-01T00:00:00Z') }, analytics.partnerAccess());
    expect(d.centroid).toBeNull(); // a handful of buyers: their centroid would locate them
    expect(d.regions).toEqual([]);
    const dFull = await analytics.distribution.distribution({ productId: product, from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-06-01T00:00:00Z') }, null);
    expect(dFull.centroid).not.toBeNull();

    const spots = await analytics.hotspot.hotspots({ metric: 'EVENTS', h3Resolution: 5, from: FROM, to: TO, onlySignificant: false }, analytics.partnerAccess());
    const full = await analytics.hotspot.hotspots({ metric: 'EVENTS', h3Resolution: 5, from: FROM, to: TO, onlySignificant: false }, null);
    expect(spots.length).toBeLessThan(full.length);
    expect(spots.filter((s) => s.value > 0).length).toBeGreaterThan(0);
  });

  it('refuses a demand forecast resting on fewer than k buyers', async () => {
    const [{ id: cat }] = await db.dataSource.query(`SELECT id::text AS id FROM categories WHERE external_id = 'automotive'`);
    await expect(
      analytics.series.demandForecast({ regionId: region['city:recife']!, categoryId: cat, horizon: 7, asOf: new Date('2026-03-20T00:00:00Z'), historyDays: 21 }, analytics.partnerAccess()),
    ).rejects.toThrow(/fewer than 10 buyers/);
  });
});
