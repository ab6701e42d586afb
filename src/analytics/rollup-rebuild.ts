/**
 * Bulk path: recompute every rollup from the events table in one transaction. Live ingestion
 * folds each batch into the rollups in the statement that inserts it (rollup.ts); a bulk load of
 * history (the demo seeder, importers of millions of past events) inserts events alone
 * (insertEventsOnly) and then calls this once: a few set-based GROUP BY passes instead of one
 * upsert per touched rollup row per batch.
 *
 * The rebuild holds a SHARE lock on events, so no ingestion batch commits during it, and it
 * replaces the rollups whole: afterwards they equal what live ingestion would have produced.
 * Region rollups are marked stale and rebuilt on their first use (region-rollups.ts).
 */
import { kindCode } from './kinds';
import { COUNT_ROLLUPS, EV_COLUMNS, HOUR, rollupParams, upsert } from './rollup';
import type { Queryable } from '../events/event.writer';

/** The tables rebuilt here (region tables are rebuilt per region, on first use). */
const TABLES = ['analytics_hourly', 'analytics_daily', 'analytics_daily_r7', 'analytics_user_hourly'];

export interface TransactionRunner {
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
}

/** Rebuilds the cell directory and every non-regional rollup from raw events; returns the event count folded. */
export async function rebuildRollups(db: TransactionRunner): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query(`LOCK TABLE events IN SHARE MODE`);
    await tx.query(`SET LOCAL work_mem = '256MB'`);
    await addMissingCells(tx);
    await tx.query(`TRUNCATE ${TABLES.join(', ')}`);
    // Regional rollups and cell classifications are rebuilt on first use of each region.
    await tx.query(`DELETE FROM analytics_region_state`);
    const ev = `ev AS (SELECT ${EV_COLUMNS}
      FROM events i LEFT JOIN products p ON p.id = i.product_id LEFT JOIN analytics_cells c ON c.h3_r9 = i.h3_r9)`;
    for (const r of COUNT_ROLLUPS.filter((x) => !x.regional)) {
      await tx.query(`WITH ${ev} ${upsert(r.table, r.keyCols, r.keyExprs, 'ev', r.extraCols, r.extraExprs)}`);
    }
    await tx.query(
      `WITH ${ev} INSERT INTO analytics_user_hourly (bucket, h3_r9, user_id, kinds)
       SELECT ${HOUR}, ev.cell, ev.user_id, array_agg(DISTINCT ${kindCode('ev', 'ev.cat')} ORDER BY ${kindCode('ev', 'ev.cat')})
       FROM ev GROUP BY 1, 2, 3`,
    );
    const [{ n }] = (await tx.query(`SELECT count(*)::bigint AS n FROM events`)) as [{ n: string }];
    return Number(n);
  });
}

/**
 * VACUUM (ANALYZE) of the rebuilt tables, outside any transaction: fresh statistics, and visibility
 * maps so rollup reads are index-only (a bitmap heap scan of a freshly written table reads several
 * times more pages). Autovacuum gets there too, later.
 */
export async function vacuumRollups(db: Queryable): Promise<void> {
  for (const t of ['analytics_cells', ...TABLES]) await db.query(`VACUUM (ANALYZE) ${t}`);
}

/** Directory rows (parents, outline) for the res-9 cells of events that have none yet. */
async function addMissingCells(tx: Queryable): Promise<void> {
  const missing = (await tx.query(
    `SELECT DISTINCT e.h3_r9::text AS h FROM events e
     WHERE e.h3_r9 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM analytics_cells c WHERE c.h3_r9 = e.h3_r9)`,
  )) as { h: string }[];
  for (let i = 0; i < missing.length; i += 5_000) {
    await tx.query(
      `INSERT INTO analytics_cells (h3_r9, r3, r4, r5, r6, r7, r8, geom)
       SELECT h, a, b, c, d, e, f, ST_GeomFromText(w, 4326)
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
         AS x(h, a, b, c, d, e, f, w)
       ON CONFLICT (h3_r9) DO NOTHING`,
      rollupParams(missing.slice(i, i + 5_000).map((m) => m.h)),
    );
  }
}
