/**
 * Issue 16: a fuzz pass over every argument of every query and mutation. Random values of each
 * input type — NUL characters, huge and negative numbers, dates in year 1 and 9999, odd ids and
 * JSON — sent as variables. No request may answer 500 or INTERNAL_SERVER_ERROR, none may take
 * more than a few seconds, and the server must answer /healthz at the end. Seeded: a failure
 * prints the seed and the request, and FUZZ_SEED reruns it.
 */
import {
  type GraphQLArgument, type GraphQLInputType, type GraphQLNamedType, getNamedType, GraphQLEnumType,
  GraphQLList, GraphQLNonNull, GraphQLScalarType, isCompositeType,
} from 'graphql';
import { useTestApp, withAuth } from '../helpers/app';
import { createKey } from '../helpers/keys';

jest.setTimeout(300_000);

const t = useTestApp({ MERIDIAN_JOB_WORKER: 'false', PARTNER_ALLOWLIST_ONLY: 'false' });
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
const ROUNDS = 10;

/** mulberry32: small, seeded, good enough for choosing test values. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const STRINGS = ['', 'a', 'a\u0000b', '\u0000', 'x'.repeat(9_999), '💥'.repeat(50), "'; DROP TABLE users; --", '../../etc/passwd', '%s%n', ' ', 'VIEW', 'city'];
const IDS = ['1', '2', '0', '-1', 'abc', '99999999999999999999', '1e3', ' 1', '1.5', '9223372036854775807', '9223372036854775808', ''];
const INTS = [0, 1, -1, 7, 100, 101, 2 ** 31 - 1, -(2 ** 31), 10_000];
const FLOATS = [0, 1, -1, 0.5, 1e-300, 1e308, -1e308, 90.0001, -180.5, 12345.678, 1e15];
const DATES = ['2026-04-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'not a date', '2026-02-30T00:00:00Z', '1969-12-31T23:59:59Z', '2026-05-01T12:00:00+14:00', ''];
// "__proto__" as an own key (a literal would set the prototype, and JSON.stringify would drop it).
const JSONS: readonly Record<string, unknown>[] = [
  {}, JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>, { constructor: 1 }, { epochs: 1e9 }, { a: 'x\u0000' },
  { nested: { deep: [1, 2, { x: null }] } },
];
const GEOJSON = [
  { type: 'Polygon', coordinates: [[[-46.7, -23.6], [-46.5, -23.6], [-46.5, -23.4], [-46.7, -23.6]]] },
  { type: 'Polygon', coordinates: [[[0, 0], [1e9, 0], [0, 1], [0, 0]]] },
  { type: 'Polygon', coordinates: 'nope' },
  { type: 'MultiPolygon', coordinates: [[[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]] },
  { type: 'Point', coordinates: [0, 0] },
  { type: 'Polygon', coordinates: [[[null, 'x']]] },
];

/** Plausible values, so most requests get past coercion and one hostile leaf reaches the services. */
const PLAUSIBLE: Record<string, readonly unknown[]> = {
  String: ['São Paulo', 'headphones', 'city', 'view,cart', 'my order has not arrived'],
  ID: ['1', '2', '3', '10', '42'],
  Int: [1, 2, 5, 10, 24],
  Float: [-23.55, -46.63, 5, 0.5, 25],
  DateTime: ['2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z', '2026-03-15T12:00:00Z'],
};

function scalar(type: GraphQLScalarType): unknown {
  const plausible = PLAUSIBLE[type.name];
  if (plausible && rand() < 0.75) return pick(plausible);
  switch (type.name) {
    case 'String': return pick(STRINGS);
    case 'ID': return pick(IDS);
    case 'Int': return pick(INTS);
    case 'Float': return pick(FLOATS);
    case 'Boolean': return rand() < 0.5;
    case 'DateTime': return pick(DATES);
    case 'JSONObject': return pick(JSONS);
    case 'GeoJSON': return pick(GEOJSON);
    default: return pick(STRINGS);
  }
}

