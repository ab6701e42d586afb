/**
 * Reads the event history the behavior features need, for many users in one statement, fresh on
 * every call (a new event changes the next prediction). Per user: the last L events, every event
 * of the last 30 days (all windows and recency caps of the features fit in 30 days), and the
 * first event (days since first seen); all at or before `now`.
 */
import type { DataSource } from 'typeorm';
import type { EventTypeName } from '../events/event.entity';
import type { BehaviorEventRow } from './behavior-features';

export interface UserHistory {
  readonly createdAt: number | null;
  /** Oldest → newest (ties by id). */
  readonly events: readonly BehaviorEventRow[];
}

interface EventRow {
  user_id: string;
  type: EventTypeName;
  product_id: string | null;
  occurred_at: Date;
  price: string | null;
  quantity: number;
}

export class UserHistoryRepository {
  constructor(private readonly ds: DataSource) {}

  /** Histories in key order; null for users that do not exist. */
  async histories(userIds: readonly string[], now: Date, lastN: number): Promise<(UserHistory | null)[]> {
    const valid = [...new Set(userIds.filter((id) => /^\d{1,18}$/.test(id)))];
    if (valid.length === 0) return userIds.map(() => null);
    const [users, events] = await Promise.all([
      this.ds.query<{ id: string; created_at: Date | null }[]>(`SELECT id::text AS id, created_at FROM users WHERE id = ANY($1::bigint[])`, [valid]),
      this.ds.query<EventRow[]>(
        `SELECT x.user_id::text AS user_id, x.type, x.product_id::text AS product_id, x.occurred_at, x.price, x.quantity
         FROM unnest($1::bigint[]) AS u(id)
         CROSS JOIN LATERAL (
           (SELECT id, user_id, type, product_id, occurred_at, price, quantity FROM events
             WHERE user_id = u.id AND occurred_at <= $2 ORDER BY occurred_at DESC, id DESC LIMIT $3)
           UNION
           (SELECT id, user_id, type, product_id, occurred_at, price, quantity FROM events
             WHERE user_id = u.id AND occurred_at <= $2 AND occurred_at > $2::timestamptz - interval '30 days')
           UNION
           (SELECT id, user_id, type, product_id, occurred_at, price, quantity FROM events
             WHERE user_id = u.id AND occurred_at <= $2 ORDER BY occurred_at ASC, id ASC LIMIT 1)
         ) x
         ORDER BY x.user_id, x.occurred_at, x.id`,
        [valid, now.toISOString(), lastN],
      ),
    ]);
    const byUser = new Map<string, BehaviorEventRow[]>();
    for (const r of events) {
      let list = byUser.get(r.user_id);
      if (!list) byUser.set(r.user_id, (list = []));
      list.push({
        type: r.type,
        productId: r.product_id,
        occurredAt: new Date(r.occurred_at).getTime(),
        price: r.price === null ? null : Number(r.price),
        quantity: r.quantity ?? 1,
      });
    }
    const created = new Map(users.map((u) => [u.id, u.created_at ? new Date(u.created_at).getTime() : null]));
    return userIds.map((id) => (created.has(id) ? { createdAt: created.get(id)!, events: byUser.get(id) ?? [] } : null));
  }
}
