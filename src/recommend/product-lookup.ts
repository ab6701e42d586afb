/**
 * Products by id for the serving path, in key order, cached for at most the serving cache TTL
 * (prices and stock may lag by that much; a user's own data is never cached).
 *
 * The ids go as one array parameter, which keeps the protocol message small however many
 * candidates there are (the embedded database's connection multiplexer interleaves large,
 * split messages of concurrent connections).
 */
import type { DataSource } from 'typeorm';
import { ProductEntity } from '../catalog/product.entity';
import { isNumericId } from '../db/query-filters';
import { TtlCache } from '../inference/ttl-cache';

export class ProductLookup {
  private readonly cache: TtlCache<string, ProductEntity | null>;

  constructor(
    private readonly ds: DataSource,
    cacheTtlMs: number,
  ) {
    this.cache = new TtlCache(cacheTtlMs, 50_000);
  }

  async byIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    const missing = [...new Set(ids.filter((id) => isNumericId(id) && this.cache.get(id) === undefined))];
    const found = new Map<string, ProductEntity | null>();
    if (missing.length) {
      const rows = await this.ds.getRepository(ProductEntity).createQueryBuilder('p').where('p.id = ANY(CAST(:ids AS bigint[]))', { ids: missing }).getMany();
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of missing) {
        const row = byId.get(id) ?? null;
        found.set(id, row);
        this.cache.set(id, row);
      }
    }
    return ids.map((id) => (found.has(id) ? found.get(id)! : (this.cache.get(id) ?? null)));
  }
}
