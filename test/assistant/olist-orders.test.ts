/**
 * The assistant on real orders (Olist, imported through the public services): an order's delivery
 * as the platform recorded it (delivered on …, shipped on … with the estimated delivery) is what the
 * assistant states, equal to the CSV; `upsertOrderShipments` validates a batch whole.
 */
import path from 'node:path';
import type { App } from '../../src/app';
import { silentLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { readAll, zonedToUtc } from '../../src/importers/csv';
import { importOlist } from '../../src/importers/olist.importer';
import { createServices } from '../../src/services';
import { gql, startTestApp, testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { sharedDataDir } from '../helpers/shared-data';

const DIR = path.join(sharedDataDir(), 'olist-brazilian-ecommerce');
const ORDERS = 1_500;
let db: Database;
let app: App;

beforeAll(async () => {
  db = await openTestDatabase();
  await importOlist(createServices(db.dataSource, testConfig(), silentLogger()), DIR, silentLogger(), { maxOrders: ORDERS });
  app = await startTestApp(db);
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await db?.close();
});

/** Olist users with exactly one order, and that order's CSV row. */
async function singleOrderUsers(status: string) {
  const rows = await db.dataSource.query<{ user_id: string; ref: string }[]>(
    `SELECT user_id::text, min(session_id) AS ref FROM events WHERE session_id LIKE 'olist:%' GROUP BY user_id HAVING count(DISTINCT session_id) = 1`,
  );
  const orders = new Map((await readAll(path.join(DIR, 'sample_union/olist_orders_dataset.csv.gz'))).map((o) => [o.order_id!, o]));
  return rows.map((r) => ({ userId: r.user_id, order: orders.get(r.ref.slice('olist:'.length))! })).filter((x) => x.order.order_status === status);
}

const day = (local: string) => zonedToUtc(local, 'America/Sao_Paulo').toISOString().slice(0, 10);

async function ask(userId: string, texts: string[]) {
  const c = await gql(app, `mutation($u: ID!) { startConversation(input: { userId: $u }) { id } }`, { u: userId });
  const out = [];
  for (const t of texts) {
    const r = await gql(app, `mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { reply grounding { kind id fields } } }`,
      { c: c.body.data!.startConversation.id, t });
    out.push(r.body.data!.sendMessage as { reply: string; grounding: { kind: string; id: string; fields: Record<string, unknown> }[] });
  }
  return out;
}

it("states a delivered order's delivery date from the platform's data", async () => {
  const [x] = await singleOrderUsers('delivered');
  const [where, when] = await ask(x!.userId, ['where is my order?', 'and when will it arrive?']);
  const delivered = day(x!.order.order_delivered_customer_date!);
  for (const t of [where!, when!]) {
    expect(t.grounding[0]).toMatchObject({ kind: 'ORDER', fields: { status: 'delivered', deliveredOn: delivered, estimatedDelivery: day(x!.order.order_estimated_delivery_date!) } });
    expect(t.reply).toContain(`delivered on ${delivered}`);
  }
});

it('states a shipped order with its estimated delivery', async () => {
  const shipped = await singleOrderUsers('shipped');
  expect(shipped.length).toBeGreaterThan(0);
  const x = shipped[0]!;
  const [where] = await ask(x.userId, ['has my order shipped yet?']);
  const eta = day(x.order.order_estimated_delivery_date!);
  expect(where!.grounding[0]!.fields).toMatchObject({ status: 'shipped', estimatedDelivery: eta, deliveredOn: null });
  expect(where!.reply).toContain(`estimated delivery ${eta}`);
});

it('upsertOrderShipments validates the whole batch and replaces by order', async () => {
  const [x] = await singleOrderUsers('delivered');
  const UPSERT = `mutation($s: [OrderShipmentInput!]!) { upsertOrderShipments(shipments: $s) }`;
  const bad = await gql(app, UPSERT, { s: [
    { userId: x!.userId, orderRef: 'r-1', status: 'DELIVERED' },
    { userId: '999999999', orderRef: 'r-2', status: 'SHIPPED' },
  ] });
  expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(bad.body.errors?.[0]?.message).toContain('shipments[0].deliveredAt');
  const ok = await gql(app, UPSERT, { s: [{ userId: x!.userId, orderRef: 'r-1', status: 'SHIPPED', estimatedDeliveryAt: '2026-12-10T00:00:00Z' }] });
  expect(ok.body.data!.upsertOrderShipments).toBe(1);
  await gql(app, UPSERT, { s: [{ userId: x!.userId, orderRef: 'r-1', status: 'DELIVERED', deliveredAt: '2026-12-08T15:00:00Z' }] });
  const rows = await db.dataSource.query(`SELECT status, delivered_at FROM order_shipments WHERE user_id = $1 AND order_ref = 'r-1'`, [x!.userId]);
  expect(rows).toEqual([{ status: 'delivered', delivered_at: new Date('2026-12-08T15:00:00Z') }]);
  const partner = await gql(app, `mutation { createApiKey(input: { name: "p", role: PARTNER }) { secret } }`);
  // partners are allow-list only: register the operation so the request reaches the role check
  await gql(app, `mutation($n: String!, $q: String!){ registerPersistedOperation(name: $n, query: $q) { sha256 } }`, { n: 'shipments', q: UPSERT });
  const denied = await gql(app, UPSERT, { s: [] }, { authorization: `Bearer ${partner.body.data!.createApiKey.secret}` });
  expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});
