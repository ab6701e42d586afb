/** Pure units of the serving path: feature builders, horizon interpolation, batching helpers, ONNX header, re-ranking. */
import { readOpsetImports } from '../../src/inference/onnx-opset';
import { concatBatch, float32, int64, splitBatch } from '../../src/inference/tensor';
import { behaviorFeatures, type BehaviorEventRow, KNOWN_PROFILE_FEATURES } from '../../src/predict/behavior-features';
import { purchaseProbabilityAt } from '../../src/predict/purchase-horizon';
import { mostSimilar, mostSimilarMemo } from '../../src/recommend/item-similarity';
import { cellBucket, hourOfWeek, itemSequence } from '../../src/recommend/next-item-features';
import { type Candidate, rerank } from '../../src/recommend/rerank';
import { RegionActivity } from '../../src/recommend/region-activity';
import { cellToLatLng, latLngToCell, gridDisk } from 'h3-js';
import { haversineMeters } from '../../src/common/geo';

const SPEC = {
  maxLen: 4,
  eventTypeIndex: { view: 1, search: 2, cart: 3, purchase: 4, favorite: 5 },
  profileFeatures: KNOWN_PROFILE_FEATURES,
};
const H = 3_600_000;
const NOW = Date.parse('2026-05-27T12:30:00Z'); // a Wednesday
const f = (p: Float32Array, name: string) => p[KNOWN_PROFILE_FEATURES.indexOf(name)]!;

describe('behavior features', () => {
  const events: BehaviorEventRow[] = [
    { type: 'view', productId: '7', occurredAt: NOW - 40 * 24 * H, price: 10, quantity: 1 },
    { type: 'view', productId: '1', occurredAt: NOW - 3 * 24 * H, price: 10, quantity: 1 },
    { type: 'cart', productId: '1', occurredAt: NOW - 2 * H, price: 10, quantity: 1 },
    { type: 'purchase', productId: '1', occurredAt: NOW - 1 * H, price: 10, quantity: 3 },
    { type: 'search', productId: null, occurredAt: NOW - 0.5 * H, price: null, quantity: 1 },
    { type: 'view', productId: '2', occurredAt: NOW + H, price: 5, quantity: 1 }, // after now: ignored
  ];

  it('left-pads the last L events with their type index and log1p age in hours', () => {
    const r = behaviorFeatures(events, null, NOW, SPEC);
    expect(Array.from(r.eventTypes, Number)).toEqual([1, 3, 4, 2]);
    expect(r.eventAges[3]).toBeCloseTo(Math.log1p(0.5), 6);
    expect(r.eventAges[0]).toBeCloseTo(Math.log1p(72), 5);
    const short = behaviorFeatures(events.slice(0, 2), null, NOW, { ...SPEC, maxLen: 4 });
    expect(Array.from(short.eventTypes, Number)).toEqual([0, 0, 1, 1]);
    expect(short.eventAges[0]).toBe(0);
  });

  it('counts, per event, the earlier events on the same product among the L read', () => {
    // L = 4 reads view 1, cart 1, purchase 1, search (no product); the view of 7 is outside
    const r = behaviorFeatures(events, null, NOW, SPEC);
    expect(Array.from(r.eventItemRepeats)).toEqual([0, Math.log1p(1), Math.log1p(2), 0].map(Math.fround));
    const all = behaviorFeatures([...events.slice(0, 1), ...events.slice(0, 4)], null, NOW, { ...SPEC, maxLen: 8 });
    expect(Array.from(all.eventItemRepeats)).toEqual([0, 0, 0, 0, Math.log1p(1), 0, Math.log1p(1), Math.log1p(2)].map(Math.fround));
  });

  it('computes recency, window counts, distinct items, first seen and spend as the trainer defines them', () => {
    const r = behaviorFeatures(events, NOW - 100 * 24 * H, NOW, SPEC);
    expect(f(r.profile, 'hours_since_last_event')).toBeCloseTo(Math.log1p(0.5), 5);
    expect(f(r.profile, 'hours_since_last_view')).toBeCloseTo(Math.log1p(72), 5);
    expect(f(r.profile, 'hours_since_last_cart')).toBeCloseTo(Math.log1p(2), 5);
    expect(f(r.profile, 'count_view_1d')).toBe(0);
    expect(f(r.profile, 'count_view_7d')).toBeCloseTo(Math.log1p(1), 6);
    expect(f(r.profile, 'count_view_30d')).toBeCloseTo(Math.log1p(1), 6); // the 40-day-old view is outside
    expect(f(r.profile, 'count_search_1d')).toBeCloseTo(Math.log1p(1), 6);
    expect(f(r.profile, 'distinct_items_7d')).toBeCloseTo(Math.log1p(1), 6);
    expect(f(r.profile, 'days_since_first_seen')).toBeCloseTo(Math.log1p(100), 5); // created_at is earlier than the first event
    expect(f(r.profile, 'spend_30d')).toBeCloseTo(Math.log1p(30), 5);
    expect(f(r.profile, 'hour_sin')).toBeCloseTo(Math.sin((2 * Math.PI * 12.5) / 24), 6);
    expect(f(r.profile, 'dow_cos')).toBeCloseTo(Math.cos((2 * Math.PI * 2) / 7), 6); // Wednesday = 2
  });

  it('caps recency at 720 hours and treats a user without events as never seen', () => {
    const r = behaviorFeatures([], NOW - 5 * 24 * H, NOW, SPEC);
    expect(f(r.profile, 'hours_since_last_purchase')).toBeCloseTo(Math.log1p(720), 6);
    expect(f(r.profile, 'days_since_first_seen')).toBe(0);
    expect(Array.from(r.eventTypes, Number)).toEqual([0, 0, 0, 0]);
  });
});

