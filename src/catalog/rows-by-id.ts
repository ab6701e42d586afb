/** Catalog rows by id for batch lookups (DataLoaders, the serving path). */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { isNumericId } from '../db/query-filters';

/**
 * Rows of `entity` (bigint `id`) in key order; unknown or malformed ids give null. One statement:
 * the ids go as one array parameter, which keeps the protocol message small however many there are
 * (the embedded database's connection multiplexer interleaves large, split messages of concurrent
 * connections).
 */
export async function rowsByIds<T extends ObjectLiteral & { id: string }>(ds: DataSource, entity: EntityTarget<T>, ids: readonly string[]): Promise<(T | null)[]> {
  const valid = [...new Set(ids.filter(isNumericId))];
  const rows = valid.length
    ? await ds.getRepository(entity).createQueryBuilder('r').where('r.id = ANY(CAST(:ids AS bigint[]))', { ids: valid }).getMany()
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}
