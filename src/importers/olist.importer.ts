/**
 * Imports the real Olist marketplace data (../shared/data/olist-brazilian-ecommerce) through the
 * public services, so it is validated exactly like client data:
 * customers → users (home = mean of their zip prefix's geolocation points),
 * products referenced by orders → products (category in English, seller location by zip,
 * price = mean item price), order items of non-cancelled orders → PURCHASE events at the
 * purchase time (America/Sao_Paulo → UTC), reviews → reviews of the order's first product, and
 * each imported order's delivery (carrier, estimated and customer dates) → its order shipment.
 * Used by tests and benchmarks; the data itself is never shipped.
 */
import path from 'node:path';
import type { Logger } from '../common/logger';
import type { ShipmentInputData } from '../assistant/shipment.service';
import type { EventInputData } from '../events/event.service';
import type { Services } from '../services';
import { chunks, type CsvRecord, numberOrNull, readAll, zonedToUtc, ingestAll } from './csv';

export interface OlistImportResult {
  users: number;
  products: number;
  events: { accepted: number; duplicates: number };
  reviews: number;
  /** Orders whose delivery was recorded (order_shipments). */
  shipments: number;
}

export interface OlistImportOptions {
  /** Import only the first N orders (by purchase time). Defaults to all. */
  readonly maxOrders?: number;
}

const TZ = 'America/Sao_Paulo';

