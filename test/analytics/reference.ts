/**
 * The raw-event reference for aggregates: a direct SQL scan of `events` (no rollups, no cell
 * directory) at the finest grain, finished in TypeScript with h3-js for coarser cells. Written
 * independently of src/analytics on purpose: the tests compare the service against it.
 */
import { cellToParent, latLngToCell } from 'h3-js';
import type { DataSource } from 'typeorm';

export interface RefQuery {
  metric: 'EVENTS' | 'USERS' | 'PURCHASES' | 'REVENUE' | 'CONVERSION';
  eventTypes?: string[];
  bucket: 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';
  grid: { h3: number } | { regions: string[] } | null;
  where?:
    | { bbox: [number, number, number, number] } // minLng, minLat, maxLng, maxLat
    | { polygon: object }
    | { near: [number, number]; radiusKm: number } // lat, lng
    | { regionIds: string[] };
  from: Date;
  to: Date;
  categoryIds?: string[];
  productIds?: string[];
}

export interface RefCell {
  value: number | null;
  users: number;
}

const TYPES_OF: Record<RefQuery['metric'], string[] | null> = {
  EVENTS: null,
  USERS: null,
  PURCHASES: ['purchase'],
  REVENUE: ['purchase'],
  CONVERSION: ['view', 'purchase'],
};

/** cellId|bucketISO → value and distinct users, with the same cellId conventions as the API. */
export async function referenceAggregate(ds: DataSource, q: RefQuery): Promise<Map<string, RefCell>> {
  const params: unknown[] = [q.from.toISOString(), q.to.toISOString()];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const types = TYPES_OF[q.metric] ?? (q.eventTypes?.length ? q.eventTypes : ['view', 'search', 'cart', 'purchase', 'favorite']);
  const conds = [`e.occurred_at >= $1::timestamptz`, `e.occurred_at < $2::timestamptz`, `e.type = ANY(${p(types)}::text[])`];
  let joins = '';
  let region = `NULL::text`;
  if (q.grid && 'regions' in q.grid) {
    joins += ` JOIN regions gr ON gr.id = ANY(${p(q.grid.regions)}::bigint[]) AND ST_Intersects(gr.geom, e.location)`;
    region = 'gr.id::text';
  }
  if (q.grid && 'h3' in q.grid) conds.push('e.location IS NOT NULL');
  const w = q.where;
  if (w && 'bbox' in w) conds.push(`e.location && ST_MakeEnvelope(${w.bbox.map((v) => `${p(v)}::float8`).join(', ')}, 4326)`);
  if (w && 'polygon' in w) conds.push(`ST_Intersects(ST_SetSRID(ST_GeomFromGeoJSON(${p(JSON.stringify(w.polygon))}), 4326), e.location)`);
  if (w && 'near' in w) {
    conds.push(
      `ST_DWithin(e.location::geography, ST_SetSRID(ST_MakePoint(${p(w.near[1])}::float8, ${p(w.near[0])}::float8), 4326)::geography, ${p(w.radiusKm * 1000)}::float8)`,
    );
  }
  if (w && 'regionIds' in w) {
    conds.push(`EXISTS (SELECT 1 FROM regions wr WHERE wr.id = ANY(${p(w.regionIds)}::bigint[]) AND ST_Intersects(wr.geom, e.location))`);
  }
  if (q.categoryIds?.length) {
    joins += ' JOIN products pc ON pc.id = e.product_id';
    conds.push(`pc.category_id = ANY(${p(q.categoryIds)}::bigint[])`);
  }
  if (q.productIds?.length) conds.push(`e.product_id = ANY(${p(q.productIds)}::bigint[])`);
  const unit = q.bucket.toLowerCase();
  const rows: { region: string | null; lat: number | null; lng: number | null; bucket: Date; user_id: string; type: string; n: number; rev: string | null }[] =
    await ds.query(
      `SELECT ${region} AS region, ST_Y(e.location) AS lat, ST_X(e.location) AS lng,
              date_trunc('${unit}', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
              e.user_id::text AS user_id, e.type, count(*)::int AS n, sum(e.price * e.quantity)::text AS rev
       FROM events e${joins} WHERE ${conds.join(' AND ')}
       GROUP BY 1, 2, 3, 4, 5, 6`,
      params,
    );
  const acc = new Map<string, { n: number; views: number; purchases: number; rev: number; users: Set<string> }>();
  const cellCache = new Map<string, string>();
  for (const r of rows) {
    let cell = 'all';
    if (q.grid && 'regions' in q.grid) cell = r.region!;
    else if (q.grid && 'h3' in q.grid) {
      const res = q.grid.h3;
      const k = `${r.lat},${r.lng}`;
      let c = cellCache.get(k);
      if (!c) {
        const r9 = latLngToCell(r.lat!, r.lng!, 9);
        c = res === 10 ? latLngToCell(r.lat!, r.lng!, 10) : res === 9 ? r9 : cellToParent(r9, res);
        cellCache.set(k, c);
      }
      cell = c;
    }
    const key = `${cell}|${new Date(r.bucket).toISOString()}`;
    let a = acc.get(key);
    if (!a) acc.set(key, (a = { n: 0, views: 0, purchases: 0, rev: 0, users: new Set() }));
    a.n += r.n;
    if (r.type === 'view') a.views += r.n;
    if (r.type === 'purchase') {
      a.purchases += r.n;
      a.rev += Math.round(Number(r.rev ?? 0) * 100); // integer cents: exact
    }
    a.users.add(r.user_id);
  }
  const out = new Map<string, RefCell>();
  for (const [k, a] of acc) {
    const value =
      q.metric === 'EVENTS'
        ? a.n
        : q.metric === 'USERS'
          ? a.users.size
          : q.metric === 'PURCHASES'
            ? a.purchases
            : q.metric === 'REVENUE'
              ? a.rev / 100
              : a.views > 0
                ? a.purchases / a.views
                : null;
    out.set(k, { value, users: a.users.size });
  }
  return out;
}
