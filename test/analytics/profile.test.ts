/**
 * User.profile over the seeded demo: lifetime stats equal direct SQL, the home cell is the user's
 * most frequent res-8 cell, RFM scores order users correctly, and a page of users costs the same
 * number of SQL statements whatever its size (one batched DataLoader round).
 */
import { cellToParent } from 'h3-js';
import type { App } from '../../src/app';
import { AnalyticsService } from '../../src/analytics/analytics.service';
import { intToH3 } from '../../src/analytics/cells';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { QueryCounter } from '../helpers/query-counter';

let db: Database;
let app: App;
let analytics: AnalyticsService;
const counter = new QueryCounter();
let buyer: string;

beforeAll(async () => {
  db = await openTestDatabase('default', counter);
  app = await startTestApp(db);
  analytics = new AnalyticsService(db.dataSource);
  [{ id: buyer }] = await db.dataSource.query(
    `SELECT user_id::text AS id FROM events WHERE type = 'purchase' AND idempotency_key LIKE 'demo-%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
  );
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

const PROFILE = `profile {
  segment rfm { recencyDays frequency monetary r f m }
  topCategories { categoryId name events purchases share }
  activeHoursOfWeek { dayOfWeek hour events share }
  homeCell mobilityRadiusKm priceSensitivity relativePriceLevel
  lifetime { firstSeen lastSeen events sessions activeDays purchases units revenue averageOrderValue }
}`;

describe('User.profile', () => {
  it('lifetime stats equal direct SQL, and the home cell is the most frequent res-8 cell', async () => {
    const r = await gql(app, `query($id: ID!) { user(id: $id) { id ${PROFILE} } }`, { id: buyer });
    expect(r.body.errors).toBeUndefined();
    const p = r.body.data!.user.profile;
    const [s] = await db.dataSource.query(
      `SELECT count(*)::int AS events, count(DISTINCT session_id)::int AS sessions,
              count(*) FILTER (WHERE type = 'purchase')::int AS purchases,
              coalesce(sum(quantity) FILTER (WHERE type = 'purchase'), 0)::int AS units,
              coalesce(sum(price * quantity) FILTER (WHERE type = 'purchase'), 0)::float AS revenue,
              min(occurred_at) AS first, max(occurred_at) AS last
       FROM events WHERE user_id = $1`,
      [buyer],
    );
    expect(p.lifetime).toMatchObject({ events: s.events, sessions: s.sessions, purchases: s.purchases, units: s.units });
    expect(p.lifetime.revenue).toBeCloseTo(s.revenue, 6);
    expect(new Date(p.lifetime.firstSeen).getTime()).toBe(new Date(s.first).getTime());
    expect(p.rfm.frequency).toBe(s.purchases);
    expect(p.rfm.f).toBeGreaterThanOrEqual(4); // the heaviest buyer is in the top quintiles
    expect(['CHAMPION', 'LOYAL', 'AT_RISK', 'NEW', 'POTENTIAL', 'HIBERNATING']).toContain(p.segment);
    const cells: { h: string; n: number }[] = await db.dataSource.query(
      `SELECT h3_r9::text AS h, count(*)::int AS n FROM events WHERE user_id = $1 AND h3_r9 IS NOT NULL GROUP BY 1`,
      [buyer],
    );
    const byR8 = new Map<string, number>();
    for (const c of cells) {
      const r8 = cellToParent(intToH3(c.h), 8);
      byR8.set(r8, (byR8.get(r8) ?? 0) + c.n);
    }
    const max = Math.max(...byR8.values());
    expect(byR8.get(p.homeCell)).toBe(max);
    expect(p.mobilityRadiusKm).toBeGreaterThan(0);
    const shareSum = p.topCategories.reduce((a: number, c: { share: number }) => a + c.share, 0);
    expect(shareSum).toBeLessThanOrEqual(1 + 1e-9);
    expect(p.activeHoursOfWeek.length).toBeGreaterThan(0);
    expect(p.activeHoursOfWeek.length).toBeLessThanOrEqual(5);
  });

  it('a page of 20 users costs the same statements as a page of 2 (batched, no N+1)', async () => {
    const page = (n: number) => gql(app, `{ users(first: ${n}) { edges { node { id ${PROFILE} } } } }`);
    await page(2); // warms the cached RFM population
    counter.reset();
    const small = await page(2);
    const smallCount = counter.count;
    counter.reset();
    const big = await page(20);
    const bigCount = counter.count;
    expect(small.body.errors).toBeUndefined();
    expect(big.body.data!.users.edges).toHaveLength(20);
    expect(bigCount).toBe(smallCount);
  });

  it('a user without events is INACTIVE, a browser without purchases is BROWSER', async () => {
    const [none] = await analytics.profile.profiles(['987654321'], null);
    expect(none!.segment).toBe('INACTIVE');
    expect(none!.lifetime.events).toBe(0);
    const [{ id: browser }] = await db.dataSource.query(
      `SELECT user_id::text AS id FROM events GROUP BY 1 HAVING count(*) FILTER (WHERE type = 'purchase') = 0 ORDER BY 1 LIMIT 1`,
    );
    const [b] = await analytics.profile.profiles([browser], null);
    expect(b!.segment).toBe('BROWSER');
    expect(b!.rfm.r).toBeNull();
  });

  it('restricted callers never get the home cell', async () => {
    const [full] = await analytics.profile.profiles([buyer], null);
    const [restricted] = await analytics.profile.profiles([buyer], analytics.partnerAccess());
    expect(full!.homeCell).not.toBeNull();
    expect(restricted!.homeCell).toBeNull();
    expect(restricted!.lifetime).toEqual(full!.lifetime);
  });
});
