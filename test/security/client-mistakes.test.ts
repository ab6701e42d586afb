/**
 * Issue 16, "4xx for every client mistake": each request an outside attacker sent that was answered
 * 500, accepted and failed later, or leaked internals, replayed against the real server.
 */
import { gql, useTestApp, withAuth } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const t = useTestApp();

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(t.app.url, { method: 'POST', headers: withAuth({ 'content-type': 'application/json', ...headers }), body: JSON.stringify(body) });

async function errorOf(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await post({ query, variables }, headers);
  const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: res.status, code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message ?? '' };
}

describe('validation limits answer 400 with their codes', () => {
  it('refuses 31 aliases with 400', async () => {
    const q = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: categories { id }`).join(' ')} }`;
    const r = await errorOf(q);
    expect(r.status).toBe(400);
    expect(r.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.message).toMatch(/alias/i);
  });

  it('refuses a selection deeper than the limit with 400', async () => {
    let sel = 'id';
    for (let i = 0; i < 6; i++) sel = `product { reviews(first: 1) { ${sel} } }`;
    const r = await errorOf(`{ reviews(first: 1) { edges { node { ${sel} } } } }`);
    expect(r.status).toBe(400);
    expect(r.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.message).toMatch(/depth/i);
  });

  it('refuses 21 directives with 400', async () => {
    const r = await errorOf(`{ categories { id ${'@include(if: true) '.repeat(21)} } }`);
    expect(r.status).toBe(400);
    expect(r.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.message).toMatch(/directive/i);
  });
});

describe('strings and dates the database cannot hold', () => {
  it('answers a NUL character in a literal with BAD_USER_INPUT naming the argument, even anonymously', async () => {
    const anonymous = bearer(await createKey(t.app, 'FRONTEND'));
    const r = await errorOf('{ products(first: 1, filter: { text: "a\\u0000b" }) { edges { cursor } } }', undefined, anonymous);
    expect(r.status).toBe(400);
    expect(r.code).toBe('BAD_USER_INPUT');
    expect(r.message).toContain('filter.text');
  });

  it('answers a NUL character in a variable with BAD_USER_INPUT naming the variable', async () => {
    const r = await errorOf('query($f: ProductFilter) { products(first: 1, filter: $f) { edges { cursor } } }', { f: { text: 'a\u0000b' } });
    expect(r.status).toBe(400);
    expect(r.code).toBe('BAD_USER_INPUT');
    expect(r.message).toContain('$f.text');
  });

  it.each([
    ['year 1', '0001-01-01T00:00:00Z'],
    ['year 9999', '9999-12-31T00:00:00Z'],
  ])('answers a date in %s with BAD_USER_INPUT, naming the variable when there is one', async (_name, at) => {
    const literal = await errorOf(`{ trending(near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 5, window: DAY, at: "${at}") { users } }`);
    expect(literal).toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
    expect(literal.message).toContain('DateTime must be from 1970-01-01T00:00:00.000Z');
    const variable = await errorOf(`query($at: DateTime) { trending(near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 5, window: DAY, at: $at) { users } }`, { at });
    expect(variable).toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
    expect(variable.message).toContain('$at');
  });
});

describe('ingestion', () => {
  const INGEST = `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted duplicates duplicateKeys } }`;
  const event = (key: string, extra: Record<string, unknown> = {}) => ({
    idempotencyKey: key, userId: '1', productId: '1', type: 'VIEW', occurredAt: '2026-11-01T10:00:00Z', ...extra,
  });

  it('reports a key repeated within one batch in duplicateKeys', async () => {
    const key = `dup-${Date.now()}`;
    const r = await gql(t.app, INGEST, { e: [event(key), event(key), event(key)] });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.ingestEvents).toEqual({ accepted: 1, duplicates: 2, duplicateKeys: [key] });
  });

  it('refuses a repeated key with different content instead of dropping it, and stores nothing', async () => {
    const key = `dup-diff-${Date.now()}`;
    const other = `other-${Date.now()}`;
    const r = await gql(t.app, INGEST, { e: [event(other), event(key), event(key), event(key, { type: 'PURCHASE' })] });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toContain('events[3].idempotencyKey');
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM events WHERE idempotency_key = ANY($1)`, [[key, other]]);
    expect(n).toBe(0);
  });

  it('says what range a price must be in', async () => {
    const r = await gql(t.app, INGEST, { e: [event(`price-${Date.now()}`, { price: 1e15 })] });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/events\[0\]\.price: must be a number from 0 to 9999999999\.99/);
  });

  it('refuses an oversized ingestEvents body from a key that may not ingest, before reading it (413)', async () => {
    const frontend = bearer(await createKey(t.app, 'FRONTEND'));
    const events = Array.from({ length: 4000 }, (_, i) => event(`big-${i}`, { query: 'x'.repeat(400), type: 'SEARCH', productId: null }));
    const body = JSON.stringify({ query: INGEST, variables: { e: events } });
    expect(body.length).toBeGreaterThan(1 << 20);
    const res = await fetch(t.app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...frontend }, body });
    expect(res.status).toBe(413);
    // an admin may send the same size (it is refused for its content, not its size)
    const admin = await fetch(t.app.url, { method: 'POST', headers: withAuth({ 'content-type': 'application/json' }), body });
    expect(admin.status).not.toBe(413);
  });
});

describe('startFineTuning refuses what the trainer would refuse', () => {
  const START = `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { id status } }`;
  const start = (input: Record<string, unknown>) => gql(t.app, START, { i: { modelKind: 'NEXT_ITEM', fromScratch: true, ...input } });

  it.each(['__proto__', 'constructor', 'toString'])('refuses the hyperparameter key %s', async (key) => {
    const r = await start({ hyperparameters: JSON.parse(`{"${key}": 1}`) as Record<string, unknown> });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toContain(`input.hyperparameters.${key}`);
  });

  it('refuses unknown event types', async () => {
    const r = await start({ hyperparameters: { event_types: 'view,bogus' } });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/input\.hyperparameters\.event_types: .*bogus/);
  });

  it('refuses a window that holds no data', async () => {
    const empty = await start({ dataWindow: { from: '2001-01-01T00:00:00Z', to: '2001-02-01T00:00:00Z' } });
    expect(empty.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(empty.body.errors?.[0]?.message).toContain('input.dataWindow');
    const future = await start({ dataWindow: { from: '2090-01-01T00:00:00Z', to: '2090-02-01T00:00:00Z' } });
    expect(future.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM training_jobs`);
    expect(n).toBe(0);
  });
});

