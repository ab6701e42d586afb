/**
 * Deterministic synthetic commerce data with real spatio-temporal structure: cities of different
 * sizes, daily and weekly rhythms with growth and one flash-sale day, regional category
 * preferences, price sensitivity, item-to-item transitions, view → cart → purchase funnels,
 * and reviews whose rating and text follow product quality. Same options → same rows.
 */
import {
  ADJECTIVES, BRANDS, CATEGORIES, CITIES, type City, HOURLY_PROFILE, REVIEW_PHRASES, WEEKDAY_PROFILE,
} from './demo-world';
import { Random, WeightedTable } from './random';

export interface DemoOptions {
  readonly seed: number;
  /** Behaviour events to generate (exact). */
  readonly events: number;
  /** Events end before this instant; defaults to the start of today (UTC). */
  readonly anchor: Date;
  /** Days of history. Defaults to 90. */
  readonly days: number;
}

export interface DemoUser {
  readonly externalId: string;
  readonly name: string;
  readonly email: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly createdAt: Date;
  readonly city: number;
  readonly priceSensitivity: number;
  readonly activity: number;
  readonly categoryWeights: readonly number[];
}

export interface DemoProduct {
  readonly externalId: string;
  readonly name: string;
  readonly description: string;
  readonly price: number;
  readonly stock: number;
  readonly category: number;
  readonly city: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly quality: number;
  readonly next: readonly number[];
}

export interface DemoEvent {
  readonly key: string;
  readonly user: number;
  readonly product: number | null;
  readonly type: 'view' | 'search' | 'cart' | 'purchase' | 'favorite';
  readonly at: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly session: string;
  readonly quantity: number;
  readonly price: number | null;
  readonly query: string | null;
}

export interface DemoReview {
  readonly user: number;
  readonly product: number;
  readonly rating: number;
  readonly body: string;
  readonly createdAt: Date;
}

export interface DemoWorld {
  readonly users: DemoUser[];
  readonly products: DemoProduct[];
}

const FIRST_NAMES = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elisa', 'Felipe', 'Gabriela', 'Hugo', 'Isabela', 'João', 'Larissa', 'Marcos', 'Natália', 'Otávio', 'Paula', 'Rafael', 'Sofia', 'Tiago', 'Vitória', 'Wagner'];
const DAY_MS = 86_400_000;

export function demoSizes(events: number): { users: number; products: number } {
  return {
    users: Math.max(200, Math.min(300_000, Math.round(events / 40))),
    products: Math.max(300, Math.min(6_000, Math.round(events / 120))),
  };
}

export function startOfUtcDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

