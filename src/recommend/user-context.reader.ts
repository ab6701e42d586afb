/**
 * What recommendations need about users, read fresh: the home location, the latest events up to
 * an instant and the purchases, one statement for many (user, instant) pairs. Reads asked for in
 * the same event-loop turn share that statement, also across requests (common/turn-batcher.ts),
 * each request answered for its own instants.
 */
import type { DataSource } from 'typeorm';
import type { GeoPoint } from '../common/geo';
import { TurnBatcher } from '../common/turn-batcher';
import { isNumericId } from '../db/query-filters';

/** A user as of an instant: the per-request context loader's key (recommend.loaders.ts). */
export interface ContextKey {
  readonly userId: string;
  readonly at: Date;
}

export interface UserContext {
  readonly userId: string;
  readonly events: readonly { type: string; productId: string | null; lat: number | null; lng: number | null }[];
  readonly home: GeoPoint | null;
  readonly purchased: ReadonlySet<string>;
  /** The number of latest events it was read for. */
  readonly lastN: number;
}

interface ReadRequest {
  readonly keys: readonly ContextKey[];
  readonly lastN: number;
}

interface Row {
  ord: string;
  id: string;
  lat: number | null;
  lng: number | null;
  events: { t: string; p: string | null; y: number | null; x: number | null }[] | string;
  purchased: string[] | string;
}

const SQL = `
  SELECT k.ord::text AS ord, u.id::text AS id, ST_Y(u.home_location) AS lat, ST_X(u.home_location) AS lng,
         (SELECT coalesce(json_agg(json_build_object('t', x.type, 'p', x.product_id::text, 'y', ST_Y(x.location), 'x', ST_X(x.location))
                                   ORDER BY x.occurred_at, x.id), '[]'::json)
            FROM (SELECT id, type, product_id, occurred_at, location FROM events
                  WHERE user_id = u.id AND occurred_at <= k.at ORDER BY occurred_at DESC, id DESC LIMIT $3) x) AS events,
         (SELECT coalesce(array_agg(DISTINCT e.product_id::text), '{}') FROM events e
            WHERE e.user_id = u.id AND e.type = 'purchase' AND e.product_id IS NOT NULL AND e.occurred_at <= k.at) AS purchased
  FROM unnest($1::bigint[], $2::timestamptz[]) WITH ORDINALITY k(id, at, ord)
  JOIN users u ON u.id = k.id`;

/** A key's identity: the user and the instant to the millisecond. */
export const contextKeyOf = (k: ContextKey): string => `${k.userId}|${k.at.getTime()}`;

export class UserContextReader {
  private readonly batcher = new TurnBatcher<ReadRequest, (UserContext | null)[]>((requests) => this.readAll(requests));

  constructor(private readonly ds: DataSource) {}

  /** Contexts with the `lastN` latest events, in key order (null for unknown or malformed ids). */
  read(keys: readonly ContextKey[], lastN: number): Promise<(UserContext | null)[]> {
    return this.batcher.submit({ keys, lastN });
  }

  private async readAll(requests: readonly ReadRequest[]): Promise<(UserContext | null)[][]> {
    // One (user, instant) pair per distinct request; reading more events than one asked for is harmless.
    const pairs = new Map<string, ContextKey>();
    for (const r of requests) for (const k of r.keys) if (isNumericId(k.userId)) pairs.set(contextKeyOf(k), k);
    const lastN = Math.max(...requests.map((r) => r.lastN));
    const list = [...pairs.values()];
    const rows = list.length
      ? await this.ds.query<Row[]>(SQL, [list.map((x) => x.userId), list.map((x) => x.at.toISOString()), lastN])
      : [];
    const found = new Map<string, UserContext>();
    for (const r of rows) found.set(contextKeyOf(list[Number(r.ord) - 1]!), hydrate(r, lastN));
    return requests.map((r) => r.keys.map((k) => found.get(contextKeyOf(k)) ?? null));
  }
}

function hydrate(u: Row, lastN: number): UserContext {
  const events = (typeof u.events === 'string' ? JSON.parse(u.events) : u.events) as { t: string; p: string | null; y: number | null; x: number | null }[];
  const purchased = typeof u.purchased === 'string' ? parsePgArray(u.purchased) : u.purchased;
  return {
    userId: u.id,
    events: events.map((e) => ({ type: e.t, productId: e.p, lat: e.y, lng: e.x })),
    home: u.lat === null || u.lng === null ? null : { latitude: Number(u.lat), longitude: Number(u.lng) },
    purchased: new Set(purchased),
    lastN,
  };
}

/** A text[] literal ("{1,2}") when a driver returns it unparsed. Ids never need quoting. */
function parsePgArray(literal: string): string[] {
  const inner = literal.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((v) => v.replace(/^"|"$/g, '')) : [];
}
