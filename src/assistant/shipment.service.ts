/**
 * Order shipments: what the platform knows about an order's delivery (status, shipped, estimated
 * and actual delivery), keyed by the user and the order's reference — the session id its purchase
 * events carry (an importer's order id, e.g. Olist's `olist:<order id>`). Written by importers and
 * by `upsertOrderShipments`, read by the assistant (order status, "when will it arrive?"). A batch
 * is validated whole and written by one statement; a later update of the same order replaces it.
 */
import type { DataSource } from 'typeorm';
import { isNumericId } from '../db/query-filters';
import { IssueCollector } from '../common/errors';

export const SHIPMENT_STATUSES = ['processing', 'shipped', 'delivered', 'returned', 'lost'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export interface ShipmentData {
  readonly status: ShipmentStatus;
  readonly shippedAt: Date | null;
  readonly estimatedDeliveryAt: Date | null;
  readonly deliveredAt: Date | null;
}

export interface ShipmentInputData extends ShipmentData {
  readonly userId: string;
  /** The session id of the order's purchase events. */
  readonly orderRef: string;
}

export class ShipmentService {
  constructor(
    private readonly ds: DataSource,
    private readonly maxBatch: number,
  ) {}

  async upsert(inputs: readonly ShipmentInputData[]): Promise<number> {
    const issues = new IssueCollector();
    if (inputs.length === 0) issues.add('shipments', 'must hold at least one shipment');
    if (inputs.length > this.maxBatch) issues.add('shipments', `at most ${this.maxBatch} shipments per call`);
    const seen = new Set<string>();
    inputs.forEach((s, i) => {
      if (!isNumericId(s.userId)) issues.add(`shipments[${i}].userId`, 'must be a user id');
      const ref = s.orderRef.trim();
      if (ref === '' || ref.length > 200) issues.add(`shipments[${i}].orderRef`, 'must have 1–200 characters');
      else if (seen.has(`${s.userId}\u0000${ref}`)) issues.add(`shipments[${i}].orderRef`, 'repeats an order of the same user in this batch');
      seen.add(`${s.userId}\u0000${ref}`);
      if (!SHIPMENT_STATUSES.includes(s.status)) issues.add(`shipments[${i}].status`, `must be one of ${SHIPMENT_STATUSES.join(', ')}`);
      for (const k of ['shippedAt', 'estimatedDeliveryAt', 'deliveredAt'] as const) {
        const d = s[k];
        if (d !== null && Number.isNaN(d.getTime())) issues.add(`shipments[${i}].${k}`, 'must be a valid time');
      }
      if (s.status === 'delivered' && s.deliveredAt === null) issues.add(`shipments[${i}].deliveredAt`, 'is required when the status is delivered');
    });
    issues.throwIfAny();
    const known = await this.ds.query<{ id: string }[]>(`SELECT id::text FROM users WHERE id = ANY($1::bigint[])`, [[...new Set(inputs.map((s) => s.userId))]]);
    const ids = new Set(known.map((u) => u.id));
    inputs.forEach((s, i) => {
      if (!ids.has(s.userId)) issues.add(`shipments[${i}].userId`, `user ${s.userId} not found`);
    });
    issues.throwIfAny();
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    await this.ds.query(
      `INSERT INTO order_shipments (user_id, order_ref, status, shipped_at, estimated_delivery_at, delivered_at)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[])
       ON CONFLICT (user_id, order_ref) DO UPDATE SET status = EXCLUDED.status, shipped_at = EXCLUDED.shipped_at,
         estimated_delivery_at = EXCLUDED.estimated_delivery_at, delivered_at = EXCLUDED.delivered_at, updated_at = now()`,
      [inputs.map((s) => s.userId), inputs.map((s) => s.orderRef.trim()), inputs.map((s) => s.status),
        inputs.map((s) => iso(s.shippedAt)), inputs.map((s) => iso(s.estimatedDeliveryAt)), inputs.map((s) => iso(s.deliveredAt))],
    );
    return inputs.length;
  }
}
