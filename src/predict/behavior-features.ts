/**
 * The behavior model's inputs from a user's events, exactly as trainer/meridian_trainer/
 * behavior_features.py defines them (the serving contract; test/serving/behavior-parity.test.ts
 * compares both on an exported snapshot). Pure: rows in, typed arrays out. Times in UTC.
 */
import type { EventTypeName } from '../events/event.entity';

export interface BehaviorEventRow {
  readonly type: EventTypeName;
  readonly productId: string | null;
  /** Epoch milliseconds. */
  readonly occurredAt: number;
  readonly price: number | null;
  readonly quantity: number;
}

export interface BehaviorSpec {
  /** L: events of history the model reads. */
  readonly maxLen: number;
  /** Event type → index (view 1, search 2, cart 3, purchase 4, favorite 5). */
  readonly eventTypeIndex: Readonly<Record<string, number>>;
  /** F names, in the model's order. */
  readonly profileFeatures: readonly string[];
}

export interface BehaviorFeatures {
  /** [L] int64, oldest → newest, left-padded with 0. */
  readonly eventTypes: BigInt64Array;
  /** [L] float32, log1p(hours between the event and now), 0 at padding. */
  readonly eventAges: Float32Array;
  /**
   * [L] float32, log1p(earlier events among these L on the same product), 0 at padding and for
   * events without a product. Fed only to models that list `event_item_repeats` as an input.
   */
  readonly eventItemRepeats: Float32Array;
  /** [F] float32, raw (the graph normalises). */
  readonly profile: Float32Array;
}

const HOUR_S = 3600;
const DAY_S = 86400;
const RECENCY_CAP_H = 720;
const WINDOWS: readonly (readonly [string, number])[] = [
  ['1d', DAY_S],
  ['7d', 7 * DAY_S],
  ['30d', 30 * DAY_S],
];
const COUNTED_TYPES: readonly EventTypeName[] = ['view', 'search', 'cart', 'purchase', 'favorite'];

/** Every profile feature this builder can compute; a manifest naming another is refused. */
export const KNOWN_PROFILE_FEATURES: readonly string[] = [
  'hours_since_last_event', 'hours_since_last_view', 'hours_since_last_cart', 'hours_since_last_purchase',
  ...COUNTED_TYPES.flatMap((t) => WINDOWS.map(([w]) => `count_${t}_${w}`)),
  'distinct_items_1d', 'distinct_items_7d', 'days_since_first_seen', 'spend_30d',
  'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos',
];

/**
 * `events` must be in time order (ties in insertion order, i.e. by id); those after `now` are
 * ignored. `createdAt` is users.created_at (epoch ms) or null.
 */
export function behaviorFeatures(
  events: readonly BehaviorEventRow[],
  createdAt: number | null,
  nowMs: number,
  spec: BehaviorSpec,
): BehaviorFeatures {
  const now = nowMs / 1000;
  const history = events.filter((e) => e.occurredAt <= nowMs);
  const ts = history.map((e) => e.occurredAt / 1000);
  const n = history.length;
  const L = spec.maxLen;

  const eventTypes = new BigInt64Array(L);
  const eventAges = new Float32Array(L);
  const eventItemRepeats = new Float32Array(L);
  const seen = new Map<string, number>();
  const start = Math.max(0, n - L);
  for (let i = start; i < n; i++) {
    const j = L - (n - start) + (i - start);
    const e = history[i]!;
    const idx = spec.eventTypeIndex[e.type];
    if (idx === undefined) throw new Error(`event type ${e.type} has no index in the manifest`);
    eventTypes[j] = BigInt(idx);
    eventAges[j] = Math.log1p(Math.max(now - ts[i]!, 0) / HOUR_S);
    if (e.productId) {
      const before = seen.get(e.productId) ?? 0;
      eventItemRepeats[j] = Math.log1p(before);
      seen.set(e.productId, before + 1);
    }
  }

  const since = (type: EventTypeName | null): number => {
    for (let i = n - 1; i >= 0; i--) {
      if (type === null || history[i]!.type === type) {
        const h = (now - ts[i]!) / HOUR_S;
        return Math.log1p(Math.min(Math.max(h, 0), RECENCY_CAP_H));
      }
    }
    return Math.log1p(RECENCY_CAP_H);
  };
  // First index inside the window (now - w, now]: events are sorted, so scan from the end.
  const windowStart = (seconds: number): number => {
    let lo = n;
    while (lo > 0 && ts[lo - 1]! > now - seconds) lo--;
    return lo;
  };

  const f = new Map<string, number>();
  f.set('hours_since_last_event', since(null));
  f.set('hours_since_last_view', since('view'));
  f.set('hours_since_last_cart', since('cart'));
  f.set('hours_since_last_purchase', since('purchase'));
  const lo = new Map(WINDOWS.map(([w, s]) => [w, windowStart(s)]));
  for (const t of COUNTED_TYPES) {
    for (const [w] of WINDOWS) {
      let c = 0;
      for (let i = lo.get(w)!; i < n; i++) if (history[i]!.type === t) c++;
      f.set(`count_${t}_${w}`, Math.log1p(c));
    }
  }
  for (const w of ['1d', '7d']) {
    const items = new Set<string>();
    for (let i = lo.get(w)!; i < n; i++) if (history[i]!.productId) items.add(history[i]!.productId!);
    f.set(`distinct_items_${w}`, Math.log1p(items.size));
  }
  const firstSeen = createdAt === null ? Number.POSITIVE_INFINITY : createdAt / 1000;
  const first = n > 0 ? Math.min(firstSeen, ts[0]!) : now;
  f.set('days_since_first_seen', Math.log1p(Math.min(Math.max(now - first, 0) / DAY_S, 365)));
  let spend = 0;
  for (let i = lo.get('30d')!; i < n; i++) {
    const e = history[i]!;
    if (e.type === 'purchase' && e.price !== null && Number.isFinite(e.price)) spend += e.price * e.quantity;
  }
  f.set('spend_30d', Math.log1p(Math.max(spend, 0)));
  const hod = (((now % DAY_S) + DAY_S) % DAY_S) / HOUR_S;
  const dow = (((Math.floor(now / DAY_S) + 3) % 7) + 7) % 7;
  f.set('hour_sin', Math.sin((2 * Math.PI * hod) / 24));
  f.set('hour_cos', Math.cos((2 * Math.PI * hod) / 24));
  f.set('dow_sin', Math.sin((2 * Math.PI * dow) / 7));
  f.set('dow_cos', Math.cos((2 * Math.PI * dow) / 7));

  const profile = new Float32Array(spec.profileFeatures.length);
  spec.profileFeatures.forEach((name, i) => {
    const v = f.get(name);
    if (v === undefined) throw new Error(`unknown profile feature ${name}`);
    profile[i] = v;
  });
  return { eventTypes, eventAges, eventItemRepeats, profile };
}