describe('purchase horizon interpolation', () => {
  const horizons = [1, 3, 7, 14, 30];
  const probs = [0.05, 0.12, 0.2, 0.3, 0.45];

  it('reproduces the model at its horizons and is monotone between and beyond them', () => {
    horizons.forEach((h, i) => expect(purchaseProbabilityAt(horizons, probs, h)).toBeCloseTo(probs[i]!, 9));
    let prev = 0;
    for (let h = 0.5; h <= 200; h += 0.5) {
      const p = purchaseProbabilityAt(horizons, probs, h);
      expect(p).toBeGreaterThanOrEqual(prev - 1e-12);
      expect(p).toBeLessThan(1);
      prev = p;
    }
    expect(purchaseProbabilityAt(horizons, probs, 2)).toBeGreaterThan(0.05);
    expect(purchaseProbabilityAt(horizons, probs, 2)).toBeLessThan(0.12);
    expect(purchaseProbabilityAt(horizons, probs, 0)).toBe(0);
  });

  it('follows a constant hazard within a segment', () => {
    // S(2) = sqrt(S(1)·S(3)) when log S is linear on [1, 3].
    const s = Math.sqrt((1 - 0.05) * (1 - 0.12));
    expect(purchaseProbabilityAt(horizons, probs, 2)).toBeCloseTo(1 - s, 9);
  });
});

describe('next-item features', () => {
  const indexOf = new Map([['10', 1], ['11', 2], ['12', 3]]);
  it('filters, collapses runs, drops unknown items and left-pads', () => {
    const events = [
      { type: 'view', productId: '10' },
      { type: 'search', productId: null },
      { type: 'view', productId: '10' },
      { type: 'cart', productId: '99' },
      { type: 'view', productId: '11' },
      { type: 'purchase', productId: '11' },
      { type: 'view', productId: '12' },
    ];
    const r = itemSequence(events, { maxLen: 5, eventTypes: ['view', 'cart', 'purchase'], dedupeConsecutive: true }, indexOf);
    expect(Array.from(r.seq, Number)).toEqual([0, 0, 1, 2, 3]);
    expect(r.productIds).toEqual(['10', '11', '12']);
    const noDedupe = itemSequence(events, { maxLen: 3, eventTypes: ['view'], dedupeConsecutive: false }, indexOf);
    expect(Array.from(noDedupe.seq, Number)).toEqual([1, 2, 3]);
  });

  it('numbers hours of week from Monday 00:00 UTC', () => {
    expect(hourOfWeek(new Date('2026-06-01T00:30:00Z'))).toBe(0); // Monday
    expect(hourOfWeek(new Date('2026-05-31T23:59:00Z'))).toBe(167); // Sunday
    expect(hourOfWeek(new Date('1970-01-01T05:00:00Z'))).toBe(3 * 24 + 5); // Thursday
  });

  it('buckets locations like the trainer', () => {
    // row = floor((−23.55 + 90) / 0.5) = 132, col = floor((−46.63 + 180) / 0.5) = 266, ncols = 720
    expect(cellBucket(-23.55, -46.63, 256, 0.5)).toBe(1 + ((132 * 720 + 266) % 255));
    expect(cellBucket(null, -46.63, 256, 0.5)).toBe(0);
    expect(cellBucket(10, 10, 0, 0.5)).toBe(0);
  });
});