function value(type: GraphQLInputType, depth = 0): unknown {
  if (type instanceof GraphQLNonNull) return value(type.ofType, depth);
  if (depth > 0 && rand() < 0.15) return null;
  if (type instanceof GraphQLList) {
    return Array.from({ length: Math.floor(rand() * 3) }, () => value(type.ofType, depth + 1));
  }
  if (type instanceof GraphQLEnumType) return pick(type.getValues()).name;
  if (type instanceof GraphQLScalarType) return scalar(type);
  const fields = (type).getFields();
  const out: Record<string, unknown> = {};
  for (const f of Object.values(fields)) {
    const required = f.type instanceof GraphQLNonNull;
    if (required || rand() < 0.5) out[f.name] = value(f.type, depth + 1);
  }
  return out;
}

function selection(type: GraphQLNamedType): string {
  return isCompositeType(type) ? '{ __typename }' : '';
}

function operation(kind: 'query' | 'mutation', field: string, args: readonly GraphQLArgument[], returns: GraphQLNamedType) {
  const chosen = args.filter((a) => a.type instanceof GraphQLNonNull || rand() < 0.6);
  const vars = chosen.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const call = chosen.length ? `(${chosen.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return {
    query: `${kind} Fuzz${vars ? `(${vars})` : ''} { ${field}${call} ${selection(returns)} }`,
    variables: Object.fromEntries(chosen.map((a) => [a.name, value(a.type)])),
  };
}

/** Mutations whose effects would change what later rounds exercise (and mean nothing here). */
const SKIP = new Set(['revokeApiKey', 'deleteUser']);

describe(`fuzz over every argument (seed ${SEED})`, () => {
  it('never answers 500 nor INTERNAL_SERVER_ERROR, and never stalls', async () => {
    const failures: string[] = [];
    let sent = 0;
    let answered = 0;
    let slowest = { ms: 0, query: '' };
    // Admins reach every field; a partner key takes the restricted paths (aligned, noisy analytics, trending).
    const partner = { authorization: `Bearer ${await createKey(t.app, 'PARTNER')}` };
    const passes = [
      { kind: 'query', headers: {}, rounds: ROUNDS },
      { kind: 'mutation', headers: {}, rounds: ROUNDS },
      { kind: 'query', headers: partner, rounds: Math.ceil(ROUNDS / 2) },
    ] as const;
    for (const { kind, headers, rounds } of passes) {
      const root = kind === 'query' ? t.app.schema.getQueryType()! : t.app.schema.getMutationType()!;
      for (const field of Object.values(root.getFields())) {
        if (SKIP.has(field.name)) continue;
        for (let round = 0; round < rounds; round++) {
          const op = operation(kind, field.name, field.args, getNamedType(field.type));
          const started = performance.now();
          const res = await fetch(t.app.url, { method: 'POST', headers: withAuth({ 'content-type': 'application/json', ...headers }), body: JSON.stringify(op) });
          const text = await res.text();
          const ms = performance.now() - started;
          sent++;
          if (ms > slowest.ms) slowest = { ms, query: op.query };
          if (!text.includes('"errors"')) answered++;
          if (res.status >= 500 || text.includes('INTERNAL_SERVER_ERROR') || ms > 10_000) {
            failures.push(`${res.status} in ${ms.toFixed(0)} ms: ${JSON.stringify(op).slice(0, 600)}\n  -> ${text.slice(0, 300)}`);
          }
        }
      }
    }
    process.stderr.write(`fuzz seed ${SEED}: ${sent} requests (${answered} answered without errors), ${failures.length} failures, slowest ${slowest.ms.toFixed(0)} ms (${slowest.query.slice(0, 120)})\n`);
    expect(failures).toEqual([]);
    const health = await fetch(t.app.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
  });
});
