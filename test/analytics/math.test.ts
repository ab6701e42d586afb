/** Pure units: time-series math, Gi*, FDR, buckets and range planning. No database. */
import { bucketStarts, floorBucket, planSegments } from '../../src/analytics/buckets';
import { benjaminiHochberg, erfc, getisOrdGiStar, giStarIndexed, giStarIndexedSliced, twoSidedP } from '../../src/analytics/hotspots';
import {
  autocorrelation, backtest, dominantPeriod, fitSeasonal, laggedCorrelation, linearTrend, mase, robustAnomalies,
  seasonalNaive, trendPercentChange,
} from '../../src/analytics/timeseries';
import { score, segmentOf } from '../../src/analytics/profile.service';

/** Deterministic pseudo-noise in [-1, 1]. */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

const WEEK = [1.3, 0.85, 0.9, 0.95, 1.0, 1.1, 1.35];
const series = (n: number, spike?: number) =>
  Array.from({ length: n }, (_, i) => 100 + 0.5 * i + 30 * (WEEK[i % 7]! - 1) * 3 + 4 * noise(i) + (i === spike ? 120 : 0));

describe('trend', () => {
  it('recovers slope and intercept of a line exactly, with r² = 1', () => {
    const fit = linearTrend([3, 5, 7, 9, 11]);
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(3, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(trendPercentChange(fit, 5)).toBeCloseTo(((11 - 3) / 3) * 100, 9);
  });
  it('has no percent change from a zero start', () => {
    expect(trendPercentChange(linearTrend([0, 1, 2]), 3)).toBeNull();
  });
});

describe('seasonality', () => {
  it('finds the weekly period of a trending weekly series by autocorrelation', () => {
    const dom = dominantPeriod(series(91));
    expect(dom?.period).toBe(7);
    expect(dom!.strength).toBeGreaterThan(0.5);
  });
  it('finds no period in noise', () => {
    const y = Array.from({ length: 200 }, (_, i) => 50 + noise(i * 7 + 3));
    const dom = dominantPeriod(y);
    expect(dom === null || dom.strength < 0.25).toBe(true);
  });
  it('autocorrelation is 1 at lag 0', () => {
    expect(autocorrelation(series(30), 3)[0]).toBeCloseTo(1, 12);
  });
});

describe('anomalies and forecasts', () => {
  it('flags the one spike and nothing else', () => {
    const y = series(91, 60);
    const model = fitSeasonal(y, 7);
    const found = robustAnomalies(y, model.fitted, 3.5);
    expect(found.map((a) => a.index)).toEqual([60]);
    expect(found[0]!.score).toBeGreaterThan(3.5);
  });
  it('the robust fit is not dragged by the spike', () => {
    const clean = fitSeasonal(series(91), 7);
    const spiked = fitSeasonal(series(91, 60), 7);
    expect(Math.abs(spiked.trend.slope - clean.trend.slope)).toBeLessThan(0.02);
  });
  it('beats seasonal-naive on a trending seasonal series (MASE backtest)', () => {
    const b = backtest(series(91), 7, 14);
    expect(b.horizon).toBe(14);
    expect(b.mase!).toBeLessThan(b.naiveMase!);
    expect(b.mase!).toBeLessThan(1);
  });
  it('MASE: 0 for a perfect forecast, 1 for an error equal to in-sample naive error, null when naive is perfect', () => {
    const train = [1, 2, 3, 1, 2, 4, 1, 2, 3]; // seasonal-naive in-sample MAE = (0+0+1+0+0+1)/6 = 1/3
    expect(mase([1, 2], [1, 2], train, 3)).toBe(0);
    expect(mase([1, 2], [1 + 1 / 3, 2 - 1 / 3], train, 3)).toBeCloseTo(1, 12);
    expect(mase([1], [1], [1, 2, 1, 2], 2)).toBeNull();
    expect(seasonalNaive(train, 3, 4)).toEqual([1, 2, 3, 1]);
  });
});

describe('lagged correlation', () => {
  it('finds that b follows a by 3 steps', () => {
    const a = Array.from({ length: 120 }, (_, i) => noise(i));
    const b = a.map((_, i) => (i >= 3 ? a[i - 3]! : 0));
    const lags = laggedCorrelation(a, b, 5, false);
    const best = lags.reduce((x, y) => (Math.abs(y.r!) > Math.abs(x.r!) ? y : x));
    expect(best.lag).toBe(3);
    expect(best.r!).toBeGreaterThan(0.95);
  });
});

describe('Getis-Ord Gi*', () => {
  // A line of 6 locations, neighbours = itself and adjacent ones.
  const values = new Map([['a', 1], ['b', 1], ['c', 1], ['d', 10], ['e', 12], ['f', 11]]);
  const order = ['a', 'b', 'c', 'd', 'e', 'f'];
  const nb = (k: string) => {
    const i = order.indexOf(k);
    return order.slice(Math.max(0, i - 1), i + 2);
  };
  it('matches a hand computation', () => {
    const n = 6;
    const xs = [...values.values()];
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const s = Math.sqrt(xs.reduce((a, b) => a + b * b, 0) / n - mean * mean);
    // e: neighbours d, e, f (w = 3)
    const expected = (33 - mean * 3) / (s * Math.sqrt((n * 3 - 9) / (n - 1)));
    const e = getisOrdGiStar(values, nb).find((g) => g.key === 'e')!;
    expect(e.z).toBeCloseTo(expected, 10);
    expect(e.p).toBeCloseTo(twoSidedP(expected), 12);
    expect(e.z).toBeGreaterThan(0);
    expect(getisOrdGiStar(values, nb).find((g) => g.key === 'a')!.z).toBeLessThan(0);
  });
  it('gives the same statistics when computed in slices that yield the event loop', async () => {
    const x = Float64Array.from({ length: 5000 }, (_, i) => 50 + 40 * noise(i));
    const around = (i: number) => [i - 1, i, i + 1].filter((j) => j >= 0 && j < x.length);
    let pauses = 0;
    const everyTenth = { n: 0, due: () => ++everyTenth.n % 10 === 0, pause: async () => void pauses++ };
    expect(await giStarIndexedSliced(x, around, everyTenth)).toEqual(giStarIndexed(x, around));
    expect(pauses).toBe(500);
  });
  it('erfc is accurate in the tail', () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(twoSidedP(1.959964)).toBeCloseTo(0.05, 5);
    expect(twoSidedP(3.290527)).toBeCloseTo(0.001, 6);
  });
  it('Benjamini–Hochberg keeps the step-up discoveries', () => {
    expect(benjaminiHochberg([0.001, 0.04, 0.03, 0.5], 0.05)).toEqual([true, false, false, false]);
    expect(benjaminiHochberg([0.01, 0.02, 0.03, 0.04], 0.05)).toEqual([true, true, true, true]);
  });
});

