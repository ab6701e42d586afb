/**
 * Products by id for the serving path, in key order, with the ids as one array parameter. One
 * parameter keeps the protocol message small however many candidates there are: a statement with
 * hundreds of bind parameters can be split across socket reads, which the embedded database's
 * connection multiplexer interleaves with other connections' messages under concurrency.
 */
import type { DataSource } from 'typeorm';
import { ProductEntity } from '../catalog/product.entity';
import { isNumericId } from '../db/query-filters';

export class ProductLookup {
  constructor(private readonly ds: DataSource) {}

  async byIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    const valid = [...new Set(ids.filter(isNumericId))];
    const rows = valid.length
      ? await this.ds.getRepository(ProductEntity).createQueryBuilder('p').where('p.id = ANY(CAST(:ids AS bigint[]))', { ids: valid }).getMany()
      : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