export async function importOlist(services: Services, dir: string, logger: Logger, opts: OlistImportOptions = {}): Promise<OlistImportResult> {
  const sample = (f: string) => path.join(dir, 'sample_union', f);
  const full = (f: string) => path.join(dir, 'full', f);
  const [orders, customers, items, reviews, geo, products, sellers, translation] = await Promise.all([
    readAll(sample('olist_orders_dataset.csv.gz')),
    readAll(sample('olist_customers_dataset.csv.gz')),
    readAll(sample('olist_order_items_dataset.csv.gz')),
    readAll(sample('olist_order_reviews_dataset.csv.gz')),
    readAll(sample('olist_geolocation_dataset.csv.gz')),
    readAll(full('olist_products_dataset.csv.gz')),
    readAll(full('olist_sellers_dataset.csv.gz')),
    readAll(full('product_category_name_translation.csv.gz')),
  ]);
  const kept = orders
    .filter((o) => o.order_status !== 'canceled' && o.order_status !== 'unavailable' && o.order_purchase_timestamp)
    .slice(0, opts.maxOrders ?? Infinity);
  const orderIds = new Set(kept.map((o) => o.order_id));
  const zipPoint = meanPointByZip(geo);
  const customerById = new Map(customers.map((c) => [c.customer_id!, c]));

  // Users: one per customer_unique_id among kept orders.
  const userRows = new Map<string, CsvRecord>();
  for (const o of kept) {
    const c = customerById.get(o.customer_id!);
    if (c) userRows.set(c.customer_unique_id!, c);
  }
  const userIds = new Map<string, string>();
  for (const part of chunks([...userRows.values()], 250)) {
    const saved = await services.users.upsert(
      part.map((c) => ({
        externalId: `olist:c:${c.customer_unique_id}`,
        homeLocation: zipPoint.get(c.customer_zip_code_prefix!) ?? null,
        attributes: { city: c.customer_city, state: c.customer_state, source: 'olist' },
      })),
    );
    saved.forEach((u) => userIds.set(u.externalId!, u.id));
  }

  // Products referenced by kept order items.
  const keptItems = items.filter((i) => orderIds.has(i.order_id));
  const english = new Map(translation.map((t) => [t.product_category_name!, t.product_category_name_english!]));
  const sellerZip = new Map(sellers.map((s) => [s.seller_id!, s.seller_zip_code_prefix!]));
  const productById = new Map(products.map((p) => [p.product_id!, p]));
  const priceSum = new Map<string, { sum: number; n: number; seller: string }>();
  for (const it of keptItems) {
    const acc = priceSum.get(it.product_id!) ?? { sum: 0, n: 0, seller: it.seller_id! };
    acc.sum += Number(it.price);
    acc.n += 1;
    priceSum.set(it.product_id!, acc);
  }
  const productIds = new Map<string, string>();
  for (const part of chunks([...priceSum.entries()], 250)) {
    const saved = await services.products.upsert(
      part.map(([pid, acc]) => {
        const raw = productById.get(pid);
        const category = english.get(raw?.product_category_name ?? '') ?? raw?.product_category_name ?? 'unknown';
        return {
          externalId: `olist:p:${pid}`,
          name: `${category.replace(/_/g, ' ')} ${pid.slice(0, 8)}`,
          description: `Olist product ${pid} (${category})`,
          price: Math.round((acc.sum / acc.n) * 100) / 100,
          stock: 1,
          category: category || 'unknown',
          location: zipPoint.get(sellerZip.get(acc.seller) ?? '') ?? null,
          attributes: { source: 'olist' },
        };
      }),
    );
    saved.forEach((p) => productIds.set(p.externalId!, p.id));
  }

  // Purchase events, one per order item.
  const orderById = new Map(kept.map((o) => [o.order_id!, o]));
  const events: EventInputData[] = [];
  /** Orders with at least one purchase event imported. */
  const sessions = new Set<string>();
  for (const it of keptItems) {
    const o = orderById.get(it.order_id!)!;
    const c = customerById.get(o.customer_id!);
    const userId = c && userIds.get(`olist:c:${c.customer_unique_id}`);
    const productId = productIds.get(`olist:p:${it.product_id}`);
    if (!userId || !productId) continue;
    sessions.add(it.order_id!);
    events.push({
      idempotencyKey: `olist:o:${it.order_id}:${it.order_item_id}`,
      userId,
      productId,
      type: 'purchase',
      occurredAt: zonedToUtc(o.order_purchase_timestamp!, TZ),
      location: zipPoint.get(c.customer_zip_code_prefix!) ?? null,
      sessionId: `olist:${it.order_id}`,
      quantity: 1,
      price: Number(it.price),
    });
  }
  const { accepted, duplicates } = await ingestAll(services, events);

  // Shipments: the orders' delivery dates, as the assistant states them (order ref = the session).
  const shipments: ShipmentInputData[] = [];
  for (const o of kept) {
    const c = customerById.get(o.customer_id!);
    const userId = c && userIds.get(`olist:c:${c.customer_unique_id}`);
    if (!userId || !sessions.has(o.order_id!)) continue;
    const at = (v: string | undefined) => (v ? zonedToUtc(v, TZ) : null);
    const deliveredAt = at(o.order_delivered_customer_date);
    const status = o.order_status === 'delivered' && deliveredAt ? 'delivered' : o.order_status === 'shipped' || o.order_delivered_carrier_date ? 'shipped' : 'processing';
    shipments.push({ userId, orderRef: `olist:${o.order_id}`, status, shippedAt: at(o.order_delivered_carrier_date), estimatedDeliveryAt: at(o.order_estimated_delivery_date), deliveredAt: status === 'delivered' ? deliveredAt : null });
  }
  for (const part of chunks(shipments, 250)) await services.orderShipments.upsert(part);

  // Reviews: one per (user, first product of the order); the latest wins.
  const firstProduct = new Map<string, string>();
  for (const it of keptItems) if (it.order_item_id === '1') firstProduct.set(it.order_id!, it.product_id!);
  const reviewByPair = new Map<string, { userId: string; productId: string; rating: number; title: string | null; body: string; createdAt: Date }>();
  for (const r of reviews) {
    const o = orderById.get(r.order_id!);
    const c = o && customerById.get(o.customer_id!);
    const userId = c && userIds.get(`olist:c:${c.customer_unique_id}`);
    const productId = o && productIds.get(`olist:p:${firstProduct.get(o.order_id!)}`);
    const rating = numberOrNull(r.review_score);
    if (!userId || !productId || rating === null) continue;
    const createdAt = zonedToUtc(r.review_creation_date!, TZ);
    const key = `${userId}:${productId}`;
    const prev = reviewByPair.get(key);
    if (prev && prev.createdAt >= createdAt) continue;
    reviewByPair.set(key, { userId, productId, rating, title: r.review_comment_title || null, body: r.review_comment_message ?? '', createdAt });
  }
  let reviewCount = 0;
  for (const part of chunks([...reviewByPair.values()], 250)) reviewCount += (await services.reviews.submit(part)).length;

  const result = { users: userIds.size, products: productIds.size, events: { accepted, duplicates }, reviews: reviewCount, shipments: shipments.length };
  logger.info(result, 'olist imported');
  return result;
}

function meanPointByZip(geo: readonly CsvRecord[]): Map<string, { latitude: number; longitude: number }> {
  const acc = new Map<string, { lat: number; lng: number; n: number }>();
  for (const g of geo) {
    const lat = numberOrNull(g.geolocation_lat);
    const lng = numberOrNull(g.geolocation_lng);
    if (lat === null || lng === null || Math.abs(lat) > 90 || Math.abs(lng) > 180) continue;
    const a = acc.get(g.geolocation_zip_code_prefix!) ?? { lat: 0, lng: 0, n: 0 };
    a.lat += lat;
    a.lng += lng;
    a.n += 1;
    acc.set(g.geolocation_zip_code_prefix!, a);
  }
  return new Map([...acc].map(([zip, a]) => [zip, { latitude: a.lat / a.n, longitude: a.lng / a.n }]));
}