describe('MODEL_UNAVAILABLE', () => {
  it('shows no file path or hash to a frontend key', async () => {
    // Take the behavior model out of service the way a failed load does.
    const registry = t.app.services.models as unknown as { serving: Map<string, unknown>; unavailable: Map<string, string> };
    const saved = registry.serving.get('behavior');
    registry.serving.delete('behavior');
    registry.unavailable.set('behavior', 'sha256 mismatch for /srv/meridian/data/models/behavior/v7/model.onnx (expected 3f2a…)');
    try {
      const [{ id }] = await t.db.dataSource.query(`SELECT id::text AS id FROM users ORDER BY id LIMIT 1`);
      const own = bearer(await createKey(t.app, 'FRONTEND', id));
      const r = await errorOf(`{ user(id: "${id}") { behaviorPrediction { modelVersion } } }`, undefined, own);
      expect(r.code).toBe('MODEL_UNAVAILABLE');
      expect(r.message).not.toMatch(/\/srv|sha256|model\.onnx|3f2a/);
    } finally {
      registry.serving.set('behavior', saved);
      registry.unavailable.delete('behavior');
    }
  });
});

describe('while the server starts', () => {
  it('answers /graphql 503 with Retry-After, not 404', async () => {
    const { startHttpServer } = await import('../../src/http/http-server');
    const { silentLogger } = await import('../../src/common/logger');
    const http = await startHttpServer('127.0.0.1', 0, silentLogger());
    try {
      const res = await fetch(`http://127.0.0.1:${http.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ categories { id } }"}' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status).toBe(200);
    } finally {
      await http.close();
    }
  });
});

describe('analytics areas are bounded before any SQL runs', () => {
  const AGG = `query($w: AreaInput) { aggregates(input: { metric: EVENTS, bucket: DAY, where: $w, from: "2026-10-01T00:00:00Z", to: "2026-10-08T00:00:00Z" }) { cellId value } }`;
  const square = (lo: number, la: number, size: number) => ({
    type: 'Polygon',
    coordinates: [[[lo, la], [lo + size, la], [lo + size, la + size], [lo, la + size], [lo, la]]],
  });

  it('refuses polygon coordinates out of range, naming the position', async () => {
    const r = await gql(t.app, AGG, { w: { polygon: { type: 'Polygon', coordinates: [[[-46, -23], [-46, 95], [-45, -23], [-46, -23]]] } } });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toContain('input.where.polygon.coordinates[0][1][1]: must be a latitude between -90 and 90');
  });

  it('refuses a world-sized polygon and bbox, naming the area', async () => {
    const world = await gql(t.app, AGG, { w: { polygon: square(-179, -85, 170) } });
    expect(world.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(world.body.errors?.[0]?.message).toMatch(/input\.where\.polygon: covers [\d,]+ km²; at most 50,000,000 km²/);
    const box = await gql(t.app, AGG, { w: { bbox: { minLongitude: -180, minLatitude: -90, maxLongitude: 180, maxLatitude: 90 } } });
    expect(box.body.errors?.[0]?.message).toContain('input.where.bbox: covers');
  });

  it('still answers a city-sized polygon', async () => {
    const r = await gql(t.app, AGG, { w: { polygon: square(-46.8, -23.7, 0.3) } });
    expect(r.body.errors).toBeUndefined();
  });
});

describe('startFineTuning without a trainer environment', () => {
  const bare = useTestApp({ MERIDIAN_TRAINER_PYTHON: '/nonexistent/meridian-trainer/.venv/bin/python' });

  it('is refused with what to run, and nothing is queued', async () => {
    const r = await gql(bare.app, `mutation { startFineTuning(input: { modelKind: NEXT_ITEM, fromScratch: true }) { id } }`);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(r.body.errors?.[0]?.message).toContain('npm run setup:trainer');
    const [{ n }] = await bare.db.dataSource.query(`SELECT count(*)::int AS n FROM training_jobs`);
    expect(n).toBe(0);
  });
});
