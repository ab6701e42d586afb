/**
 * Behaviour events: validated, all-or-nothing, idempotent batch ingestion; listing; per-user
 * recent sequences for loaders and feature builders.
 *
 * A batch is validated whole before anything is written, then stored by one statement
 * (event.writer.ts), so it is all-or-nothing and a retried batch inserts nothing twice.
 */
import type { DataSource } from 'typeorm';
import { IssueCollector, ValidationError } from '../common/errors';
import { type BoundingBox, checkBox, checkPoint, type GeoPoint } from '../common/geo';
import { decodeTimeIdCursor, type Page, type PageArgs, pageSize, toPage } from '../common/pagination';
import {
  checkRadius, checkTimeRange, existingIds, isNumericId, type RadiusFilter, type TimeRange,
  whereInTimeRange, whereWithinBox, whereWithinRadius,
} from '../db/query-filters';
import { EVENT_TYPES, EventEntity, type EventTypeName } from './event.entity';
import { type InsertFold, insertEvents } from './event.writer';

export interface EventInputData {
  readonly idempotencyKey: string;
  readonly userId: string;
  readonly productId?: string | null;
  readonly type: EventTypeName;
  readonly occurredAt: Date;
  readonly location?: GeoPoint | null;
  readonly sessionId?: string | null;
  readonly quantity?: number | null;
  readonly price?: number | null;
  readonly query?: string | null;
}

export interface IngestResultData {
  readonly accepted: number;
  readonly duplicates: number;
  /** Idempotency keys that were already stored (or repeated within the batch). */
  readonly duplicateKeys: string[];
}

export interface EventFilterData {
  readonly userId?: string | null;
  readonly productId?: string | null;
  readonly types?: readonly EventTypeName[] | null;
  readonly sessionId?: string | null;
  readonly occurredAt?: TimeRange | null;
  readonly near?: RadiusFilter | null;
  readonly within?: BoundingBox | null;
}

export interface IngestLimits {
  readonly maxBatch: number;
  readonly futureSkewSeconds: number;
}

/** Oldest timestamp accepted, to catch unit mistakes (seconds vs milliseconds). */
const MIN_OCCURRED_AT = Date.UTC(2000, 0, 1);
const MAX_KEY_LENGTH = 200;
/** Prices are numeric(12,2): below 10^10. */
const MAX_PRICE = 1e10;

/** What makes two events the same event: everything but the key. */
function content(e: EventInputData): string {
  return JSON.stringify([
    e.userId, e.productId ?? null, e.type, e.occurredAt.getTime(), e.location?.latitude ?? null, e.location?.longitude ?? null,
    e.sessionId ?? null, e.quantity ?? 1, e.price ?? null, e.query ?? null,
  ]);
}

/**
 * A key repeated within one batch must repeat the same event (a client retrying inside its own
 * batch); a repeat with other content would be dropped silently, so it is refused instead.
 */
function checkRepeatedKeys(events: readonly EventInputData[], issues: IssueCollector): void {
  const first = new Map<string, { index: number; content: string }>();
  events.forEach((e, i) => {
    const seen = first.get(e.idempotencyKey);
    if (!seen) first.set(e.idempotencyKey, { index: i, content: content(e) });
    else if (seen.content !== content(e)) {
      issues.add(`events[${i}].idempotencyKey`, `repeats the key of events[${seen.index}] with different content`);
    }
  });
}

export class EventService {
  constructor(
    private readonly ds: DataSource,
    private readonly limits: IngestLimits,
    /** The derived tables every stored batch is folded into (the analytics rollups). */
    private readonly fold: InsertFold,
  ) {}