describe('buckets and range planning', () => {
  it('weeks start on Monday (UTC), months on the 1st', () => {
    expect(floorBucket(new Date('2026-05-31T23:00:00Z'), 'WEEK').toISOString()).toBe('2026-05-25T00:00:00.000Z');
    expect(floorBucket(new Date('2026-05-25T00:00:00Z'), 'WEEK').toISOString()).toBe('2026-05-25T00:00:00.000Z');
    expect(floorBucket(new Date('2026-02-14T10:00:00Z'), 'MONTH').toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(bucketStarts(new Date('2026-01-30T00:00:00Z'), new Date('2026-03-02T00:00:00Z'), 'MONTH').length).toBe(3);
  });
  it.each([
    ['2026-03-20T05:17:23Z', '2026-05-16T13:45:10Z', true],
    ['2026-03-20T05:17:23Z', '2026-03-20T05:50:00Z', true],
    ['2026-03-20T05:00:00Z', '2026-03-20T09:00:00Z', true],
    ['2026-03-20T00:00:00Z', '2026-03-25T00:00:00Z', true],
    ['2026-03-20T05:17:23Z', '2026-05-16T13:45:10Z', false],
  ])('splits %s … %s (days: %s) into disjoint covering segments', (a, b, days) => {
    const from = new Date(a);
    const to = new Date(b);
    const segs = planSegments(from, to, days);
    expect(segs[0]!.from).toEqual(from);
    expect(segs[segs.length - 1]!.to).toEqual(to);
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.from).toEqual(segs[i - 1]!.to);
    for (const s of segs) {
      if (s.grain === 'day') expect(s.from.getTime() % 86_400_000 + (s.to.getTime() % 86_400_000)).toBe(0);
      if (s.grain === 'hour') expect(s.from.getTime() % 3_600_000 + (s.to.getTime() % 3_600_000)).toBe(0);
      if (s.grain === 'raw') expect(s.to.getTime() - s.from.getTime()).toBeLessThan(3_600_000);
    }
    if (!days) expect(segs.some((s) => s.grain === 'day')).toBe(false);
  });
});

describe('RFM', () => {
  it('scores quintiles with mid-ranks for ties', () => {
    const pop = Float64Array.from([1, 1, 1, 1, 2, 3, 4, 5, 6, 7]);
    expect(score(pop, 1)).toBe(2); // mid-rank 0.2 → second quintile
    expect(score(pop, 7)).toBe(5);
    expect(score(pop, 0)).toBe(1);
  });
  it('maps scores to segments', () => {
    expect(segmentOf({ recencyDays: 1, frequency: 9, monetary: 900, r: 5, f: 5, m: 5 }, 50)).toBe('CHAMPION');
    expect(segmentOf({ recencyDays: 200, frequency: 1, monetary: 10, r: 1, f: 1, m: 1 }, 3)).toBe('HIBERNATING');
    expect(segmentOf({ recencyDays: null, frequency: 0, monetary: 0, r: null, f: null, m: null }, 3)).toBe('BROWSER');
  });
});
