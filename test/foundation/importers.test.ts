/** The importers read the real Olist and Taobao data through the public services. */
import path from 'node:path';
import { silentLogger } from '../../src/common/logger';
import type { Database } from '../../src/db/database';
import { readAll, zonedToUtc } from '../../src/importers/csv';
import { importOlist } from '../../src/importers/olist.importer';
import { importRegions } from '../../src/importers/regions.importer';
import { importTaobao } from '../../src/importers/taobao.importer';
import { createServices, type Services } from '../../src/services';
import { testConfig } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { sharedDataDir } from '../helpers/shared-data';

const DATA = sharedDataDir();
let db: Database;
let services: Services;
beforeAll(async () => {
  db = await openTestDatabase();
  services = createServices(db.dataSource, testConfig(), silentLogger());
});
afterAll(async () => {
  await db.close();
});

describe('zonedToUtc', () => {
  it('honours historical Brazilian daylight saving time', () => {
    expect(zonedToUtc('2017-07-01 12:00:00', 'America/Sao_Paulo').toISOString()).toBe('2017-07-01T15:00:00.000Z'); // UTC-3
    expect(zonedToUtc('2017-12-01 12:00:00', 'America/Sao_Paulo').toISOString()).toBe('2017-12-01T14:00:00.000Z'); // DST, UTC-2
  });
});

describe('Olist importer', () => {
  const dir = path.join(DATA, 'olist-brazilian-ecommerce');
  const MAX = 2_000;

  it('imports orders as purchase events, idempotently, matching the CSVs', async () => {
    const first = await importOlist(services, dir, silentLogger(), { maxOrders: MAX });
    const orders = (await readAll(path.join(dir, 'sample_union/olist_orders_dataset.csv.gz')))
      .filter((o) => o.order_status !== 'canceled' && o.order_status !== 'unavailable' && o.order_purchase_timestamp)
      .slice(0, MAX);
    const ids = new Set(orders.map((o) => o.order_id));
    const items = (await readAll(path.join(dir, 'sample_union/olist_order_items_dataset.csv.gz'))).filter((i) => ids.has(i.order_id));
    expect(first.events.accepted).toBe(items.length);
    expect(first.products).toBe(new Set(items.map((i) => i.product_id)).size);
    const [{ n, revenue }] = await db.dataSource.query(
      `SELECT count(*)::int AS n, round(sum(price * quantity), 2)::float AS revenue FROM events WHERE idempotency_key LIKE 'olist:o:%'`,
    );
    expect(n).toBe(items.length);
    expect(revenue).toBeCloseTo(items.reduce((a, i) => a + Number(i.price), 0), 1);

    // every imported order's delivery is recorded once, keyed by the session its events carry
    const withItems = orders.filter((o) => items.some((i) => i.order_id === o.order_id));
    expect(first.shipments).toBe(withItems.length);
    const [{ shipments, delivered }] = await db.dataSource.query(
      `SELECT count(*)::int AS shipments, count(*) FILTER (WHERE status = 'delivered' AND delivered_at IS NOT NULL)::int AS delivered
         FROM order_shipments s WHERE EXISTS (SELECT 1 FROM events e WHERE e.user_id = s.user_id AND e.session_id = s.order_ref)`,
    );
    expect(shipments).toBe(withItems.length);
    expect(delivered).toBe(withItems.filter((o) => o.order_status === 'delivered' && o.order_delivered_customer_date).length);

    const again = await importOlist(services, dir, silentLogger(), { maxOrders: MAX });
    expect(again.events).toEqual({ accepted: 0, duplicates: items.length });
    expect(Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM order_shipments`))[0].n)).toBe(withItems.length);
    const [{ n: after }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM events WHERE idempotency_key LIKE 'olist:o:%'`);
    expect(after).toBe(items.length);
  }, 300_000);

  it('places customers inside their own Brazilian state polygon', async () => {
    await importRegions(services, path.join(DATA, 'regions/brazil-states.geojson.gz'), { codeProperty: 'sigla', codePrefix: 'br:', kind: 'state' });
    const [{ located, inside }] = await db.dataSource.query(
      `SELECT count(*)::int AS located,
              count(*) FILTER (WHERE ST_Contains(r.geom, u.home_location))::int AS inside
       FROM users u JOIN regions r ON r.code = 'br:' || (u.attributes->>'state')
       WHERE u.external_id LIKE 'olist:c:%' AND u.home_location IS NOT NULL`,
    );
    expect(located).toBeGreaterThan(500);
    expect(inside / located).toBeGreaterThan(0.98);
  }, 120_000);
});

describe('Taobao importer', () => {
  it('maps pv/cart/fav/buy to event types with the published counts', async () => {
    const r = await importTaobao(services, path.join(DATA, 'taobao-userbehavior-head/UserBehavior_head.csv.gz'), silentLogger());
    expect(r.users).toBe(815);
    const rows: { type: string; n: number }[] = await db.dataSource.query(
      `SELECT type, count(*)::int AS n FROM events WHERE idempotency_key LIKE 'taobao:%' GROUP BY type ORDER BY type`,
    );
    const counts = Object.fromEntries(rows.map((x) => [x.type, x.n]));
    // Expected straight from the file: distinct (user, item, behaviour, time) rows per behaviour.
    const file = await readAll(path.join(DATA, 'taobao-userbehavior-head/UserBehavior_head.csv.gz'), ['u', 'i', 'c', 'b', 't']);
    const distinct = new Map<string, Set<string>>();
    for (const x of file) distinct.set(x.b!, (distinct.get(x.b!) ?? new Set()).add(`${x.u}:${x.i}:${x.t}`));
    expect(file).toHaveLength(84_474);
    expect(counts).toEqual({
      view: distinct.get('pv')!.size,
      cart: distinct.get('cart')!.size,
      favorite: distinct.get('fav')!.size,
      purchase: distinct.get('buy')!.size,
    });
    expect(r.accepted + r.duplicates).toBe(84_474);
  }, 300_000);
});
