/**
 * User profiles, batched (one query per aspect for any number of users, for a DataLoader):
 * RFM segment by quintiles of the purchasing population, top categories, active hours of the week,
 * home cell and mobility radius (radius of gyration), price sensitivity and lifetime stats.
 *
 * Restricted callers (AnalyticsAccess.kAnonymity set) never get the home cell: it is one person's
 * location. The population quintiles are cached for a few minutes; they move slowly.
 */
import { cellToParent } from 'h3-js';
import type { DataSource } from 'typeorm';
import { haversineMeters } from '../common/geo';
import { isNumericId } from '../db/query-filters';
import type { AnalyticsAccess } from './analytics.model';
import { intToH3 } from './cells';
import { sphericalMean } from './distribution.service';
import { minUsers } from './privacy';
import { rows } from './sql';

export type Segment = 'CHAMPION' | 'LOYAL' | 'NEW' | 'POTENTIAL' | 'AT_RISK' | 'HIBERNATING' | 'BROWSER' | 'INACTIVE';

export interface RfmData {
  /** Days since the last purchase; null without purchases. */
  readonly recencyDays: number | null;
  /** Purchase events. */
  readonly frequency: number;
  /** Revenue of purchases. */
  readonly monetary: number;
  /** Quintile scores 1–5 against all purchasing users (5 = most recent / most / highest); null without purchases. */
  readonly r: number | null;
  readonly f: number | null;
  readonly m: number | null;
}

export interface CategoryAffinityData {
  readonly categoryId: string;
  readonly name: string;
  readonly events: number;
  readonly purchases: number;
  /** Share of the user's product events. */
  readonly share: number;
}

export interface ActiveHourData {
  /** 0 = Monday … 6 = Sunday (UTC). */
  readonly dayOfWeek: number;
  /** 0–23 (UTC). */
  readonly hour: number;
  readonly events: number;
  readonly share: number;
}

export interface LifetimeData {
  readonly firstSeen: Date | null;
  readonly lastSeen: Date | null;
  readonly events: number;
  readonly sessions: number;
  readonly activeDays: number;
  readonly purchases: number;
  readonly units: number;
  readonly revenue: number;
  readonly averageOrderValue: number | null;
}

export interface UserProfileData {
  readonly userId: string;
  readonly segment: Segment;
  readonly rfm: RfmData;
  readonly topCategories: CategoryAffinityData[];
  readonly activeHoursOfWeek: ActiveHourData[];
  /** H3 res-8 cell where the user is most often; null for restricted callers or without locations. */
  readonly homeCell: string | null;
  /** Radius of gyration of the user's event locations, km. */
  readonly mobilityRadiusKm: number | null;
  /**
   * Mean log price (relative to the category median) of items viewed minus that of items bought:
   * > 0 the user buys cheaper than they browse (price-sensitive), < 0 trades up. Null without both.
   */
  readonly priceSensitivity: number | null;
  /** Typical price paid relative to category medians (geometric mean; 1 = median). */
  readonly relativePriceLevel: number | null;
  readonly lifetime: LifetimeData;
}

interface Population {
  readonly at: number;
  readonly asOf: number;
  readonly recency: Float64Array;
  readonly frequency: Float64Array;
  readonly monetary: Float64Array;
}

const POPULATION_TTL_MS = 5 * 60_000;
const HOME_RESOLUTION = 8;

export class ProfileService {
  private population: Promise<Population> | null = null;

  constructor(private readonly ds: DataSource) {}

  /** Profiles in key order; unknown or invalid ids get an INACTIVE profile of zeros. */
  async profiles(userIds: readonly string[], access: AnalyticsAccess | null, now = new Date()): Promise<UserProfileData[]> {
    const ids = [...new Set(userIds.filter(isNumericId))];
    const restricted = minUsers(access) !== null;
    // One query after another: on the embedded database parallel statements on different
    // connections can interleave inside its single backend; the batch is small either way.
    const stats = await this.stats(ids);
    const cats = await this.categories(ids);
    const hours = await this.hours(ids);
    const places = await this.places(ids);
    const prices = await this.prices(ids);
    const pop = await this.populationAt(now);
    return userIds.map((id) => {
      const s = stats.get(id);
      const purchases = s?.purchases ?? 0;
      const recencyDays = s?.lastPurchase ? (pop.asOf - s.lastPurchase.getTime()) / 86_400_000 : null;
      const rfm: RfmData = {
        recencyDays,
        frequency: purchases,
        monetary: s?.revenue ?? 0,
        r: recencyDays === null ? null : score(pop.recency, -recencyDays),
        f: purchases ? score(pop.frequency, purchases) : null,
        m: purchases ? score(pop.monetary, s!.revenue) : null,
      };
      const pl = places.get(id) ?? [];
      const p = prices.get(id);
      return {
        userId: id,
        segment: segmentOf(rfm, s?.events ?? 0),
        rfm,
        topCategories: cats.get(id) ?? [],
        activeHoursOfWeek: hours.get(id) ?? [],
        homeCell: restricted ? null : homeCell(pl),
        mobilityRadiusKm: gyrationKm(pl),
        priceSensitivity: p && p.viewed !== null && p.bought !== null ? p.viewed - p.bought : null,
        relativePriceLevel: p ? Math.exp(p.bought ?? p.viewed ?? 0) : null,
        lifetime: {
          firstSeen: s?.first ?? null,
          lastSeen: s?.last ?? null,
          events: s?.events ?? 0,
          sessions: s?.sessions ?? 0,
          activeDays: s?.days ?? 0,
          purchases,
          units: s?.units ?? 0,
          revenue: s?.revenue ?? 0,
          averageOrderValue: purchases ? s!.revenue / purchases : null,
        },
      };
    });
  }

