/**
 * Time series, forecasts, hot spots, distributions, correlations and demand forecasts over the
 * seeded demo world, whose structure is known: weekly and daily rhythms, 35% growth over the 90
 * days, one flash-sale day at 70% of the window (2026-05-04), six cities of different sizes with
 * regional category preferences (e.g. garden in Curitiba, sports in Rio).
 */
import { cellToLatLng, getResolution, gridDisk } from 'h3-js';
import { getisOrdGiStar } from '../../src/analytics/hotspots';
import { AnalyticsService } from '../../src/analytics/analytics.service';
import { haversineMeters } from '../../src/common/geo';
import { ValidationError } from '../../src/common/errors';
import type { Database } from '../../src/db/database';
import { openTestDatabase } from '../helpers/db';
import { referenceAggregate } from './reference';

let db: Database;
let analytics: AnalyticsService;
const region: Record<string, string> = {};
const category: Record<string, string> = {};

beforeAll(async () => {
  db = await openTestDatabase();
  analytics = new AnalyticsService(db.dataSource, { kAnonymityMin: 10 });
  for (const r of await db.dataSource.query(`SELECT id::text AS id, code FROM regions`)) region[r.code] = r.id;
  for (const c of await db.dataSource.query(`SELECT id::text AS id, external_id FROM categories`)) category[c.external_id] = c.id;
});
afterAll(async () => {
  await db.close();
});

const FROM = new Date('2026-03-03T00:00:00Z');
const TO = new Date('2026-06-01T00:00:00Z');
// floor(90 × 0.7) is 62 in floating point (62.99…): day 62 after 2026-03-03.
const FLASH_DAY = '2026-05-04T00:00:00.000Z';

describe('timeSeries', () => {
  it('daily events: growth, a weekly period, the flash-sale day as the one big anomaly', async () => {
    const ts = await analytics.series.timeSeries({ metric: 'EVENTS', bucket: 'DAY', from: FROM, to: TO }, null);
    expect(ts.points).toHaveLength(90);
    expect(ts.points.every((p) => !p.partial)).toBe(true);
    expect(ts.trend.percentChange!).toBeGreaterThan(10);
    expect(ts.seasonality.dominantPeriod).toBe(7);
    expect(ts.seasonality.dailyProfile).toHaveLength(24);
    expect(ts.seasonality.weeklyProfile).toHaveLength(7);
    const flash = ts.anomalies.find((a) => a.bucketStart.toISOString() === FLASH_DAY);
    expect(flash).toBeDefined();
    expect(flash!.score!).toBeGreaterThan(3.5);
    expect(ts.anomalies.filter((a) => a.score! > 0).map((a) => a.bucketStart.toISOString())).toContain(FLASH_DAY);
    // Points equal the aggregate reference.
    const ref = await referenceAggregate(db.dataSource, { metric: 'EVENTS', bucket: 'DAY', grid: null, from: FROM, to: TO });
    for (const p of ts.points) expect(p.value).toBe(ref.get(`all|${p.bucketStart.toISOString()}`)?.value ?? 0);
  });

  it('hourly events: evening peak in local time (UTC−3) and a daily or weekly period', async () => {
    const ts = await analytics.series.timeSeries(
      { metric: 'EVENTS', bucket: 'HOUR', from: new Date('2026-04-01T00:00:00Z'), to: new Date('2026-05-01T00:00:00Z') },
      null,
    );
    expect([24, 168]).toContain(ts.seasonality.dominantPeriod);
    const prof = ts.seasonality.dailyProfile;
    const peak = prof.indexOf(Math.max(...prof));
    // Local 19–22h is UTC 22–01h; the trough is local 3–5h (UTC 6–8h).
    expect([22, 23, 0, 1]).toContain(peak);
    expect(Math.min(...prof)).toBe(Math.min(prof[6]!, prof[7]!, prof[8]!, prof[5]!, prof[9]!));
  });

  it('forecast: next 14 days continue the level, and the seasonal model beats seasonal-naive in the backtest', async () => {
    const ts = await analytics.series.timeSeries({ metric: 'EVENTS', bucket: 'DAY', from: FROM, to: TO }, null);
    const f = analytics.series.forecast(ts, 14);
    expect(f.points).toHaveLength(14);
    expect(f.points[0]!.bucketStart.toISOString()).toBe('2026-06-01T00:00:00.000Z');
    const lastWeeks = ts.points.slice(-28).reduce((a, p) => a + p.value!, 0) / 28;
    const next = f.points.reduce((a, p) => a + p.value, 0) / 14;
    expect(next / lastWeeks).toBeGreaterThan(0.85);
    expect(next / lastWeeks).toBeLessThan(1.25);
    expect(f.points.every((p) => p.lower <= p.value && p.value <= p.upper)).toBe(true);
    expect(f.backtest.mase!).toBeLessThan(f.backtest.naiveMase!);
    expect(() => analytics.series.forecast(ts, 0)).toThrow(ValidationError);
  });

  it('marks range-cut buckets partial and leaves them out of the fit', async () => {
    const ts = await analytics.series.timeSeries(
      { metric: 'PURCHASES', bucket: 'WEEK', from: new Date('2026-03-05T12:00:00Z'), to: new Date('2026-05-20T00:00:00Z') },
      null,
    );
    expect(ts.points[0]!.partial).toBe(true);
    expect(ts.points[ts.points.length - 1]!.partial).toBe(true);
    expect(ts.points.slice(1, -1).every((p) => !p.partial)).toBe(true);
    expect(ts.points[0]!.expected).toBeNull();
  });
});