describe('similar items', () => {
  // 300 random unit rows (row 0 = padding) with many exact ties: coordinates on a coarse grid.
  const rows = 301;
  const dim = 4;
  const unit = new Float32Array(rows * dim);
  let x = 7;
  for (let r = 1; r < rows; r++) {
    let n = 0;
    for (let d = 0; d < dim; d++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      unit[r * dim + d] = (x % 5) - 2;
      n += unit[r * dim + d]! ** 2;
    }
    for (let d = 0; d < dim; d++) unit[r * dim + d] = n ? unit[r * dim + d]! / Math.sqrt(n) : 0;
  }
  const emb = { rows, dim, unit };

  it('memoised neighbours equal a fresh scan for every k, ties included, whichever k came first', () => {
    for (const item of [1, 17, 150, 300]) {
      for (const k of [30, 5, 20, 50, 1]) expect(mostSimilarMemo(emb, item, k)).toEqual(mostSimilar(emb, item, k));
    }
    const tiny = { rows: 4, dim, unit: unit.slice(0, 4 * dim) };
    expect(mostSimilarMemo(tiny, 1, 10)).toEqual(mostSimilar(tiny, 1, 10));
    expect(mostSimilarMemo(tiny, 1, 10)).toHaveLength(2);
    expect(mostSimilarMemo(emb, 0, 5)).toEqual([]);
  });
});

describe('micro-batch tensors', () => {
  it('concatenates along the batch axis, right-pads ragged token rows and splits back', () => {
    const a = { ids: int64(BigInt64Array.from([1n, 2n, 3n]), [1, 3]), x: float32(Float32Array.from([1, 2]), [1, 2]) };
    const b = { ids: int64(BigInt64Array.from([4n, 5n, 6n, 7n, 8n]), [1, 5]), x: float32(Float32Array.from([3, 4]), [1, 2]) };
    const merged = concatBatch([a, b]);
    expect(merged.ids!.dims).toEqual([2, 5]);
    expect(Array.from(merged.ids!.data as BigInt64Array, Number)).toEqual([1, 2, 3, 0, 0, 4, 5, 6, 7, 8]);
    const [ra, rb] = splitBatch({ y: float32(Float32Array.from([9, 8, 7, 6, 5, 4]), [3, 2]) }, [1, 2]);
    expect(Array.from(ra!.y!.data as Float32Array)).toEqual([9, 8]);
    expect(rb!.y!.dims).toEqual([2, 2]);
    expect(Array.from(rb!.y!.data as Float32Array)).toEqual([7, 6, 5, 4]);
  });
});

describe('ONNX header', () => {
  it('reads opset imports and rejects truncated bytes', () => {
    // ModelProto { ir_version: 8, opset_import: { domain: "", version: 17 } }
    const bytes = Uint8Array.from([0x08, 0x08, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x11]);
    expect(readOpsetImports(bytes)).toEqual([{ domain: '', version: 17 }]);
    expect(() => readOpsetImports(bytes.subarray(0, 5))).toThrow();
  });
});

describe('re-ranking', () => {
  const base: Candidate = {
    productId: '1', name: 'A', categoryId: 'c1', stock: 5, seqProb: 0, similarity: 0, similarTo: null, weekScore: 0,
    hourScore: 0, areaRadiusKm: 5, sentiment: null, positiveShare: null, sentimentReviews: 0, ratingAverage: null, ratingCount: 0, purchased: false,
  };
  const ctx = { lastItemName: 'Acme Phone', lastItemAction: 'view', at: new Date('2026-05-29T19:00:00Z') };

  it('orders by the weighted signals, penalises stock-outs and explains the strongest signal', () => {
    const ranked = rerank(
      [
        { ...base, productId: '1', seqProb: 0.2 },
        { ...base, productId: '2', weekScore: 50, categoryId: 'c2' },
        { ...base, productId: '3', seqProb: 0.3, stock: 0, categoryId: 'c3' },
        { ...base, productId: '4', ratingAverage: 4.6, ratingCount: 120, weekScore: 5, categoryId: 'c4' },
      ],
      ctx,
      4,
    );
    expect(ranked.map((r) => r.productId)).toEqual(['1', '2', '4', '3']);
    expect(ranked[0]!.reason).toBe('follows your recent views of Acme Phone');
    expect(ranked[1]!.reason).toBe('popular within 5 km this week');
    expect(ranked[2]!.reasons).toContain('rated 4.6 by 120 buyers');
  });

  it('keeps at most a third of the list in one category while others remain', () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ ...base, productId: String(i), seqProb: 1 - i / 10, categoryId: i < 5 ? 'same' : 'other' }));
    const ranked = rerank(many, ctx, 3);
    expect(ranked.filter((r) => r.productId !== '5')).toHaveLength(2);
    expect(ranked.map((r) => r.productId)).toContain('5');
  });
});

