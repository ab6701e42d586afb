/**
 * The fast path that writes already-validated events: one INSERT … SELECT FROM unnest(…)
 * ON CONFLICT (idempotency_key) DO NOTHING per batch. A single statement is atomic, and a
 * retried batch inserts nothing twice. Used by ingestion and importers; bulk loads of history
 * (the demo seeder) use insertEventsOnly and then rebuild the rollups once.
 *
 * The same statement folds the inserted rows (only those: duplicates are never counted twice)
 * into the tables derived from events (an InsertFold: the analytics rollups, wired in
 * src/services.ts), so aggregates see an event as soon as its batch commits.
 */
import { latLngToCell } from 'h3-js';
import type { Queryable } from '../db/queryable';
import type { EventTypeName } from './event.entity';

export interface EventRow {
  readonly idempotencyKey: string;
  readonly userId: string;
  readonly productId: string | null;
  readonly type: EventTypeName;
  readonly occurredAt: Date;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly sessionId: string | null;
  readonly quantity: number;
  readonly price: number | null;
  readonly query: string | null;
}

export type { Queryable } from '../db/queryable';

/** Keeps tables derived from events exact: folds each inserted batch in, in the insert's own statement. */
export interface InsertFold {
  /** CTEs reading `ins` (the inserted rows: idempotency_key, user_id, product_id, type, occurred_at, location, h3_r9, quantity, price), parameters numbered from `firstParam`. */
  ctes(firstParam: number): string;
  /** Their parameters, given the rows' resolution-9 cells. */
  params(h3r9: readonly (string | null)[]): unknown[];
}

/** H3 resolution-9 cell of a point as a signed 64-bit integer string (fits Postgres bigint). */
export function h3r9(latitude: number, longitude: number): string {
  return BigInt(`0x${latLngToCell(latitude, longitude, 9)}`).toString();
}

const INSERT_EVENTS = `INSERT INTO events (idempotency_key, user_id, product_id, type, occurred_at, location, h3_r9,
                           session_id, quantity, price, query)
       SELECT x.k, x.u, x.p, x.t, x.ts,
              CASE WHEN x.lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326) END,
              x.h3, x.s, x.q, x.pr, x.qs
       FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::float8[],
                   $7::float8[], $8::bigint[], $9::text[], $10::int[], $11::numeric[], $12::text[])
         AS x(k, u, p, t, ts, lat, lng, h3, s, q, pr, qs)
       ON CONFLICT (idempotency_key) DO NOTHING`;

/** The 12 column parameters of INSERT_EVENTS, and the rows' res-9 cells. */
function eventParams(rows: readonly EventRow[]): { params: unknown[]; h3: (string | null)[] } {
  const col = <T>(f: (r: EventRow) => T) => rows.map(f);
  const h3 = col((r) => (r.latitude !== null && r.longitude !== null ? h3r9(r.latitude, r.longitude) : null));
  const params = [
    col((r) => r.idempotencyKey),
    col((r) => r.userId),
    col((r) => r.productId),
    col((r) => r.type),
    col((r) => r.occurredAt.toISOString()),
    col((r) => r.latitude),
    col((r) => r.longitude),
    h3,
    col((r) => r.sessionId),
    col((r) => r.quantity),
    col((r) => r.price),
    col((r) => r.query),
  ];
  return { params, h3 };
}

/** Inserts rows; returns the idempotency keys actually stored (the rest were duplicates). */
export async function insertEvents(db: Queryable, rows: readonly EventRow[], fold: InsertFold): Promise<string[]> {
  if (rows.length === 0) return [];
  const { params, h3 } = eventParams(rows);
  const inserted = (await db.query(
    `WITH ins AS (
       ${INSERT_EVENTS}
       RETURNING idempotency_key, user_id, product_id, type, occurred_at, location, h3_r9, quantity, price),
     ${fold.ctes(13)}
     SELECT idempotency_key FROM ins`,
    [...params, ...fold.params(h3)],
  )) as { idempotency_key: string }[];
  return inserted.map((r) => r.idempotency_key);
}

/**
 * Bulk loads only: inserts rows without touching the rollups (duplicates skipped as above).
 * The loader must call rebuildRollups (analytics/rollup-rebuild.ts) when it is done; until then
 * aggregates do not include these events. Never used by live ingestion.
 */
export async function insertEventsOnly(db: Queryable, rows: readonly EventRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(INSERT_EVENTS, eventParams(rows).params);
}
