import { cellToBoundary, cellToParent } from 'h3-js';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Analytics rollups (see docs/analytics.md):
 * - analytics_cells: directory of every H3 res-9 cell that holds events, with its parents at
 *   resolutions 3–8 and its outline, all computed by h3-js (identical on every database).
 * - analytics_hourly: hour × res-9 cell × category, one count column per event type, units and
 *   revenue (integer cents) of purchases (and the res-8 parent, so res-8 grids need no join). analytics_daily (day × res-9 cell) and analytics_daily_r7 (day × res-7
 *   cell, with its parents) drop the category for the common uncategorised queries.
 * - analytics_user_hourly: hour × res-9 cell × user with the (category, type) pairs seen, for
 *   exact distinct-user counts.
 * - analytics_region_hourly / _daily: the same counts per region (membership by ST_Intersects),
 *   and analytics_region_r8_hourly / _daily / _weekly per region × res-8 cell (grids inside regions),
 *   valid for the geometry recorded in analytics_region_state; analytics_region_cells classifies
 *   directory cells against each region (interior or boundary).
 * Cell 0 stands for "no location"; category 0 for "no product category".
 *
 * Existing events are folded in here; from then on event.writer.ts maintains every table in the
 * same statement that inserts the events. Region tables are built on first use.
 */
export class Analytics1764700000000 implements MigrationInterface {
  name = 'Analytics1764700000000';