describe('region activity', () => {
  /** The plain reference: sum each product over the cells whose centres are within the radius. */
  function reference(rows: { productId: string; cell: string; weekScore: number; hourScore: number }[], center: { latitude: number; longitude: number }, km: number, limit: number) {
    const sums = new Map<string, { week: number; hour: number }>();
    for (const r of rows) {
      const [latitude, longitude] = cellToLatLng(BigInt(r.cell).toString(16));
      if (haversineMeters(center, { latitude, longitude }) > km * 1000) continue;
      const s = sums.get(r.productId) ?? { week: 0, hour: 0 };
      s.week += r.weekScore;
      s.hour += r.hourScore;
      sums.set(r.productId, s);
    }
    return [...sums]
      .filter(([, v]) => v.week > 0 || v.hour > 0)
      .sort(([a, x], [b, y]) => y.week - x.week || y.hour - x.hour || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([productId, v]) => ({ productId, weekScore: v.week, hourScore: v.hour }));
  }

  it('ranks the products of the cells within a radius like a plain sum over the rows, ties and zero rows included', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const cells = gridDisk(latLngToCell(52.52, 13.405, 9), 12).map((h) => BigInt(`0x${h}`).toString());
    const rows = [];
    for (const cell of cells) {
      for (let j = 0; j < 6; j++) {
        // Integer scores from a few products make ties common; some rows are all zero.
        rows.push({ productId: String(1 + Math.floor(rand() * 40)), cell, weekScore: Math.floor(rand() * 4), hourScore: Math.floor(rand() * 3) });
      }
    }
    const region = new RegionActivity(rows);
    for (const [lat, lng, km, limit] of [[52.52, 13.405, 1, 60], [52.53, 13.39, 0.6, 10], [52.5, 13.45, 50, 60], [52.52, 13.405, 0.05, 5], [48.1, 11.6, 5, 60]] as const) {
      const center = { latitude: lat, longitude: lng };
      expect(region.top(center, km, limit)).toEqual(reference(rows, center, km, limit));
      expect(region.top(center, km, limit)).toEqual(reference(rows, center, km, limit)); // the scratch arrays were reset
    }
    expect(region.top({ latitude: 52.52, longitude: 13.405 }, 50, 100).length).toBeGreaterThan(30);
    // Across the antimeridian and next to a pole, where a shortcut in plain degrees would go wrong.
    for (const [lat, lng, centerLng] of [[-16.5, 179.99, -179.995], [89.7, 30, -150]] as const) {
      const edge = gridDisk(latLngToCell(lat, lng, 9), 6).map((h) => ({ productId: h.slice(-3), cell: BigInt(`0x${h}`).toString(), weekScore: 1, hourScore: 0 }));
      const r = new RegionActivity(edge);
      for (const km of [0.5, 2, 80]) {
        const center = { latitude: lat, longitude: centerLng };
        expect(r.top(center, km, 500)).toEqual(reference(edge, center, km, 500));
      }
      expect(r.top({ latitude: lat, longitude: centerLng }, 80, 500).length).toBeGreaterThan(0);
    }
    expect(new RegionActivity([]).top({ latitude: 0, longitude: 0 }, 50, 10)).toEqual([]);
  });
});