  private async stats(ids: string[]) {
    const found = await rows<{
      user_id: string; first: Date; last: Date; events: number; sessions: number; days: number;
      purchases: number; units: string; revenue: string; last_purchase: Date | null;
    }>(
      this.ds,
      `SELECT user_id::text AS user_id, min(occurred_at) AS first, max(occurred_at) AS last, count(*)::int AS events,
              count(DISTINCT session_id)::int AS sessions,
              count(DISTINCT date_trunc('day', occurred_at, 'UTC'))::int AS days,
              count(*) FILTER (WHERE type = 'purchase')::int AS purchases,
              coalesce(sum(quantity) FILTER (WHERE type = 'purchase'), 0)::text AS units,
              coalesce(sum(price * quantity) FILTER (WHERE type = 'purchase'), 0)::text AS revenue,
              max(occurred_at) FILTER (WHERE type = 'purchase') AS last_purchase
       FROM events WHERE user_id = ANY($1::bigint[]) GROUP BY user_id`,
      [ids],
    );
    return new Map(
      found.map((r) => [
        r.user_id,
        {
          first: new Date(r.first), last: new Date(r.last), events: r.events, sessions: r.sessions, days: r.days,
          purchases: r.purchases, units: Number(r.units), revenue: Number(r.revenue),
          lastPurchase: r.last_purchase ? new Date(r.last_purchase) : null,
        },
      ]),
    );
  }

  private async categories(ids: string[]): Promise<Map<string, CategoryAffinityData[]>> {
    const found = await rows<{ user_id: string; id: string; name: string; events: number; purchases: number }>(
      this.ds,
      `SELECT e.user_id::text AS user_id, c.id::text AS id, c.name, count(*)::int AS events,
              count(*) FILTER (WHERE e.type = 'purchase')::int AS purchases
       FROM events e JOIN products p ON p.id = e.product_id JOIN categories c ON c.id = p.category_id
       WHERE e.user_id = ANY($1::bigint[]) GROUP BY 1, 2, 3`,
      [ids],
    );
    const out = new Map<string, CategoryAffinityData[]>();
    for (const r of found) {
      if (!out.has(r.user_id)) out.set(r.user_id, []);
      out.get(r.user_id)!.push({ categoryId: r.id, name: r.name, events: r.events, purchases: r.purchases, share: 0 });
    }
    for (const [u, list] of out) {
      const total = list.reduce((a, c) => a + c.events, 0);
      out.set(
        u,
        list
          .map((c) => ({ ...c, share: c.events / total }))
          .sort((a, b) => b.purchases - a.purchases || b.events - a.events || (a.categoryId < b.categoryId ? -1 : 1))
          .slice(0, 5),
      );
    }
    return out;
  }

  private async hours(ids: string[]): Promise<Map<string, ActiveHourData[]>> {
    const found = await rows<{ user_id: string; dow: number; hour: number; events: number }>(
      this.ds,
      `SELECT user_id::text AS user_id, extract(isodow FROM occurred_at AT TIME ZONE 'UTC')::int - 1 AS dow,
              extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour, count(*)::int AS events
       FROM events WHERE user_id = ANY($1::bigint[]) GROUP BY 1, 2, 3`,
      [ids],
    );
    const out = new Map<string, ActiveHourData[]>();
    for (const r of found) {
      if (!out.has(r.user_id)) out.set(r.user_id, []);
      out.get(r.user_id)!.push({ dayOfWeek: r.dow, hour: r.hour, events: r.events, share: 0 });
    }
    for (const [u, list] of out) {
      const total = list.reduce((a, c) => a + c.events, 0);
      out.set(
        u,
        list
          .map((h) => ({ ...h, share: h.events / total }))
          .sort((a, b) => b.events - a.events || a.dayOfWeek - b.dayOfWeek || a.hour - b.hour)
          .slice(0, 5),
      );
    }
    return out;
  }