describe('hotspots', () => {
  it('Gi* finds São Paulo as the hottest area of the country and the values equal the aggregates', async () => {
    const spots = await analytics.hotspot.hotspots({ metric: 'EVENTS', from: FROM, to: TO, h3Resolution: 5 }, null, { withGeometry: true });
    const hot = spots.filter((s) => s.classification === 'HOT');
    expect(hot.length).toBeGreaterThan(0);
    const [lat, lng] = cellToLatLng(hot[0]!.cellId);
    expect(haversineMeters({ latitude: lat, longitude: lng }, { latitude: -23.5505, longitude: -46.6333 })).toBeLessThan(60_000);
    expect(getResolution(hot[0]!.cellId)).toBe(5);
    expect((hot[0]!.geometry as { type: string }).type).toBe('Polygon');
    const ref = await referenceAggregate(db.dataSource, { metric: 'EVENTS', bucket: 'MONTH', grid: { h3: 5 }, from: FROM, to: TO });
    const perCell = new Map<string, number>();
    for (const [k, v] of ref) perCell.set(k.split('|')[0]!, (perCell.get(k.split('|')[0]!) ?? 0) + v.value!);
    for (const s of hot) expect(s.value).toBe(perCell.get(s.cellId));
    expect(spots.every((s) => s.pValue < 0.05)).toBe(true);
  });

  it('space-time: one result per cell and bucket, inside a region', async () => {
    const spots = await analytics.hotspot.hotspots(
      { metric: 'PURCHASES', from: new Date('2026-04-27T00:00:00Z'), to: new Date('2026-05-18T00:00:00Z'), h3Resolution: 7, bucket: 'WEEK', where: { regionIds: [region['city:sao-paulo']!] }, onlySignificant: false },
      null,
    );
    expect(new Set(spots.map((s) => s.bucketStart!.toISOString())).size).toBe(3);
    const keys = spots.map((s) => `${s.cellId}@${s.bucketStart!.toISOString()}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('z-scores equal the plain Gi* formula over the returned study area (spatial ring 2, and space-time)', async () => {
    const cases = [
      { metric: 'EVENTS' as const, from: FROM, to: TO, h3Resolution: 6, ringSize: 2, onlySignificant: false },
      {
        metric: 'PURCHASES' as const, from: new Date('2026-04-27T00:00:00Z'), to: new Date('2026-05-18T00:00:00Z'), h3Resolution: 7,
        bucket: 'WEEK' as const, where: { regionIds: [region['city:sao-paulo']!] }, onlySignificant: false,
      },
    ];
    for (const input of cases) {
      const spots = await analytics.hotspot.hotspots(input, null);
      const times = [...new Set(spots.map((s) => s.bucketStart?.getTime() ?? 0))].sort((a, b) => a - b);
      const key = (cell: string, t: number) => `${cell}@${t}`;
      const values = new Map(spots.map((s) => [key(s.cellId, times.indexOf(s.bucketStart?.getTime() ?? 0)), s.value]));
      const ring = input.ringSize ?? 1;
      const reference = getisOrdGiStar(values, (k) => {
        const [cell, t] = k.split('@');
        const dts = input.bucket ? [-1, 0, 1] : [0];
        return dts.flatMap((dt) => gridDisk(cell!, ring).map((n) => key(n, Number(t) + dt)));
      });
      expect(reference.length).toBe(spots.length);
      const byKey = new Map(reference.map((r) => [r.key, r]));
      for (const s of spots) {
        const r = byKey.get(key(s.cellId, times.indexOf(s.bucketStart?.getTime() ?? 0)))!;
        expect(s.zScore).toBeCloseTo(r.z, 9);
        expect(s.neighbourhoodValue).toBe(r.neighbourhoodSum);
      }
    }
  });

  it('refuses non-additive metrics and bad rings', async () => {
    await expect(analytics.hotspot.hotspots({ metric: 'CONVERSION', from: FROM, to: TO }, null)).rejects.toThrow(/input.metric/);
    await expect(analytics.hotspot.hotspots({ metric: 'EVENTS', from: FROM, to: TO, ringSize: 9 }, null)).rejects.toThrow(/input.ringSize/);
  });
});

describe('spatialDistribution', () => {
  it('shows regional preferences: garden sells relatively more in Curitiba, sports in Rio', async () => {
    const garden = await analytics.distribution.distribution({ categoryId: category.garden, metric: 'EVENTS', from: FROM, to: TO, regionKind: 'city' }, null);
    const electronics = await analytics.distribution.distribution({ categoryId: category.electronics, metric: 'EVENTS', from: FROM, to: TO, regionKind: 'city' }, null);
    const sports = await analytics.distribution.distribution({ categoryId: category.sports, metric: 'EVENTS', from: FROM, to: TO, regionKind: 'city' }, null);
    const share = (d: typeof garden, code: string) => d.regions.find((r) => r.code === code)?.share ?? 0;
    expect(share(garden, 'city:curitiba')).toBeGreaterThan(1.3 * share(electronics, 'city:curitiba'));
    expect(share(sports, 'city:rio-de-janeiro')).toBeGreaterThan(1.2 * share(electronics, 'city:rio-de-janeiro'));
  });

  it('region values equal the raw reference; centroid and dispersion match raw points within a res-9 cell size', async () => {
    const d = await analytics.distribution.distribution({ categoryId: category.books, metric: 'PURCHASES', from: FROM, to: TO }, null);
    const ref = await referenceAggregate(db.dataSource, {
      metric: 'PURCHASES', bucket: 'MONTH', grid: { regions: Object.values(region) }, from: FROM, to: TO, categoryIds: [category.books!],
    });
    const perRegion = new Map<string, number>();
    for (const [k, v] of ref) perRegion.set(k.split('|')[0]!, (perRegion.get(k.split('|')[0]!) ?? 0) + v.value!);
    expect(new Map(d.regions.map((r) => [r.regionId, r.value]))).toEqual(perRegion);
    const [raw] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM events e JOIN products p ON p.id = e.product_id
       WHERE e.type = 'purchase' AND p.category_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3`,
      [category.books, FROM, TO],
    );
    expect(d.total).toBe(raw.n);
    const pts: { lat: number; lng: number }[] = await db.dataSource.query(
      `SELECT ST_Y(e.location) AS lat, ST_X(e.location) AS lng FROM events e JOIN products p ON p.id = e.product_id
       WHERE e.type = 'purchase' AND p.category_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.location IS NOT NULL`,
      [category.books, FROM, TO],
    );
    // Reference centroid on the unit sphere from exact points.
    let x = 0, y = 0, z = 0;
    for (const p of pts) {
      const la = (p.lat * Math.PI) / 180, lo = (p.lng * Math.PI) / 180;
      x += Math.cos(la) * Math.cos(lo); y += Math.cos(la) * Math.sin(lo); z += Math.sin(la);
    }
    const c = { latitude: (Math.atan2(z, Math.hypot(x, y)) * 180) / Math.PI, longitude: (Math.atan2(y, x) * 180) / Math.PI };
    expect(haversineMeters(c, d.centroid!)).toBeLessThan(300);
    const sd = Math.sqrt(pts.reduce((a, p) => a + (haversineMeters(c, { latitude: p.lat, longitude: p.lng }) / 1000) ** 2, 0) / pts.length);
    expect(Math.abs(sd - d.dispersionKm!)).toBeLessThan(0.3);
  });

  it('needs exactly one of productId and categoryId', async () => {
    await expect(analytics.distribution.distribution({ from: FROM, to: TO }, null)).rejects.toThrow(/productId or categoryId/);
    await expect(analytics.distribution.distribution({ categoryId: '987654321', from: FROM, to: TO }, null)).rejects.toThrow(/input.categoryId/);
  });
});

