/**
 * Right to erasure. deleteUser erases a user from every store listed in the erasure registry
 * (erasure-registry.ts), in one transaction: the hooks first (analytics rollups decremented and
 * per-user rollup rows removed, audit details scrubbed), then the user's events, reviews, API keys
 * and the user row itself (names, email, home location, attributes). Later training snapshots
 * cannot contain them (the rows are gone). After the commit, every in-memory cache that may hold
 * aggregates over the user (or the user's credentials) is cleared.
 */
import type { DataSource } from 'typeorm';
import { NotFoundError, ValidationError } from '../common/errors';
import { isNumericId } from '../db/query-filters';
import type { ErasureRegistry } from './erasure-registry';

export interface DeletedUser {
  readonly userId: string;
  readonly events: number;
  readonly reviews: number;
  readonly apiKeys: number;
}

export class PrivacyService {
  constructor(
    private readonly ds: DataSource,
    /** Every store holding a user's data (composed in src/services.ts). */
    readonly registry: ErasureRegistry,
    /** Clear methods of the caches that may hold the user's data or aggregates over it; called after the commit. */
    private readonly clearCaches: readonly (() => void)[] = [],
  ) {}

  async deleteUser(id: string): Promise<DeletedUser> {
    if (!isNumericId(id)) throw ValidationError.of('id', 'is not a valid id');
    const result = await this.ds.transaction(async (em) => {
      // Taken first, so a region or bulk rollup rebuild (SHARE lock on events) in progress finishes
      // before the hooks read the rollups, and one starting later waits for this commit: either way
      // the rebuilt rollups and this erasure see each other.
      await em.query(`LOCK TABLE events IN ROW EXCLUSIVE MODE`);
      const found = await em.query<unknown[]>(`SELECT id FROM users WHERE id = $1 FOR UPDATE`, [id]);
      if (found.length === 0) throw new NotFoundError('User', id);
      for (const hook of this.registry.hooks) await hook(em, id);
      const deleted = new Map<string, number>();
      for (const store of this.registry.stores) {
        if (store.how !== 'delete') continue;
        const rows = await em.query<{ n: number }[]>(
          `WITH d AS (DELETE FROM ${store.table} WHERE ${store.userColumn} = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
          [id],
        );
        deleted.set(store.table, rows[0]!.n);
      }
      return { userId: id, events: deleted.get('events') ?? 0, reviews: deleted.get('reviews') ?? 0, apiKeys: deleted.get('api_keys') ?? 0 };
    });
    for (const clear of this.clearCaches) clear();
    return result;
  }
}
