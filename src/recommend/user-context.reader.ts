/**
 * What recommendations need about users, read fresh: the user row, the latest events up to an
 * instant and the purchases, one statement for many (user, instant) pairs.
 *
 * Reads asked for in the same event-loop turn share that statement, also across requests: under
 * load the HTTP parser hands over several requests per turn, and one statement instead of one per
 * request saves the per-statement cost (a socket write and a round trip) where it matters. When the
 * server is idle a read waits for nothing but the end of the current turn (setImmediate).
 */
import type { DataSource } from 'typeorm';
import { UserEntity } from '../catalog/user.entity';
import type { GeoPoint } from '../common/geo';

export interface UserContext {
  readonly userId: string;
  readonly events: readonly { type: string; productId: string | null; lat: number | null; lng: number | null }[];
  readonly home: GeoPoint | null;
  readonly purchased: ReadonlySet<string>;
  /** The instant and the number of latest events it was read for. */
  readonly at: number;
  readonly lastN: number;
}

/** A user row read together with its recommendation context (one statement for both). */
export interface UserWithContext {
  readonly user: UserEntity;
  readonly context: UserContext;
}

interface Pending {
  readonly ids: readonly string[];
  readonly at: Date;
  readonly lastN: number;
  readonly resolve: (v: (UserWithContext | null)[]) => void;
  readonly reject: (e: unknown) => void;
}

interface Row {
  ord: string;
  id: string;
  external_id: string | null;
  name: string | null;
  email: string | null;
  home_location: UserEntity['homeLocation'];
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  lat: number | null;
  lng: number | null;
  events: { t: string; p: string | null; y: number | null; x: number | null }[] | string;
  purchased: string[] | string;
}

const SQL = `
  SELECT k.ord::text AS ord, u.id::text AS id, u.external_id, u.name, u.email,
         ST_AsGeoJSON(u.home_location)::json AS home_location, u.attributes, u.created_at, u.updated_at,
         ST_Y(u.home_location) AS lat, ST_X(u.home_location) AS lng,
         (SELECT coalesce(json_agg(json_build_object('t', x.type, 'p', x.product_id::text, 'y', ST_Y(x.location), 'x', ST_X(x.location))
                                   ORDER BY x.occurred_at, x.id), '[]'::json)
            FROM (SELECT id, type, product_id, occurred_at, location FROM events
                  WHERE user_id = u.id AND occurred_at <= k.at ORDER BY occurred_at DESC, id DESC LIMIT $3) x) AS events,
         (SELECT coalesce(array_agg(DISTINCT e.product_id::text), '{}') FROM events e
            WHERE e.user_id = u.id AND e.type = 'purchase' AND e.product_id IS NOT NULL AND e.occurred_at <= k.at) AS purchased
  FROM unnest($1::bigint[], $2::timestamptz[]) WITH ORDINALITY k(id, at, ord)
  JOIN users u ON u.id = k.id`;

export class UserContextReader {
  private queue: Pending[] = [];

  constructor(private readonly ds: DataSource) {}

  /** Users in key order (null for unknown or malformed ids) with their contexts as of `at`. */
  read(userIds: readonly string[], at: Date, lastN: number): Promise<(UserWithContext | null)[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ids: userIds, at, lastN, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    // One (user, instant) pair per distinct request; reading more events than one asked for is harmless.
    const pairs = new Map<string, { id: string; at: Date }>();
    for (const p of batch) {
      for (const id of p.ids) if (/^\d{1,18}$/.test(id)) pairs.set(`${id}|${p.at.getTime()}`, { id, at: p.at });
    }
    const lastN = Math.max(...batch.map((p) => p.lastN));
    try {
      const list = [...pairs.values()];
      const rows = list.length
        ? ((await this.ds.query(SQL, [list.map((x) => x.id), list.map((x) => x.at.toISOString()), lastN])) as Row[])
        : [];
      const found = new Map<string, UserWithContext>();
      for (const r of rows) {
        const pair = list[Number(r.ord) - 1]!;
        found.set(`${pair.id}|${pair.at.getTime()}`, hydrate(r, pair.at, lastN));
      }
      for (const p of batch) p.resolve(p.ids.map((id) => found.get(`${id}|${p.at.getTime()}`) ?? null));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

function hydrate(u: Row, at: Date, lastN: number): UserWithContext {
  const events = (typeof u.events === 'string' ? JSON.parse(u.events) : u.events) as { t: string; p: string | null; y: number | null; x: number | null }[];
  const purchased = typeof u.purchased === 'string' ? parsePgArray(u.purchased) : u.purchased;
  const user = Object.assign(new UserEntity(), {
    id: u.id,
    externalId: u.external_id,
    name: u.name,
    email: u.email,
    homeLocation: u.home_location,
    attributes: u.attributes,
    createdAt: u.created_at,
    updatedAt: u.updated_at,
  });
  const context: UserContext = {
    userId: u.id,
    events: events.map((e) => ({ type: e.t, productId: e.p, lat: e.y, lng: e.x })),
    home: u.lat === null || u.lng === null ? null : { latitude: Number(u.lat), longitude: Number(u.lng) },
    purchased: new Set(purchased),
    at: at.getTime(),
    lastN,
  };
  return { user, context };
}

/** A text[] literal ("{1,2}") when a driver returns it unparsed. Ids never need quoting. */
function parsePgArray(literal: string): string[] {
  const inner = literal.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((v) => v.replace(/^"|"$/g, '')) : [];
}
