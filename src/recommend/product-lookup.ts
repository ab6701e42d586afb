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
import { TtlCache } from '../common/ttl-cache';

export class ProductLookup {
  private readonly cache: TtlCache<string, ProductEntity | null>;

  constructor(
    private readonly ds: DataSource,
    cacheTtlMs: number,
  ) {
    this.cache = new TtlCache(cacheTtlMs, 50_000);
  }

  async byIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    const valid = ids.filter(isNumericId);
    const values = await this.cache.getMany(valid, async (missing) => {
      const rows = await this.ds
        .getRepository(ProductEntity)
        .createQueryBuilder('p')
        .where('p.id = ANY(CAST(:ids AS bigint[]))', { ids: missing })
        .getMany();
      const byId = new Map(rows.map((r) => [r.id, r]));
      return missing.map((id) => byId.get(id) ?? null);
    });
    const byId = new Map(valid.map((id, i) => [id, values[i]!]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