  async up(q: QueryRunner): Promise<void> {
    const counts = `views integer NOT NULL DEFAULT 0, searches integer NOT NULL DEFAULT 0,
      carts integer NOT NULL DEFAULT 0, purchases integer NOT NULL DEFAULT 0,
      favorites integer NOT NULL DEFAULT 0, units bigint NOT NULL DEFAULT 0,
      revenue_cents bigint NOT NULL DEFAULT 0`;
    await q.query(`
      CREATE TABLE analytics_cells (
        h3_r9 bigint PRIMARY KEY,
        r3 bigint NOT NULL, r4 bigint NOT NULL, r5 bigint NOT NULL,
        r6 bigint NOT NULL, r7 bigint NOT NULL, r8 bigint NOT NULL,
        geom geometry(Polygon, 4326) NOT NULL
      )`);
    await q.query(`CREATE INDEX analytics_cells_geom_gix ON analytics_cells USING gist (geom)`);
    await q.query(`CREATE INDEX analytics_cells_r7_idx ON analytics_cells (r7)`);
    await q.query(`
      CREATE TABLE analytics_hourly (
        bucket timestamptz NOT NULL, h3_r9 bigint NOT NULL, category_id bigint NOT NULL, r8 bigint NOT NULL, ${counts},
        PRIMARY KEY (bucket, h3_r9, category_id)
      )`);
    await q.query(`CREATE INDEX analytics_hourly_category_idx ON analytics_hourly (category_id, bucket)`);
    await q.query(`
      CREATE TABLE analytics_daily (
        bucket timestamptz NOT NULL, h3_r9 bigint NOT NULL, r8 bigint NOT NULL, ${counts},
        PRIMARY KEY (bucket, h3_r9)
      )`);
    await q.query(`
      CREATE TABLE analytics_daily_r7 (
        bucket timestamptz NOT NULL, h3_r7 bigint NOT NULL,
        r3 bigint NOT NULL, r4 bigint NOT NULL, r5 bigint NOT NULL, r6 bigint NOT NULL, ${counts},
        PRIMARY KEY (bucket, h3_r7)
      )`);
    await q.query(`
      CREATE TABLE analytics_user_hourly (
        bucket timestamptz NOT NULL, h3_r9 bigint NOT NULL, user_id bigint NOT NULL,
        kinds bigint[] NOT NULL,
        PRIMARY KEY (bucket, h3_r9, user_id)
      )`);
    await q.query(`
      CREATE TABLE analytics_region_state (
        region_id bigint PRIMARY KEY REFERENCES regions(id) ON DELETE CASCADE,
        geom_hash text NOT NULL,
        inner_geom geometry NOT NULL,
        outer_geom geometry NOT NULL,
        built_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX analytics_region_state_outer_gix ON analytics_region_state USING gist (outer_geom)`);
    await q.query(`
      CREATE TABLE analytics_region_cells (
        region_id bigint NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
        h3_r9 bigint NOT NULL,
        interior boolean NOT NULL,
        PRIMARY KEY (region_id, h3_r9)
      )`);
    for (const grain of ['hourly', 'daily', 'weekly']) {
      if (grain !== 'weekly') {
        await q.query(`
          CREATE TABLE analytics_region_${grain} (
            bucket timestamptz NOT NULL,
            region_id bigint NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
            category_id bigint NOT NULL, ${counts},
            PRIMARY KEY (region_id, bucket, category_id)
          )`);
      }
      await q.query(`
        CREATE TABLE analytics_region_r8_${grain} (
          bucket timestamptz NOT NULL,
          region_id bigint NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
          h3_r8 bigint NOT NULL,
          r3 bigint NOT NULL, r4 bigint NOT NULL, r5 bigint NOT NULL, r6 bigint NOT NULL, r7 bigint NOT NULL, ${counts},
          PRIMARY KEY (region_id, bucket, h3_r8)
        )`);
    }
    // Metric-aware reads: PURCHASES/REVENUE read only rows with purchases, index-only.
    const purchaseCols = 'h3_r9, r8, purchases, units, revenue_cents';
    await q.query(
      `CREATE INDEX analytics_hourly_purchases_idx ON analytics_hourly (category_id, bucket) INCLUDE (${purchaseCols}) WHERE purchases > 0`,
    );
    await q.query(`CREATE INDEX analytics_daily_purchases_idx ON analytics_daily (bucket) INCLUDE (${purchaseCols}) WHERE purchases > 0`);
    // Index-only reads of the tables behind grids over regions and coarse grids.
    const all = 'views, searches, carts, purchases, favorites, units, revenue_cents';
    for (const grain of ['daily', 'weekly']) {
      await q.query(
        `CREATE INDEX analytics_region_r8_${grain}_cover_idx ON analytics_region_r8_${grain} (region_id, bucket) INCLUDE (h3_r8, r3, r4, r5, r6, r7, ${all})`,
      );
    }
    await q.query(`CREATE INDEX analytics_daily_r7_cover_idx ON analytics_daily_r7 (bucket) INCLUDE (h3_r7, r3, r4, r5, r6, ${all})`);
    // Boundary cells of an area are answered from their raw events.
    await q.query(`CREATE INDEX analytics_events_cell_time_idx ON events (h3_r9, occurred_at)`);
    // Purchase history per user (RFM population, profiles) without scanning every event.
    await q.query(
      `CREATE INDEX analytics_events_purchase_idx ON events (user_id) INCLUDE (occurred_at, price, quantity) WHERE type = 'purchase'`,
    );
    await backfill(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS analytics_events_purchase_idx`);
    await q.query(`DROP INDEX IF EXISTS analytics_events_cell_time_idx`);
    for (const t of [
      'analytics_region_r8_weekly', 'analytics_region_r8_daily', 'analytics_region_r8_hourly',
      'analytics_region_daily', 'analytics_region_hourly', 'analytics_region_cells', 'analytics_region_state',
      'analytics_user_hourly', 'analytics_daily_r7', 'analytics_daily', 'analytics_hourly', 'analytics_cells',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}

/** Folds events stored before this migration into the rollups (a no-op on a fresh database). */
async function backfill(q: QueryRunner): Promise<void> {
  const cells = (await q.query(`SELECT DISTINCT h3_r9::text AS h FROM events WHERE h3_r9 IS NOT NULL`)) as { h: string }[];
  for (let i = 0; i < cells.length; i += 5_000) {
    const part = cells.slice(i, i + 5_000).map((c) => c.h);
    const hex = part.map((h) => BigInt(h).toString(16).padStart(15, '0'));
    const parent = (r: number) => hex.map((h) => BigInt(`0x${cellToParent(h, r)}`).toString());
    const wkt = hex.map((h) => `POLYGON((${cellToBoundary(h, true).map(([lng, lat]) => `${lng} ${lat}`).join(',')}))`);
    await q.query(
      `INSERT INTO analytics_cells (h3_r9, r3, r4, r5, r6, r7, r8, geom)
       SELECT h, a, b, c, d, e, f, ST_GeomFromText(w, 4326)
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
         AS x(h, a, b, c, d, e, f, w)`,
      [part, parent(3), parent(4), parent(5), parent(6), parent(7), parent(8), wkt],
    );
  }
  const sums = `count(*) FILTER (WHERE e.type = 'view'), count(*) FILTER (WHERE e.type = 'search'),
    count(*) FILTER (WHERE e.type = 'cart'), count(*) FILTER (WHERE e.type = 'purchase'),
    count(*) FILTER (WHERE e.type = 'favorite'),
    coalesce(sum(e.quantity) FILTER (WHERE e.type = 'purchase'), 0),
    coalesce(sum(round(e.price * 100)::bigint * e.quantity) FILTER (WHERE e.type = 'purchase'), 0)`;
  const cols = 'views, searches, carts, purchases, favorites, units, revenue_cents';
  await q.query(`
    INSERT INTO analytics_hourly (bucket, h3_r9, category_id, r8, ${cols})
    SELECT date_trunc('hour', e.occurred_at, 'UTC'), coalesce(e.h3_r9, 0), coalesce(p.category_id, 0), coalesce(c.r8, 0), ${sums}
    FROM events e LEFT JOIN products p ON p.id = e.product_id LEFT JOIN analytics_cells c ON c.h3_r9 = e.h3_r9
    GROUP BY 1, 2, 3, 4`);
  await q.query(`
    INSERT INTO analytics_daily (bucket, h3_r9, r8, ${cols})
    SELECT date_trunc('day', e.occurred_at, 'UTC'), coalesce(e.h3_r9, 0), coalesce(c.r8, 0), ${sums}
    FROM events e LEFT JOIN analytics_cells c ON c.h3_r9 = e.h3_r9 GROUP BY 1, 2, 3`);
  await q.query(`
    INSERT INTO analytics_daily_r7 (bucket, h3_r7, r3, r4, r5, r6, ${cols})
    SELECT date_trunc('day', e.occurred_at, 'UTC'), coalesce(c.r7, 0), coalesce(c.r3, 0), coalesce(c.r4, 0),
           coalesce(c.r5, 0), coalesce(c.r6, 0), ${sums}
    FROM events e LEFT JOIN analytics_cells c ON c.h3_r9 = e.h3_r9 GROUP BY 1, 2, 3, 4, 5, 6`);
  await q.query(`
    INSERT INTO analytics_user_hourly (bucket, h3_r9, user_id, kinds)
    SELECT date_trunc('hour', e.occurred_at, 'UTC'), coalesce(e.h3_r9, 0), e.user_id,
           array_agg(DISTINCT coalesce(p.category_id, 0) * 8 + CASE e.type
             WHEN 'view' THEN 1 WHEN 'search' THEN 2 WHEN 'cart' THEN 3 WHEN 'purchase' THEN 4 ELSE 5 END)
    FROM events e LEFT JOIN products p ON p.id = e.product_id
    GROUP BY 1, 2, 3`);
}