describe('correlation', () => {
  it('lagged correlations equal an independent computation on the raw reference series', async () => {
    const from = new Date('2026-03-03T00:00:00Z');
    const pairs = await analytics.series.correlation(
      {
        metric: 'EVENTS', bucket: 'DAY', from, to: TO, maxLag: 3,
        series: [{ regionId: region['city:sao-paulo'], label: 'SP' }, { regionId: region['city:rio-de-janeiro'], label: 'RJ' }, { categoryId: category.books }],
      },
      null,
    );
    expect(pairs.map((p) => [p.a, p.b])).toEqual([['SP', 'RJ'], ['SP', `category ${category.books}`], ['RJ', `category ${category.books}`]]);
    const daily = async (regionId: string) => {
      const ref = await referenceAggregate(db.dataSource, { metric: 'EVENTS', bucket: 'DAY', grid: null, where: { regionIds: [regionId] }, from, to: TO });
      return Array.from({ length: 90 }, (_, i) => ref.get(`all|${new Date(from.getTime() + i * 86_400_000).toISOString()}`)?.value ?? 0);
    };
    const detrended = (y: number[]) => {
      const n = y.length, xm = (n - 1) / 2, ym = y.reduce((a, b) => a + b, 0) / n;
      const b = y.reduce((a, v, i) => a + (i - xm) * (v - ym), 0) / y.reduce((a, _v, i) => a + (i - xm) ** 2, 0);
      return y.map((v, i) => v - (ym + b * (i - xm)));
    };
    const corr = (a: number[], b: number[]) => {
      const am = a.reduce((x, y) => x + y, 0) / a.length, bm = b.reduce((x, y) => x + y, 0) / b.length;
      const cov = a.reduce((x, v, i) => x + (v - am) * (b[i]! - bm), 0);
      return cov / Math.sqrt(a.reduce((x, v) => x + (v - am) ** 2, 0) * b.reduce((x, v) => x + (v - bm) ** 2, 0));
    };
    const sp = detrended(await daily(region['city:sao-paulo']!));
    const rj = detrended(await daily(region['city:rio-de-janeiro']!));
    const sprj = pairs[0]!;
    expect(sprj.lags.map((l) => l.lag)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(sprj.lags.find((l) => l.lag === 0)!.r!).toBeCloseTo(corr(sp, rj), 10);
    // lag +2: RJ two days after SP.
    expect(sprj.lags.find((l) => l.lag === 2)!.r!).toBeCloseTo(corr(sp.slice(0, 88), rj.slice(2)), 10);
    expect(sprj.lags.find((l) => l.lag === 0)!.r!).toBeGreaterThan(0); // shared rhythm and flash sale
  });
  it('needs two to ten series, each naming a region or category', async () => {
    await expect(analytics.series.correlation({ metric: 'EVENTS', bucket: 'DAY', series: [{ regionId: '1' }] }, null)).rejects.toThrow(/input.series/);
    await expect(analytics.series.correlation({ metric: 'EVENTS', bucket: 'DAY', series: [{ regionId: '1' }, {}] }, null)).rejects.toThrow(/input.series\[1\]/);
  });
});

describe('demandForecast', () => {
  it('forecasts daily units of a category in a region near its recent level, with a backtest', async () => {
    const f = await analytics.series.demandForecast(
      { regionId: region['city:sao-paulo']!, categoryId: category.electronics!, horizon: 7, asOf: TO },
      null,
    );
    expect(f.days).toHaveLength(7);
    expect(f.days[0]!.day.toISOString()).toBe('2026-06-01T00:00:00.000Z');
    expect(f.days.every((d) => d.units >= 0 && d.lower <= d.units && d.units <= d.upper)).toBe(true);
    expect(f.totalUnits / 7).toBeGreaterThan(0.3 * f.recentDailyMean);
    expect(f.totalUnits / 7).toBeLessThan(3 * f.recentDailyMean + 1);
    expect(f.backtest.horizon).toBe(7);
  });
  it('names its own arguments in errors', async () => {
    await expect(analytics.series.demandForecast({ regionId: '987654321', categoryId: category.books!, horizon: 7 }, null)).rejects.toThrow(/region/);
    await expect(analytics.series.demandForecast({ regionId: region['city:recife']!, categoryId: category.books!, horizon: 0 }, null)).rejects.toThrow(/horizon/);
  });
});