/** A point `km`-scale gaussian around (lat, lng). */
function jitter(rng: Random, lat: number, lng: number, km: number): [number, number] {
  const dLat = (rng.normal() * km) / 111.32;
  const dLng = (rng.normal() * km) / (111.32 * Math.cos((lat * Math.PI) / 180));
  return [round6(lat + dLat), round6(lng + dLng)];
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function generateWorld(opts: DemoOptions): DemoWorld {
  const rng = new Random(opts.seed);
  const sizes = demoSizes(opts.events);
  const cityTable = new WeightedTable(CITIES.map((c) => c.weight));

  const products: DemoProduct[] = [];
  for (let i = 0; i < sizes.products; i++) {
    const category = i % CATEGORIES.length;
    const def = CATEGORIES[category]!;
    const city = cityTable.draw(rng);
    const c = CITIES[city]!;
    const noun = rng.pick(def.nouns);
    const [lat, lng] = jitter(rng, c.latitude, c.longitude, c.spreadKm * 0.6);
    const name = `${rng.pick(BRANDS)} ${rng.pick(ADJECTIVES)} ${noun}`;
    products.push({
      externalId: `demo-p${i + 1}`,
      name,
      description: `${name}: a ${def.name.toLowerCase()} product sold from ${c.name}.`,
      price: Math.round(rng.logNormal(def.medianPrice, 0.55) * 100) / 100,
      stock: rng.chance(0.06) ? 0 : 1 + rng.int(200),
      category,
      city,
      latitude: lat,
      longitude: lng,
      quality: Math.min(0.98, Math.max(0.05, 0.62 + 0.22 * rng.normal())),
      next: [],
    });
  }
  // Item-to-item transitions: two in the same category, one in the complement category.
  const byCategory = CATEGORIES.map((_, k) => products.map((p, i) => (p.category === k ? i : -1)).filter((i) => i >= 0));
  const catIndex = new Map(CATEGORIES.map((c, k) => [c.code, k]));
  for (const p of products) {
    const same = byCategory[p.category]!;
    const comp = byCategory[catIndex.get(CATEGORIES[p.category]!.complement) ?? p.category]!;
    (p.next as number[]).push(rng.pick(same), rng.pick(same), rng.pick(comp));
  }

  const users: DemoUser[] = [];
  const historyStart = opts.anchor.getTime() - opts.days * DAY_MS;
  for (let i = 0; i < sizes.users; i++) {
    const city = cityTable.draw(rng);
    const c = CITIES[city]!;
    const [lat, lng] = jitter(rng, c.latitude, c.longitude, c.spreadKm);
    const first = rng.pick(FIRST_NAMES);
    users.push({
      externalId: `demo-u${i + 1}`,
      name: `${first} ${String.fromCharCode(65 + rng.int(26))}.`,
      email: `${first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${i + 1}@example.com`,
      latitude: lat,
      longitude: lng,
      createdAt: new Date(historyStart - rng.int(180) * DAY_MS),
      city,
      priceSensitivity: Math.min(1, Math.max(0, 0.5 + 0.25 * rng.normal())),
      activity: rng.logNormal(1, 0.8),
      categoryWeights: CATEGORIES.map((def) => (c.preferences[def.code] ?? 1) * rng.logNormal(1, 0.7)),
    });
  }
  return { users, products };
}

/** Session start slots (local day × hour) weighted by weekly and daily rhythm, growth and a flash sale. */
function slotTable(opts: DemoOptions): { table: WeightedTable; flashDay: number } {
  const start = opts.anchor.getTime() - opts.days * DAY_MS;
  const flashDay = Math.floor(opts.days * 0.7);
  const weights: number[] = [];
  for (let d = 0; d < opts.days; d++) {
    const dow = new Date(start + d * DAY_MS).getUTCDay();
    const growth = 1 + (0.35 * d) / opts.days;
    const flash = d === flashDay ? 2.6 : 1;
    for (let h = 0; h < 24; h++) weights.push(WEEKDAY_PROFILE[dow]! * HOURLY_PROFILE[h]! * growth * flash);
  }
  return { table: new WeightedTable(weights), flashDay };
}

/**
 * Yields events (and the reviews that purchases lead to) user by user, cycling over users until
 * exactly `opts.events` events exist. Memory stays bounded for 10M-event seeds.
 */
export function* generateActivity(world: DemoWorld, opts: DemoOptions): Generator<{ events: DemoEvent[]; reviews: DemoReview[] }> {
  const rng = new Random(opts.seed ^ 0x5eed);
  const { table } = slotTable(opts);
  const start = opts.anchor.getTime() - opts.days * DAY_MS;
  const popularity = new Map<string, WeightedTable>();
  const members = new Map<string, number[]>();
  world.products.forEach((p, i) => {
    for (const key of [`${p.category}`, `${p.category}:${p.city}`]) {
      if (!members.has(key)) members.set(key, []);
      members.get(key)!.push(i);
    }
  });
  for (const [key, list] of members) {
    // Zipf-like popularity by a fixed order, boosted by quality.
    popularity.set(key, new WeightedTable(list.map((i, r) => (0.4 + world.products[i]!.quality) / Math.pow(r + 1, 0.8))));
  }
  const pickProduct = (category: number, city: number): number => {
    const local = `${category}:${city}`;
    const key = rng.chance(0.55) && members.has(local) ? local : `${category}`;
    return members.get(key)![popularity.get(key)!.draw(rng)]!;
  };

  const meanSessionEvents = 5.5;
  const totalActivity = world.users.reduce((a, u) => a + u.activity, 0);
  const perActivity = opts.events / (totalActivity * meanSessionEvents);
  const reviewed = new Set<string>();
  let emitted = 0;
  let seq = 0;
  for (let pass = 0; emitted < opts.events; pass++) {
    for (let ui = 0; ui < world.users.length && emitted < opts.events; ui++) {
      const u = world.users[ui]!;
      const city: City = CITIES[u.city]!;
      const catTable = new WeightedTable(u.categoryWeights);
      const expected = u.activity * perActivity;
      const sessions = pass === 0 ? Math.floor(expected) + (rng.chance(expected % 1) ? 1 : 0) : rng.chance(0.3) ? 1 : 0;
      const events: DemoEvent[] = [];
      const reviews: DemoReview[] = [];
      for (let s = 0; s < sessions && emitted + events.length < opts.events; s++) {
        const slot = table.draw(rng);
        let t = start + Math.floor(slot / 24) * DAY_MS + ((slot % 24) - city.utcOffset) * 3_600_000 + rng.int(3_600_000);
        const [lat, lng] = rng.chance(0.7)
          ? jitter(rng, u.latitude, u.longitude, 1.5)
          : jitter(rng, city.latitude, city.longitude, city.spreadKm);
        const session = `demo-s${ui + 1}-${pass}-${s}`;
        const emit = (type: DemoEvent['type'], product: number | null, quantity = 1, query: string | null = null) => {
          t += 15_000 + rng.int(150_000);
          if (t >= opts.anchor.getTime() || emitted + events.length >= opts.events) return false;
          events.push({
            key: `demo-e${++seq}`, user: ui, product, type, at: t, latitude: lat, longitude: lng, session, quantity,
            price: product === null ? null : world.products[product]!.price, query,
          });
          return true;
        };
        const category = catTable.draw(rng);
        if (rng.chance(0.3)) emit('search', null, 1, rng.pick(CATEGORIES[category]!.nouns));
        let current = pickProduct(category, u.city);
        const length = rng.geometric(4);
        for (let v = 0; v < length; v++) {
          const p = world.products[current]!;
          if (!emit('view', current)) break;
          if (rng.chance(0.03)) emit('favorite', current);
          const relPrice = p.price / CATEGORIES[p.category]!.medianPrice;
          const priceFactor = Math.min(2, Math.max(0.2, Math.exp(-1.5 * u.priceSensitivity * (relPrice - 1))));
          if (rng.chance(0.11 * (0.4 + p.quality) * priceFactor)) {
            emit('cart', current);
            if (rng.chance(0.5)) {
              const qty = rng.chance(0.88) ? 1 : 2 + rng.int(2);
              if (emit('purchase', current, qty)) {
                const pair = `${ui}:${current}`;
                const reviewAt = t + (1 + rng.int(10)) * DAY_MS;
                if (!reviewed.has(pair) && rng.chance(0.35) && reviewAt < opts.anchor.getTime()) {
                  reviewed.add(pair);
                  reviews.push(makeReview(rng, ui, current, p, new Date(reviewAt)));
                }
              }
            }
          }
          current = rng.chance(0.6) ? rng.pick(p.next) : pickProduct(catTable.draw(rng), u.city);
        }
      }
      emitted += events.length;
      if (events.length || reviews.length) yield { events, reviews };
    }
    if (pass > 50) break; // safety: cannot happen with positive activity
  }
}

function makeReview(rng: Random, user: number, product: number, p: DemoProduct, createdAt: Date): DemoReview {
  const rating = Math.min(5, Math.max(1, Math.round(1 + 4 * p.quality + 0.9 * rng.normal())));
  const tone = rating >= 4 ? 'positive' : rating === 3 ? 'neutral' : 'negative';
  const noun = p.name.split(' ').slice(2).join(' ');
  return { user, product, rating, body: rng.pick(REVIEW_PHRASES[tone]).replace('{noun}', noun), createdAt };
}

/** A circle-ish polygon (GeoJSON, lon/lat) around a city, for the demo's region outlines. */
export function cityRegion(c: City, vertices = 24): { type: 'Polygon'; coordinates: number[][][] } {
  const radiusKm = c.spreadKm * 3;
  const ring: number[][] = [];
  for (let i = 0; i < vertices; i++) {
    const a = (2 * Math.PI * i) / vertices;
    const lat = c.latitude + (radiusKm / 111.32) * Math.sin(a);
    const lng = c.longitude + (radiusKm / (111.32 * Math.cos((c.latitude * Math.PI) / 180))) * Math.cos(a);
    ring.push([round6(lng), round6(lat)]);
  }
  ring.push(ring[0]!);
  return { type: 'Polygon', coordinates: [ring] };
}
