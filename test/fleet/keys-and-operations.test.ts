/**
 * Two API servers on one database (issue 18, "keys and operations across the fleet"): what one
 * server changes in the key table or the partner allow-list reaches the other within 5 s. Each
 * server keeps its own caches, as two processes would.
 */
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { bearer } from '../helpers/keys';

let db: Database;
let a: App;
let b: App;

beforeAll(async () => {
  db = await openTestDatabase();
  const env = { PARTNER_ALLOWLIST_ONLY: 'true', MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_WORKER: 'false' };
  a = await startTestApp(db, env);
  b = await startTestApp(db, env);
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await db?.close();
});

async function partnerKey(on: App): Promise<{ id: string; headers: Record<string, string> }> {
  const r = await gql(on, `mutation($i: CreateApiKeyInput!){ createApiKey(input: $i) { secret record { id } } }`, {
    i: { name: `fleet partner ${Date.now()}`, role: 'PARTNER' },
  });
  return { id: r.body.data!.createApiKey.record.id as string, headers: bearer(r.body.data!.createApiKey.secret as string) };
}

/** Polls `check` until it holds; the time it took, ms (throws after `limitMs`). */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > limitMs) throw new Error(`did not hold within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two servers, one database', () => {
  it('an operation allow-listed on server A is usable by partners on server B within 5 s', async () => {
    const partner = await partnerKey(a);
    const q = `{ categories { name } __typename }`;
    // B sees the operation refused first (and may remember that), then A registers it.
    const refused = await gql(b, q, {}, partner.headers);
    expect(refused.body.errors?.[0]?.extensions?.code).toBeDefined();
    const registered = await gql(a, `mutation($q: String!){ registerPersistedOperation(name: "fleet categories", query: $q) { sha256 } }`, { q });
    expect(registered.body.errors).toBeUndefined();
    const ms = await within(5_000, async () => !(await gql(b, q, {}, partner.headers)).body.errors);
    expect(ms).toBeLessThanOrEqual(5_000);
  });

  it('a key revoked on server A is refused by server B within 5 s', async () => {
    const partner = await partnerKey(a);
    const q = `{ __typename }`;
    await gql(a, `mutation($q: String!){ registerPersistedOperation(name: "fleet typename", query: $q) { sha256 } }`, { q });
    await within(5_000, async () => (await gql(b, q, {}, partner.headers)).status === 200); // B has the key cached
    const revoked = await gql(a, `mutation($id: ID!){ revokeApiKey(id: $id) { id } }`, { id: partner.id });
    expect(revoked.body.errors).toBeUndefined();
    const ms = await within(5_000, async () => (await gql(b, q, {}, partner.headers)).status === 401);
    expect(ms).toBeLessThanOrEqual(5_000);
  });
});
