import { gql, type GqlResponse, useTestApp } from '../helpers/app';

const SAO_PAULO = { latitude: -23.5505, longitude: -46.6333 };

const t = useTestApp();

const PRODUCTS = `query($first:Int,$after:String,$filter:ProductFilter){
  products(first:$first, after:$after, filter:$filter){
    edges { cursor node { id name price stock createdAt category { name } location } }
    pageInfo { hasNextPage endCursor } } }`;

type ProductNode = { id: string; name: string; price: number; stock: number; category: { name: string }; location: { coordinates: [number, number] } };
async function allProducts(filter: Record<string, unknown>): Promise<ProductNode[]> {
  const out: ProductNode[] = [];
  let after: string | null = null;
  for (;;) {
    const r: GqlResponse = await gql(t.app, PRODUCTS, { first: 100, after, filter });
    expect(r.body.errors).toBeUndefined();
    const c: { edges: { node: ProductNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = r.body.data!.products as never;
    out.push(...c.edges.map((e: { node: ProductNode }) => e.node));
    if (!c.pageInfo.hasNextPage) return out;
    after = c.pageInfo.endCursor;
  }
}

async function sqlIds(sql: string, params: unknown[] = []): Promise<string[]> {
  const rows = await t.db.dataSource.query<{ id: string }[]>(sql, params);
  return rows.map((r) => r.id);
}

describe('catalog reads', () => {
  it('pages through every product exactly once in id order', async () => {
    const all = await allProducts({});
    const ids = all.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(await sqlIds('SELECT id FROM products ORDER BY id'));
  });

  it('filters by category name and price range', async () => {
    const got = await allProducts({ categoryNames: ['Electronics'], price: { min: 100, max: 400 } });
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((p) => p.category.name === 'Electronics' && p.price >= 100 && p.price <= 400)).toBe(true);
    const expected = await sqlIds(
      `SELECT p.id FROM products p JOIN categories c ON c.id = p.category_id
       WHERE c.name = 'Electronics' AND p.price BETWEEN 100 AND 400 ORDER BY p.id`,
    );
    expect(got.map((p) => p.id)).toEqual(expected);
  });

  it('matches text in name or description', async () => {
    const got = await allProducts({ text: 'headphones' });
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((p) => p.name.toLowerCase().includes('headphones'))).toBe(true);
  });

  it('filters sellers within a radius, matching PostGIS geography distance', async () => {
    const got = await allProducts({ near: { center: SAO_PAULO, radiusKm: 8 } });
    const expected = await sqlIds(
      `SELECT id FROM products
       WHERE ST_Distance(seller_location::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) <= 8000 ORDER BY id`,
      [SAO_PAULO.longitude, SAO_PAULO.latitude],
    );
    expect(expected.length).toBeGreaterThan(5);
    expect(got.map((p) => p.id)).toEqual(expected);
  });

  it('filters sellers within a bounding box', async () => {
    const box = { minLatitude: -23.7, minLongitude: -46.8, maxLatitude: -23.4, maxLongitude: -46.5 };
    const got = await allProducts({ within: box });
    expect(got.length).toBeGreaterThan(0);
    for (const p of got) {
      const [lng, lat] = p.location.coordinates;
      expect(lat).toBeGreaterThanOrEqual(box.minLatitude);
      expect(lat).toBeLessThanOrEqual(box.maxLatitude);
      expect(lng).toBeGreaterThanOrEqual(box.minLongitude);
      expect(lng).toBeLessThanOrEqual(box.maxLongitude);
    }
  });

  it('filters events by time range and type, newest first, across pages', async () => {
    const from = '2026-05-01T00:00:00.000Z';
    const to = '2026-05-08T00:00:00.000Z';
    const q = `query($after:String,$f:EventFilter){ events(first:100, after:$after, filter:$f){
      edges { node { id type occurredAt } } pageInfo { hasNextPage endCursor } } }`;
    const seen: { id: string; occurredAt: string; type: string }[] = [];
    let after: string | null = null;
    for (;;) {
      const r: GqlResponse = await gql(t.app, q, { after, f: { types: ['PURCHASE', 'CART'], occurredAt: { from, to } } });
      expect(r.body.errors).toBeUndefined();
      seen.push(...r.body.data!.events.edges.map((e: { node: { id: string; occurredAt: string; type: string } }) => e.node));
      if (!r.body.data!.events.pageInfo.hasNextPage) break;
      after = r.body.data!.events.pageInfo.endCursor;
    }
    const [{ n }] = await t.db.dataSource.query(
      `SELECT count(*)::int AS n FROM events WHERE type IN ('purchase','cart') AND occurred_at >= $1 AND occurred_at < $2`,
      [from, to],
    );
    expect(seen.length).toBe(n);
    expect(n).toBeGreaterThan(0);
    expect(seen.every((e) => e.type === 'PURCHASE' || e.type === 'CART')).toBe(true);
    const times = seen.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('answers NOT_FOUND for an unknown user and product', async () => {
    const r = await gql(t.app, `{ user(id: "987654321") { id } }`);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const p = await gql(t.app, `{ product(id: "987654321") { id } }`);
    expect(p.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('answers BAD_USER_INPUT naming the field for bad arguments', async () => {
    const big = await gql(t.app, `{ users(first: 101) { edges { cursor } } }`);
    expect(big.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(big.body.errors?.[0]?.message).toMatch(/first/);
    const cursor = await gql(t.app, `{ users(after: "garbage") { edges { cursor } } }`);
    expect(cursor.body.errors?.[0]?.message).toMatch(/after/);
    const lat = await gql(t.app, PRODUCTS, { filter: { near: { center: { latitude: 123, longitude: 0 }, radiusKm: 1 } } });
    expect(lat.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(lat.body.errors?.[0]?.message).toMatch(/filter\.near\.center\.latitude/);
    const range = await gql(t.app, PRODUCTS, { filter: { price: { min: 10, max: 1 } } });
    expect(range.body.errors?.[0]?.message).toMatch(/filter\.price\.min/);
  });

  it('serves nested relations: user → recent events → product → category', async () => {
    const r = await gql(t.app, `{ users(first: 3) { edges { node { id recentEvents(first: 5) { type product { name category { name } } } reviews { rating } } } } }`);
    expect(r.body.errors).toBeUndefined();
    const users = r.body.data!.users.edges;
    expect(users).toHaveLength(3);
    const events = users.flatMap((u: { node: { recentEvents: unknown[] } }) => u.node.recentEvents);
    expect(events.length).toBeGreaterThan(0);
  });
});