  async ingest(events: readonly EventInputData[], now = new Date()): Promise<IngestResultData> {
    const prices = await this.validate(events, now);
    const seen = new Set<string>();
    const batch = events.filter((e) => !seen.has(e.idempotencyKey) && seen.add(e.idempotencyKey));
    const inBatchRepeats = events.length - batch.length;
    if (batch.length === 0) return { accepted: 0, duplicates: 0, duplicateKeys: [] };

    const stored = await insertEvents(
      this.ds,
      batch.map((e) => ({
        idempotencyKey: e.idempotencyKey,
        userId: e.userId,
        productId: e.productId ?? null,
        type: e.type,
        occurredAt: e.occurredAt,
        latitude: e.location?.latitude ?? null,
        longitude: e.location?.longitude ?? null,
        sessionId: e.sessionId ?? null,
        quantity: e.quantity ?? 1,
        // The price at the time of the event: the client's, else the product's current price.
        price: e.price ?? (e.productId ? prices.get(e.productId) : null) ?? null,
        query: e.query ?? null,
      })),
      this.fold,
    );
    const inserted = new Set(stored);
    // A key is a duplicate when it was stored before or repeats within this batch; each is listed once.
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.idempotencyKey, (counts.get(e.idempotencyKey) ?? 0) + 1);
    const duplicateKeys = [...counts].filter(([k, n]) => n > 1 || !inserted.has(k)).map(([k]) => k);
    return { accepted: inserted.size, duplicates: batch.length - inserted.size + inBatchRepeats, duplicateKeys };
  }

  /** Checks every event; returns current prices of the referenced products. Throws listing every bad field. */
  private async validate(events: readonly EventInputData[], now: Date): Promise<Map<string, number>> {
    if (events.length === 0) throw ValidationError.of('events', 'must not be empty');
    if (events.length > this.limits.maxBatch) {
      throw ValidationError.of('events', `at most ${this.limits.maxBatch} events per call, got ${events.length}`);
    }
    const issues = new IssueCollector();
    const latest = now.getTime() + this.limits.futureSkewSeconds * 1000;
    events.forEach((e, i) => {
      const at = `events[${i}]`;
      if (!e.idempotencyKey || e.idempotencyKey.length > MAX_KEY_LENGTH) {
        issues.add(`${at}.idempotencyKey`, `must be 1–${MAX_KEY_LENGTH} characters`);
      }
      if (!isNumericId(e.userId)) issues.add(`${at}.userId`, 'is not a valid id');
      if (e.productId != null && !isNumericId(e.productId)) issues.add(`${at}.productId`, 'is not a valid id');
      if (!(EVENT_TYPES as readonly string[]).includes(e.type)) issues.add(`${at}.type`, `must be one of ${EVENT_TYPES.join(', ')}`);
      if (e.type !== 'search' && e.productId == null) issues.add(`${at}.productId`, `is required for ${e.type} events`);
      const t = e.occurredAt?.getTime();
      if (!Number.isFinite(t)) issues.add(`${at}.occurredAt`, 'is not a valid time');
      else if (t > latest) issues.add(`${at}.occurredAt`, `is in the future (more than ${this.limits.futureSkewSeconds}s ahead)`);
      else if (t < MIN_OCCURRED_AT) issues.add(`${at}.occurredAt`, 'is before 2000-01-01');
      if (e.location) checkPoint(e.location, `${at}.location`, issues);
      if (e.quantity != null && (!Number.isInteger(e.quantity) || e.quantity < 1 || e.quantity > 100_000)) {
        issues.add(`${at}.quantity`, 'must be an integer from 1 to 100000');
      }
      if (e.price != null && (!Number.isFinite(e.price) || e.price < 0 || e.price >= MAX_PRICE)) {
        issues.add(`${at}.price`, `must be a number from 0 to ${MAX_PRICE - 0.01} (numeric(12,2))`);
      }
      if (e.sessionId != null && e.sessionId.length > MAX_KEY_LENGTH) issues.add(`${at}.sessionId`, 'is too long');
      if (e.query != null && e.query.length > 500) issues.add(`${at}.query`, 'must be at most 500 characters');
    });
    checkRepeatedKeys(events, issues);
    issues.throwIfAny();

    const productIds = [...new Set(events.map((e) => e.productId).filter((p): p is string => p != null))];
    const [users, products] = await Promise.all([
      existingIds(this.ds, 'users', events.map((e) => e.userId)),
      this.productPrices(productIds),
    ]);
    events.forEach((e, i) => {
      if (!users.has(e.userId)) issues.add(`events[${i}].userId`, `unknown user ${e.userId}`);
      if (e.productId != null && !products.has(e.productId)) issues.add(`events[${i}].productId`, `unknown product ${e.productId}`);
    });
    issues.throwIfAny();
    return products;
  }

  private async productPrices(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; price: string }[] = await this.ds.query(
      `SELECT id, price FROM products WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, Number(r.price)]));
  }

  async list(filter: EventFilterData, args: PageArgs): Promise<Page<EventEntity>> {
    const limit = pageSize(args.first);
    const issues = new IssueCollector();
    if (filter.userId != null && !isNumericId(filter.userId)) issues.add('filter.userId', 'is not a valid id');
    if (filter.productId != null && !isNumericId(filter.productId)) issues.add('filter.productId', 'is not a valid id');
    if (filter.occurredAt) checkTimeRange(filter.occurredAt, 'filter.occurredAt', issues);
    if (filter.near) checkRadius(filter.near, 'filter.near', issues);
    if (filter.within) checkBox(filter.within, 'filter.within', issues);
    issues.throwIfAny();

    const qb = this.ds.getRepository(EventEntity).createQueryBuilder('e');
    if (filter.userId) qb.andWhere('e.user_id = :uid', { uid: filter.userId });
    if (filter.productId) qb.andWhere('e.product_id = :pid', { pid: filter.productId });
    if (filter.types?.length) qb.andWhere('e.type = ANY(:types)', { types: filter.types });
    if (filter.sessionId) qb.andWhere('e.session_id = :sid', { sid: filter.sessionId });
    if (filter.occurredAt) whereInTimeRange(qb, 'e.occurred_at', filter.occurredAt);
    if (filter.near) whereWithinRadius(qb, 'e.location', filter.near);
    if (filter.within) whereWithinBox(qb, 'e.location', filter.within);
    if (args.after) {
      const [ts, id] = decodeTimeIdCursor(args.after);
      qb.andWhere('(e.occurred_at, e.id) < (:ats, :aid)', { ats: ts, aid: id });
    }
    const rows = await qb.orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').limit(limit + 1).getMany();
    return toPage(rows, limit, (r) => [r.occurredAt.toISOString(), r.id]);
  }

  /** The newest `limit` events of each user, newest first, in key order. One query. */
  async recentByUsers(userIds: readonly string[], limit: number): Promise<EventEntity[][]> {
    const valid = userIds.filter(isNumericId);
    const rows = valid.length
      ? await this.ds
          .getRepository(EventEntity)
          .createQueryBuilder('e')
          .where(
            `e.id IN (SELECT x.id FROM unnest(CAST(:keys AS bigint[])) k(v)
               CROSS JOIN LATERAL (SELECT id FROM events WHERE user_id = k.v ORDER BY occurred_at DESC, id DESC LIMIT :lim) x)`,
            { keys: valid, lim: limit },
          )
          .orderBy('e.occurred_at', 'DESC')
          .addOrderBy('e.id', 'DESC')
          .getMany()
      : [];
    const grouped = new Map<string, EventEntity[]>();
    for (const r of rows) grouped.set(r.userId, [...(grouped.get(r.userId) ?? []), r]);
    return userIds.map((k) => grouped.get(k) ?? []);
  }
}
