/**
 * Serving over GraphQL against the real server, real database and the shipped ONNX baselines:
 * predictions, recommendations (filters, reasons, cold start, freshness), similar items, trending,
 * sentiment, intents, DataLoader batching and error codes.
 */
import type { ProcessMemoryMb } from '../../src/observability/process-metrics';
import { createLoaders } from '../../src/api';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openServingDatabase } from './serving-helpers';

const AT = '2026-05-31T18:00:00.000Z'; // the test demo data ends 2026-06-01
const SAO_PAULO = { latitude: -23.5505, longitude: -46.6333 };
const SERVING_ENV = { MERIDIAN_MODEL_SYNC_MS: '0', MERIDIAN_INFERENCE_WORKERS: '1' };

let db: Database;
let app: App;
let activeUser: string;
let buyer: string;

type Rec = { product: { id: string; price: number; stock: number; category: { name: string } | null }; score: number; reason: string; reasons: string[]; sources: string[] };

const REC = `query($id: ID!, $first: Int, $near: GeoPointInput, $at: DateTime, $filter: RecommendationFilter) {
  user(id: $id) { recommendations(first: $first, near: $near, at: $at, filter: $filter) {
    product { id name price stock category { name } } score reason reasons sources } } }`;

async function recs(id: string, vars: Record<string, unknown> = {}): Promise<Rec[]> {
  const r = await gql(app, REC, { id, at: AT, ...vars });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.user.recommendations as Rec[];
}

async function metrics(): Promise<{ models: { kind: string; batches: number; requests: number }[] }> {
  const r = await gql(app, `{ servingMetrics }`);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.servingMetrics;
}

beforeAll(async () => {
  db = await openServingDatabase();
  app = await startTestApp(db, SERVING_ENV);
  const rows = await db.dataSource.query<{ id: string; purchases: string }[]>(
    `SELECT user_id::text AS id, count(*) FILTER (WHERE type = 'purchase') AS purchases FROM events
     GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 50`,
  );
  activeUser = rows[0]!.id;
  buyer = rows.find((r) => Number(r.purchases) >= 3)!.id;
});

afterAll(async () => {
  await app?.stop();
  await db?.close();
});

describe('behaviorPrediction', () => {
  const Q = `query($id: ID!, $at: DateTime) { user(id: $id) { behaviorPrediction(at: $at) {
    nextAction { action probability } horizonsDays modelVersion predictedAt
    p1: purchaseProbability(horizonDays: 1) p2: purchaseProbability(horizonDays: 2) p3: purchaseProbability(horizonDays: 3)
    p7: purchaseProbability(horizonDays: 7) p60: purchaseProbability(horizonDays: 60) } } }`;

  it('gives next-action probabilities that sum to 1 and monotone purchase probabilities', async () => {
    const r = await gql(app, Q, { id: activeUser, at: AT });
    expect(r.body.errors).toBeUndefined();
    const p = r.body.data!.user.behaviorPrediction;
    expect(p.nextAction.map((a: { action: string }) => a.action)).toEqual(['VIEW', 'CART', 'PURCHASE', 'LEAVE']);
    const sum = p.nextAction.reduce((a: number, x: { probability: number }) => a + x.probability, 0);
    expect(sum).toBeCloseTo(1, 9);
    expect(p.modelVersion).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(p.predictedAt).toBe(AT);
    const seq = [p.p1, p.p2, p.p3, p.p7, p.p60];
    seq.forEach((v: number) => expect(v).toBeGreaterThan(0));
    for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeGreaterThanOrEqual(seq[i - 1]);
    expect(seq[4]).toBeLessThan(1);
  });

  it('changes on the next query after a new event (features are read fresh)', async () => {
    const before = (await gql(app, Q, { id: buyer })).body.data!.user.behaviorPrediction;
    const product = (await db.dataSource.query<{ id: string }[]>(`SELECT id::text AS id FROM products ORDER BY id LIMIT 1`))[0]!.id;
    const now = Date.now();
    const ingest = await gql(app, `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }`, {
      e: [
        { idempotencyKey: `serving-fresh-${now}-a`, userId: buyer, productId: product, type: 'VIEW', occurredAt: new Date(now - 60_000).toISOString() },
        { idempotencyKey: `serving-fresh-${now}-b`, userId: buyer, productId: product, type: 'CART', occurredAt: new Date(now - 30_000).toISOString() },
      ],
    });
    expect(ingest.body.data!.ingestEvents.accepted).toBe(2);
    const after = (await gql(app, Q, { id: buyer })).body.data!.user.behaviorPrediction;
    const probs = (p: { nextAction: { probability: number }[] }) => p.nextAction.map((a) => a.probability.toFixed(6)).join();
    expect(probs(after)).not.toEqual(probs(before));
    expect(after.p7).not.toBeCloseTo(before.p7, 6);
  });

  it('rejects a horizon outside (0, 365] naming the argument', async () => {
    const r = await gql(app, `query($id: ID!) { user(id: $id) { behaviorPrediction { purchaseProbability(horizonDays: 0) } } }`, { id: activeUser });
    expect(r.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.extensions!.issues![0]!.path).toBe('horizonDays');
  });
});

