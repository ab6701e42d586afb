/**
 * A user's orders, read from their PURCHASE events: the purchases of one session are one order
 * (an importer's order id travels as the session, e.g. Olist's `olist:<order id>`), numbered by the
 * first purchase event's id. Amounts are the events' own prices; an order with an unpriced item
 * has no total (never the current catalog price, which may have changed since). Its shipment, where
 * the platform reported one, comes with it.
 */
import type { DataSource } from 'typeorm';
import type { ShipmentData } from './shipment.service';

export interface OrderItemData {
  readonly productId: string;
  readonly name: string;
  readonly quantity: number;
  /** Unit price paid; null when the event carried none. */
  readonly unitPrice: number | null;
}

export interface OrderData {
  /** The order number shown to the customer (the first purchase event's id). */
  readonly id: string;
  readonly placedAt: Date;
  readonly items: readonly OrderItemData[];
  /** Sum of quantity × price; null when an item has no price. */
  readonly total: number | null;
  /** What the platform reported about its delivery (order_shipments), or null. */
  readonly shipment: ShipmentData | null;
}

/** How many of a user's newest orders the assistant reads per turn. */
export const ORDERS_READ = 50;

interface OrderRow {
  id: string;
  placed_at: Date;
  status: ShipmentData['status'] | null;
  shipped_at: Date | null;
  estimated_delivery_at: Date | null;
  delivered_at: Date | null;
  items: { productId: string; name: string; quantity: number; unitPrice: number | string | null }[];
}

export class OrderReader {
  constructor(private readonly db: DataSource) {}

  /** The user's newest orders placed at or before `now`, newest first. */
  async recent(userId: string, now: Date, limit = ORDERS_READ): Promise<OrderData[]> {
    const rows = await this.db.query<OrderRow[]>(
      `SELECT o.*, s.status, s.shipped_at, s.estimated_delivery_at, s.delivered_at FROM (
         SELECT coalesce(e.session_id, e.id::text) AS ref, min(e.id)::text AS id, min(e.occurred_at) AS placed_at,
                json_agg(json_build_object('productId', e.product_id::text, 'name', p.name, 'quantity', e.quantity,
                                           'unitPrice', e.price) ORDER BY e.id) AS items
           FROM events e JOIN products p ON p.id = e.product_id
          WHERE e.user_id = $1 AND e.type = 'purchase' AND e.occurred_at <= $2
          GROUP BY coalesce(e.session_id, e.id::text)
          ORDER BY min(e.occurred_at) DESC, min(e.id) DESC
          LIMIT $3) o
       LEFT JOIN order_shipments s ON s.user_id = $1 AND s.order_ref = o.ref
       ORDER BY o.placed_at DESC, o.id::bigint DESC`,
      [userId, now, limit],
    );
    return rows.map(toOrder);
  }
}

function toOrder(r: OrderRow): OrderData {
  const items = r.items.map((i) => ({
    productId: i.productId,
    name: i.name,
    quantity: Number(i.quantity),
    unitPrice: i.unitPrice === null ? null : Number(i.unitPrice),
  }));
  const priced = items.every((i) => i.unitPrice !== null);
  const total = priced ? Math.round(items.reduce((a, i) => a + i.quantity * i.unitPrice!, 0) * 100) / 100 : null;
  const shipment = r.status ? {
    status: r.status, shippedAt: date(r.shipped_at), estimatedDeliveryAt: date(r.estimated_delivery_at), deliveredAt: date(r.delivered_at),
  } : null;
  return { id: r.id, placedAt: new Date(r.placed_at), items, total, shipment };
}

function date(v: Date | string | null): Date | null {
  return v === null ? null : new Date(v);
}