  private async places(ids: string[]): Promise<Map<string, { lat: number; lng: number; cell: string; n: number }[]>> {
    const found = await rows<{ user_id: string; lat: number; lng: number; cell: string; n: number }>(
      this.ds,
      `SELECT user_id::text AS user_id, ST_Y(location) AS lat, ST_X(location) AS lng, h3_r9::text AS cell, count(*)::int AS n
       FROM events WHERE user_id = ANY($1::bigint[]) AND location IS NOT NULL GROUP BY 1, 2, 3, 4`,
      [ids],
    );
    const out = new Map<string, { lat: number; lng: number; cell: string; n: number }[]>();
    for (const r of found) {
      if (!out.has(r.user_id)) out.set(r.user_id, []);
      out.get(r.user_id)!.push({ lat: Number(r.lat), lng: Number(r.lng), cell: r.cell, n: r.n });
    }
    return out;
  }

  /** Mean log relative price (price / category median price) of viewed and of bought items per user. */
  private async prices(ids: string[]): Promise<Map<string, { viewed: number | null; bought: number | null }>> {
    const found = await rows<{ user_id: string; viewed: number | null; bought: number | null }>(
      this.ds,
      `WITH med AS (
         SELECT category_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY price) AS m
         FROM products WHERE category_id IS NOT NULL AND price > 0 GROUP BY category_id)
       SELECT e.user_id::text AS user_id,
              avg(ln(e.price / med.m)) FILTER (WHERE e.type = 'view') AS viewed,
              avg(ln(e.price / med.m)) FILTER (WHERE e.type = 'purchase') AS bought
       FROM events e JOIN products p ON p.id = e.product_id JOIN med ON med.category_id = p.category_id
       WHERE e.user_id = ANY($1::bigint[]) AND e.price > 0 AND e.type IN ('view', 'purchase')
       GROUP BY 1`,
      [ids],
    );
    return new Map(found.map((r) => [r.user_id, { viewed: r.viewed === null ? null : Number(r.viewed), bought: r.bought === null ? null : Number(r.bought) }]));
  }

  private populationAt(now: Date): Promise<Population> {
    const cached = this.population;
    const load = async (): Promise<Population> => {
      const found = await rows<{ last: Date; n: number; revenue: string }>(
        this.ds,
        `SELECT max(occurred_at) AS last, count(*)::int AS n, coalesce(sum(price * quantity), 0)::text AS revenue
         FROM events WHERE type = 'purchase' GROUP BY user_id`,
      );
      const asOf = now.getTime();
      const sorted = (xs: number[]) => Float64Array.from(xs).sort();
      return {
        at: Date.now(),
        asOf,
        recency: sorted(found.map((r) => -(asOf - new Date(r.last).getTime()) / 86_400_000)),
        frequency: sorted(found.map((r) => r.n)),
        monetary: sorted(found.map((r) => Number(r.revenue))),
      };
    };
    if (cached) {
      return cached.then((p) => {
        if (Date.now() - p.at < POPULATION_TTL_MS) return p;
        this.population = load();
        return this.population;
      });
    }
    this.population = load();
    this.population.catch(() => {
      this.population = null;
    });
    return this.population;
  }
}

/** Quintile score 1–5 of v within the sorted population (mid-rank for ties). */
export function score(sorted: Float64Array, v: number): number {
  const n = sorted.length;
  if (n === 0) return 3;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  const below = lo;
  let eq = below;
  while (eq < n && sorted[eq] === v) eq++;
  const rank = (below + (eq - below) / 2) / n;
  return Math.min(5, 1 + Math.floor(rank * 5));
}

export function segmentOf(rfm: RfmData, events: number): Segment {
  if (rfm.r === null || rfm.f === null || rfm.m === null) return events > 0 ? 'BROWSER' : 'INACTIVE';
  const { r, f, m } = rfm;
  if (r >= 4 && f >= 4 && m >= 4) return 'CHAMPION';
  if (r >= 3 && f >= 3) return 'LOYAL';
  if (r >= 4) return 'NEW';
  if (r <= 2 && (f >= 3 || m >= 4)) return 'AT_RISK';
  if (r <= 2) return 'HIBERNATING';
  return 'POTENTIAL';
}

function homeCell(places: readonly { cell: string; n: number }[]): string | null {
  const counts = new Map<string, number>();
  for (const p of places) {
    const c = cellToParent(intToH3(p.cell), HOME_RESOLUTION);
    counts.set(c, (counts.get(c) ?? 0) + p.n);
  }
  let best: string | null = null;
  for (const [c, n] of counts) if (best === null || n > counts.get(best)! || (n === counts.get(best)! && c < best)) best = c;
  return best;
}

function gyrationKm(places: readonly { lat: number; lng: number; n: number }[]): number | null {
  const c = sphericalMean(places.map((p) => ({ latitude: p.lat, longitude: p.lng, w: p.n })));
  if (!c) return null;
  const total = places.reduce((a, p) => a + p.n, 0);
  const ms = places.reduce((a, p) => a + p.n * (haversineMeters(c, { latitude: p.lat, longitude: p.lng }) / 1000) ** 2, 0) / total;
  return Math.sqrt(ms);
}