describe('recommendations', () => {
  it('returns distinct products, scored in order, each with a human-readable reason', async () => {
    const list = await recs(activeUser, { first: 12 });
    expect(list).toHaveLength(12);
    expect(new Set(list.map((r) => r.product.id)).size).toBe(12);
    for (let i = 1; i < list.length; i++) expect(list[i]!.score).toBeLessThanOrEqual(list[i - 1]!.score + 1e-9);
    list.forEach((r) => {
      expect(r.reason.length).toBeGreaterThan(8);
      expect(r.reasons[0]).toBe(r.reason);
      expect(r.sources.length).toBeGreaterThan(0);
    });
    expect(list.some((r) => r.sources.includes('SEQUENTIAL'))).toBe(true);
    expect(list.some((r) => /^follows your recent views of|^follows .* in your cart|^goes with your recent purchase of|^similar to /.test(r.reason))).toBe(true);
  });

  it('respects category, price, stock and exclusion filters', async () => {
    const list = await recs(activeUser, {
      first: 8,
      filter: { categories: ['Electronics', 'Home'], priceRange: { min: 20, max: 400 }, inStockOnly: true },
    });
    expect(list.length).toBeGreaterThan(0);
    list.forEach((r) => {
      expect(['Electronics', 'Home']).toContain(r.product.category!.name);
      expect(r.product.price).toBeGreaterThanOrEqual(20);
      expect(r.product.price).toBeLessThanOrEqual(400);
      expect(r.product.stock).toBeGreaterThan(0);
    });
    const all = await recs(activeUser, { first: 5 });
    const excluded = all.slice(0, 3).map((r) => r.product.id);
    const rest = await recs(activeUser, { first: 5, filter: { excludeProductIds: excluded } });
    expect(rest.map((r) => r.product.id).filter((id) => excluded.includes(id))).toEqual([]);
  });

  it('leaves out purchased products when asked', async () => {
    const purchased = (await db.dataSource.query<{ id: string }[]>(
      `SELECT DISTINCT product_id::text AS id FROM events WHERE user_id = $1 AND type = 'purchase' AND occurred_at <= $2`,
      [buyer, AT],
    )).map((r) => r.id);
    expect(purchased.length).toBeGreaterThan(0);
    const list = await recs(buyer, { first: 50, filter: { excludePurchased: true } });
    expect(list.length).toBeGreaterThan(10);
    expect(list.filter((r) => purchased.includes(r.product.id))).toEqual([]);
  });

  it('changes after new events: the sequence now ends with the new item', async () => {
    const before = await recs(activeUser, { first: 10, at: null });
    const [p] = await db.dataSource.query<{ id: string; name: string }[]>(`SELECT id::text AS id, name FROM products ORDER BY id DESC LIMIT 1`);
    const now = Date.now();
    await gql(app, `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }`, {
      e: [{ idempotencyKey: `serving-recs-${now}`, userId: activeUser, productId: p!.id, type: 'VIEW', occurredAt: new Date(now - 10_000).toISOString() }],
    });
    const after = await recs(activeUser, { first: 10, at: null });
    expect(after.map((r) => r.product.id)).not.toEqual(before.map((r) => r.product.id));
    expect(after.some((r) => r.reasons.some((x) => x.includes(p!.name)))).toBe(true);
  });

  it('reads what recommendations need about a user once per request and instant, ranking exactly as a fresh read', async () => {
    const { recommendations, users } = app.services;
    const at = new Date(AT);
    const ids = (r: unknown) => (r as { product: { id: string }; score: number; reason: string }[]).map((x) => [x.product.id, x.score, x.reason]);
    const [fresh] = await recommendations.recommendMany([activeUser], { at, first: 20 });
    const reads = jest.spyOn(recommendations, 'userContexts');
    try {
      // Two argument sets in one request: one context read for the (user, instant).
      const loaders = createLoaders(app.services);
      const [wide, narrow] = await Promise.all([
        loaders.recommendations({ at, first: 20 }).load(activeUser),
        loaders.recommendations({ at, first: 5, near: SAO_PAULO }).load(activeUser),
      ]);
      expect(reads).toHaveBeenCalledTimes(1);
      expect(ids(wide)).toEqual(ids(fresh));
      expect(narrow).toHaveLength(5);
      // Another instant is another key: the history must end at the request's `at`.
      const earlier = new Date(at.getTime() - 3 * 86_400_000);
      const [then, now] = await Promise.all([
        loaders.userContext.load({ userId: activeUser, at: earlier }),
        loaders.userContext.load({ userId: activeUser, at }),
      ]);
      expect(reads).toHaveBeenCalledTimes(2);
      expect(then!.events).not.toEqual(now!.events);
      expect(await loaders.userContext.load({ userId: '987654321', at })).toBeNull();
      // Over GraphQL without `at`: the user row from the plain lookup, the context once for both fields.
      reads.mockClear();
      const plain = jest.spyOn(users, 'get');
      const r = await gql(app, `query($id: ID!) { user(id: $id) { id name homeLocation a: recommendations(first: 3) { reason } b: recommendations(first: 2, near: { latitude: -23.55, longitude: -46.63 }) { reason } } }`, { id: activeUser });
      expect(plain).toHaveBeenCalledTimes(1);
      plain.mockRestore();
      expect(reads).toHaveBeenCalledTimes(1);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.user.id).toBe(activeUser);
      expect(r.body.data!.user.a).toHaveLength(3);
      expect(r.body.data!.user.b).toHaveLength(2);
    } finally {
      reads.mockRestore();
    }
  });

  it('coalesces user reads of concurrent requests into one statement, each answered for its own instant', async () => {
    const { recommendations } = app.services;
    const t1 = new Date(AT);
    // An instant inside the user's history: before its three latest events.
    const [mid] = await db.dataSource.query<{ t: Date }[]>(
      `SELECT occurred_at - interval '1 millisecond' AS t FROM events WHERE user_id = $1 AND occurred_at <= $2
       ORDER BY occurred_at DESC, id DESC OFFSET 2 LIMIT 1`,
      [activeUser, AT],
    );
    const t2 = new Date(mid!.t);
    const keys = (at: Date, ids: string[]) => ids.map((userId) => ({ userId, at }));
    const apart = [
      await recommendations.userContexts(keys(t1, [activeUser, '987654321'])),
      await recommendations.userContexts(keys(t2, [buyer, activeUser])),
    ];
    const spy = jest.spyOn(db.dataSource, 'query');
    try {
      const together = await Promise.all([
        recommendations.userContexts(keys(t1, [activeUser, '987654321'])),
        recommendations.userContexts(keys(t2, [buyer, activeUser])),
      ]);
      expect(spy.mock.calls.filter(([sql]) => String(sql).includes('WITH ORDINALITY k(id, at, ord)'))).toHaveLength(1);
      expect(together).toEqual(apart);
    } finally {
      spy.mockRestore();
    }
    expect(apart[0]![1]).toBeNull();
    expect(apart[0]![0]!.events).not.toEqual(apart[1]![1]!.events); // different instants, different histories
  });

  it('gives a user without events geo/time popularity', async () => {
    const created = await gql(app, `mutation($u: [UserInput!]!) { upsertUsers(users: $u) { id } }`, {
      u: [{ externalId: `serving-cold-${Date.now()}`, name: 'Cold Start', homeLocation: SAO_PAULO }],
    });
    const id = created.body.data!.upsertUsers[0].id as string;
    const list = await recs(id, { first: 6 });
    expect(list).toHaveLength(6);
    list.forEach((r) => expect(r.sources).toEqual(['AREA']));
    expect(list[0]!.reason).toMatch(/^popular within (5|50) km this week$|^popular this week$|^often chosen/);
    const far = await recs(id, { first: 3, near: { latitude: -22.9068, longitude: -43.1729 } }); // Rio
    expect(far.map((r) => r.product.id)).not.toEqual(list.slice(0, 3).map((r) => r.product.id));
    // Every "popular within 5 km this week" claim holds against raw events (5 km + one H3 r9 cell).
    const near5 = new Set((await db.dataSource.query<{ id: string }[]>(
      `SELECT DISTINCT product_id::text AS id FROM events WHERE product_id IS NOT NULL AND type <> 'search'
         AND occurred_at <= $1 AND occurred_at > $1::timestamptz - interval '7 days'
         AND ST_Distance(location::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography) <= 5400`,
      [AT, SAO_PAULO.longitude, SAO_PAULO.latitude],
    )).map((r) => r.id));
    const claimed = (await recs(id, { first: 100 })).filter((r) => r.reasons.includes('popular within 5 km this week'));
    expect(claimed.length).toBeGreaterThan(0);
    claimed.forEach((r) => expect(near5.has(r.product.id)).toBe(true));
  });

  it('batches the users of one request into one model run per model', async () => {
    const before = await metrics();
    const r = await gql(app, `{ users(first: 6) { edges { node { id behaviorPrediction(at: "${AT}") { modelVersion } recommendations(first: 3, at: "${AT}") { reason } } } } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.users.edges).toHaveLength(6);
    const after = await metrics();
    const delta = (kind: string) =>
      after.models.find((m) => m.kind === kind)!.requests - (before.models.find((m) => m.kind === kind)?.requests ?? 0);
    expect(delta('behavior')).toBe(1);
    expect(delta('next-item')).toBe(1);
  });

  it('reports the process memory, so RSS growth can be told apart (V8 heap, array buffers, native)', async () => {
    const r = await gql(app, `{ servingMetrics }`);
    const m = r.body.data!.servingMetrics.memoryMb as ProcessMemoryMb;
    const used = process.memoryUsage(); // the test app runs in this process
    expect(m.heapUsed).toBeGreaterThan(0);
    expect(m.heapTotal).toBeGreaterThanOrEqual(m.heapUsed);
    expect(m.rss).toBeGreaterThan(m.heapUsed);
    expect(m.arrayBuffers).toBeLessThanOrEqual(m.external);
    expect(Math.abs(m.rss - used.rss / 1048576)).toBeLessThan(0.25 * (used.rss / 1048576));
  });

  it('answers NOT_FOUND for an unknown user and BAD_USER_INPUT naming the field', async () => {
    const missing = await gql(app, REC, { id: '987654321' });
    expect(missing.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const tooMany = await gql(app, REC, { id: activeUser, first: 101 });
    expect(tooMany.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(tooMany.body.errors![0]!.extensions!.issues!.map((i) => i.path)).toEqual(['first']);
    const badFilter = await gql(app, REC, { id: activeUser, filter: { categories: ['No Such Category'], priceRange: { min: 9, max: 1 } } });
    expect(badFilter.body.errors![0]!.extensions!.issues!.map((i) => i.path).sort()).toEqual(['filter.categories[0]', 'filter.priceRange.min']);
  });
});

describe('similar, trending, sentiment and intents', () => {
  it('lists similar products by embedding cosine, best first, never the product itself', async () => {
    const r = await gql(app, `{ product(id: "3") { similar(first: 5) { product { id } similarity } } }`);
    expect(r.body.errors).toBeUndefined();
    const s = r.body.data!.product.similar as { product: { id: string }; similarity: number }[];
    expect(s).toHaveLength(5);
    expect(s.map((x) => x.product.id)).not.toContain('3');
    for (let i = 1; i < s.length; i++) expect(s[i]!.similarity).toBeLessThanOrEqual(s[i - 1]!.similarity);
    const bad = await gql(app, `{ product(id: "3") { similar(first: 500) { similarity } } }`);
    expect(bad.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('refuses trending pages over 100 and radii over 500 km, naming the argument', async () => {
    const many = await gql(app, `{ trending(near: { latitude: -23.55, longitude: -46.63 }, first: 101) { score } }`);
    expect(many.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(many.body.errors![0]!.message).toMatch(/first/);
    const far = await gql(app, `{ trending(near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 501) { score } }`);
    expect(far.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(far.body.errors![0]!.message).toMatch(/radiusKm/);
  });

  it('ranks trending products near a point like a direct SQL count', async () => {
    const r = await gql(
      app,
      `query($near: GeoPointInput!, $at: DateTime) { trending(near: $near, radiusKm: 10, window: WEEK, first: 5, at: $at) {
        product { id } score events purchases users change } }`,
      { near: SAO_PAULO, at: AT },
    );
    expect(r.body.errors).toBeUndefined();
    const list = r.body.data!.trending as { product: { id: string }; score: number; events: number }[];
    expect(list.length).toBe(5);
    const expected = await db.dataSource.query<{ id: string; score: number }[]>(
      `SELECT product_id::text AS id, sum(CASE type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 WHEN 'favorite' THEN 2 WHEN 'view' THEN 1 ELSE 0 END)::float8 AS score
       FROM events WHERE product_id IS NOT NULL AND occurred_at <= $1 AND occurred_at > $1::timestamptz - interval '7 days'
         AND ST_Distance(location::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography) <= 10000
       GROUP BY product_id ORDER BY score DESC, product_id LIMIT 5`,
      [AT, SAO_PAULO.longitude, SAO_PAULO.latitude],
    );
    expect(list.map((x) => [x.product.id, x.score])).toEqual(expected.map((e) => [e.id, Number(e.score)]));
  });

  it('classifies review sentiment in line with the ratings and summarises it per product', async () => {
    const r = await gql(app, `{ reviews(first: 60) { edges { node { rating body sentiment { label score modelVersion } } } } }`);
    expect(r.body.errors).toBeUndefined();
    const nodes = (r.body.data!.reviews.edges as { node: { rating: number; sentiment: { label: string; score: number } } }[]).map((e) => e.node);
    const clear = nodes.filter((n) => n.rating !== 3);
    expect(clear.length).toBeGreaterThan(20);
    const agree = clear.filter((n) => (n.rating >= 4) === (n.sentiment.label === 'positive')).length;
    expect(agree / clear.length).toBeGreaterThan(0.85);
    nodes.forEach((n) => expect(n.sentiment.score).toBeGreaterThanOrEqual(0.5));
    const [p] = await db.dataSource.query<{ id: string }[]>(`SELECT product_id::text AS id FROM reviews GROUP BY product_id ORDER BY count(*) DESC LIMIT 1`);
    const s = await gql(app, `query($id: ID!) { product(id: $id) { sentimentSummary { reviewCount positiveShare meanPositive modelVersion } } }`, { id: p!.id });
    expect(s.body.data!.product.sentimentSummary.reviewCount).toBeGreaterThan(1);
    expect(s.body.data!.product.sentimentSummary.positiveShare).toBeGreaterThanOrEqual(0);
  });

  it('classifies customer messages into intents with ranked alternatives', async () => {
    const r = await gql(app, `query($t: String!) { classifyMessage(text: $t) { intent confidence alternatives { intent confidence } modelVersion } }`, {
      t: 'I want to cancel the order I made yesterday',
    });
    expect(r.body.errors).toBeUndefined();
    const c = r.body.data!.classifyMessage;
    expect(c.intent).toBe('cancel_order');
    expect(c.confidence).toBeGreaterThan(0);
    expect(c.alternatives.length).toBe(5);
    expect(c.alternatives[0].confidence).toBeLessThanOrEqual(c.confidence);
    // a request the shop does not handle is out of scope, not forced into the nearest intent
    const off = await gql(app, `{ classifyMessage(text: "what is the capital of France?") { intent alternatives { intent } } }`);
    expect(off.body.data!.classifyMessage.intent).toBe('out_of_scope');
    expect(off.body.data!.classifyMessage.alternatives.map((a: { intent: string }) => a.intent)).not.toContain('out_of_scope');
    const empty = await gql(app, `{ classifyMessage(text: "   ") { intent } }`);
    expect(empty.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(empty.body.errors![0]!.extensions!.issues![0]!.path).toBe('text');
  });
});

describe('without loaded models', () => {
  it('answers MODEL_UNAVAILABLE instead of crashing', async () => {
    const bare = await startTestApp(db, { ...SERVING_ENV, MERIDIAN_LOAD_MODELS: 'false' });
    try {
      const r = await gql(bare, REC, { id: activeUser });
      expect(r.status).toBe(200);
      expect(r.body.errors![0]!.extensions!.code).toBe('MODEL_UNAVAILABLE');
      const c = await gql(bare, `{ classifyMessage(text: "hello") { intent } }`);
      expect(c.body.errors![0]!.extensions!.code).toBe('MODEL_UNAVAILABLE');
      expect(c.body.errors![0]!.message).toMatch(/intent/);
    } finally {
      await bare.stop();
    }
  });
});
