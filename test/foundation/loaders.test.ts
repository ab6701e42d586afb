import type { App } from '../../src/app';
import { createLoaders } from '../../src/api';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { QueryCounter } from '../helpers/query-counter';

const counter = new QueryCounter();
let db: Database;
let app: App;
beforeAll(async () => {
  db = await openTestDatabase('default', counter);
  app = await startTestApp(db);
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

const NESTED = `query($first:Int){ products(first:$first){ edges { node {
  id category { name } ratingSummary { count average }
  reviews(first: 3) { rating user { name } product { name } }
} } } }`;

describe('DataLoaders', () => {
  it('resolves a nested query with a constant number of SQL statements (no N+1)', async () => {
    await gql(app, NESTED, { first: 1 }); // warm-up: first-request work (caches) is not per-row work
    counter.reset();
    const small = await gql(app, NESTED, { first: 5 });
    expect(small.body.errors).toBeUndefined();
    const smallCount = counter.count;
    counter.reset();
    const large = await gql(app, NESTED, { first: 100 });
    expect(large.body.errors).toBeUndefined();
    const reviews = large.body.data!.products.edges.flatMap((e: { node: { reviews: unknown[] } }) => e.node.reviews);
    expect(reviews.length).toBeGreaterThan(20);
    // products, categories, rating summaries, reviews, users, products-of-reviews
    expect(counter.count).toBe(smallCount);
    expect(counter.count).toBeLessThanOrEqual(6);
  });

  it('batches user → recentEvents → product in one query per level', async () => {
    counter.reset();
    const r = await gql(app, `{ users(first: 50) { edges { node { recentEvents(first: 10) { product { category { name } } } } } } }`);
    expect(r.body.errors).toBeUndefined();
    expect(counter.count).toBeLessThanOrEqual(4);
  });

  describe('each loader', () => {
    const loaders = () => createLoaders(app.services);

    it('returns results in key order, null for a missing key, from one query', async () => {
      const ids: string[] = (await db.dataSource.query(`SELECT id FROM products ORDER BY id DESC LIMIT 3`)).map((r: { id: string }) => r.id);
      const l = loaders();
      counter.reset();
      const got = await Promise.all([...ids, '999999999'].map((id) => l.product.load(id)));
      expect(counter.count).toBe(1);
      expect(got.slice(0, 3).map((p) => p?.id)).toEqual(ids);
      expect(got[3]).toBeNull();
    });

    it('user, category and rating loaders batch too', async () => {
      const l = loaders();
      const users: string[] = (await db.dataSource.query(`SELECT id FROM users ORDER BY id LIMIT 4`)).map((r: { id: string }) => r.id);
      counter.reset();
      const got = await Promise.all([users[2]!, 'x', users[0]!].map((id) => l.user.load(id)));
      expect(got.map((u) => u?.id ?? null)).toEqual([users[2], null, users[0]]);
      const summaries = await Promise.all(['999999999', users[0]!].map((id) => l.ratingSummary.load(id)));
      expect(summaries[0]).toEqual({ count: 0, average: null });
      const cats = await Promise.all(['1', '999999'].map((id) => l.category.load(id)));
      expect(cats[1]).toBeNull();
      expect(counter.count).toBe(3);
    });

    it('user lookups of concurrent requests share one statement, each answered in its own key order', async () => {
      const users: string[] = (await db.dataSource.query(`SELECT id FROM users ORDER BY id LIMIT 3`)).map((r: { id: string }) => r.id);
      const [a, b] = [loaders(), loaders()];
      counter.reset();
      const [first, second] = await Promise.all([
        Promise.all([users[1]!, '999999999'].map((id) => a.user.load(id))),
        Promise.all([users[0]!, users[1]!, 'x'].map((id) => b.user.load(id))),
      ]);
      expect(counter.count).toBe(1);
      expect(first.map((u) => u?.id ?? null)).toEqual([users[1], null]);
      expect(second.map((u) => u?.id ?? null)).toEqual([users[0], users[1], null]);
    });

    it('recent events per user are newest first and limited', async () => {
      const l = loaders();
      const [{ user_id: busy }] = await db.dataSource.query(
        `SELECT user_id FROM events GROUP BY user_id HAVING count(*) > 5 ORDER BY user_id LIMIT 1`,
      );
      counter.reset();
      const [events, none] = await Promise.all([l.recentEvents(5).load(busy), l.recentEvents(5).load('999999999')]);
      expect(counter.count).toBe(1);
      expect(events).toHaveLength(5);
      expect(none).toEqual([]);
      const times = events.map((e) => e.occurredAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('are created per request, never shared', () => {
      expect(loaders().user).not.toBe(loaders().user);
    });
  });
});