describe('serving caches', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const dbDown = async (): Promise<never> => {
    throw new Error('db down');
  };
  /** For an entry of a 1 s TTL cache: past half the TTL a failed background reload is not surfaced, and the entry still expires. */
  async function failedReloadThenExpiry(read: () => Promise<unknown>, cached: unknown): Promise<void> {
    await sleep(600);
    expect(await read()).toEqual(cached);
    await sleep(600);
    await expect(read()).rejects.toThrow('db down');
  }

  it('loads each missing key once for concurrent callers and expires entries after the TTL', async () => {
    const { TtlCache } = await import('../../src/common/ttl-cache');
    const cache = new TtlCache<string, number>(400);
    const loads: string[][] = [];
    const load = async (keys: string[]) => {
      loads.push(keys);
      await new Promise((r) => setTimeout(r, 10));
      return keys.map(Number);
    };
    const [a, b] = await Promise.all([cache.getMany(['1', '2', '3'], load), cache.getMany(['2', '3', '4'], load)]);
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([2, 3, 4]);
    expect(loads.flat().sort()).toEqual(['1', '2', '3', '4']);
    expect(await cache.getMany(['1', '4'], load)).toEqual([1, 4]);
    expect(loads).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 450));
    await cache.getMany(['1'], load);
    expect(loads).toHaveLength(3);
  });

  it('getMany refreshes ahead: hits past half the TTL are answered at once and reloaded together in the background', async () => {
    const { TtlCache } = await import('../../src/common/ttl-cache');
    const cache = new TtlCache<string, number>(1_000);
    const loads: string[][] = [];
    let gen = 0;
    const load = async (keys: string[]) => {
      loads.push(keys);
      const g = ++gen;
      await new Promise((r) => setTimeout(r, 5));
      return keys.map((k) => Number(k) * 10 + g);
    };
    expect(await cache.getMany(['1', '2'], load)).toEqual([11, 21]);
    await sleep(600);
    // Both entries are past half the TTL: answered from the cache, the miss loaded as usual, and one
    // background load for both stale keys once the gathering window has passed.
    expect(await Promise.all([cache.getMany(['1', '2', '3'], load), cache.getMany(['2', '1'], load)])).toEqual([[11, 21, 32], [21, 11]]);
    await sleep(100);
    expect(loads.map((k) => [...k].sort())).toEqual([['1', '2'], ['3'], ['1', '2']]);
    expect(await cache.getMany(['1', '2', '3'], load)).toEqual([13, 23, 32]);
    await failedReloadThenExpiry(() => cache.getMany(['1'], dbDown), [13]);
  }, 10_000);

  it('getMany gathers the keys that go stale across calls into one background reload', async () => {
    const { TtlCache } = await import('../../src/common/ttl-cache');
    const cache = new TtlCache<string, number>(1_000);
    const loads: string[][] = [];
    const load = async (keys: string[]) => {
      loads.push([...keys].sort());
      return keys.map(Number);
    };
    await cache.getMany(['1', '2', '3'], load);
    await sleep(100);
    await cache.getMany(['4'], load);
    await sleep(550); // 1-3 went stale at 500 ms, 4 at 600 ms
    // Three requests a few ms apart, each touching other stale keys: one reload for all of them.
    expect(await cache.getMany(['1'], load)).toEqual([1]);
    await sleep(5);
    expect(await cache.getMany(['2', '4'], load)).toEqual([2, 4]);
    await sleep(5);
    expect(await cache.getMany(['3', '1'], load)).toEqual([3, 1]);
    await sleep(150);
    expect(loads).toEqual([['1', '2', '3'], ['4'], ['1', '2', '3', '4']]);
  });

  it('getOrLoad refreshes ahead: past half the TTL a hit starts one background reload; nothing is served past the TTL', async () => {
    const { TtlCache } = await import('../../src/common/ttl-cache');
    const cache = new TtlCache<string, number>(1_000);
    let loads = 0;
    const load = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return ++loads;
    };
    expect(await cache.getOrLoad('k', load)).toBe(1);
    expect(await cache.getOrLoad('k', load)).toBe(1);
    expect(loads).toBe(1); // young entry: no reload
    await sleep(600);
    // Older than half the TTL: answered from the entry at once, one reload starts for all callers.
    expect(await Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load)])).toEqual([1, 1]);
    await sleep(150);
    expect(loads).toBe(2);
    expect(await cache.getOrLoad('k', load)).toBe(2);
    await sleep(1_200); // expired, nobody asked meanwhile: the next caller waits for a fresh load
    expect(await cache.getOrLoad('k', load)).toBe(3);
    await failedReloadThenExpiry(() => cache.getOrLoad('k', dbDown), 3);
  }, 10_000);

  it('getOrLoad is single-flight: concurrent misses for one key share one load, a failed load is not cached', async () => {
    const { TtlCache } = await import('../../src/common/ttl-cache');
    const cache = new TtlCache<string, number>(1_000);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return 7;
    };
    expect(await Promise.all(Array.from({ length: 16 }, () => cache.getOrLoad('tile', load)))).toEqual(Array(16).fill(7));
    expect(loads).toBe(1);
    await expect(Promise.all([cache.getOrLoad('x', dbDown), cache.getOrLoad('x', dbDown)])).rejects.toThrow('db down');
    expect(await cache.getOrLoad('x', load)).toBe(7);
    expect(loads).toBe(2);
  });
});
