/**
 * Right to erasure. deleteUser removes, in one transaction, the user's events, reviews, API keys
 * and the user row itself (names, email, home location, attributes). Later training snapshots
 * cannot contain them (the rows are gone); aggregates derived from events are maintained by the
 * hooks registered here (e.g. analytics rollups), inside the same transaction.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../common/errors';
import { isNumericId } from '../db/query-filters';

export interface DeletedUser {
  readonly userId: string;
  readonly events: number;
  readonly reviews: number;
  readonly apiKeys: number;
}

/** Called inside the deletion transaction, before the user's events are deleted. */
export type UserErasureHook = (em: EntityManager, userId: string) => Promise<void>;

export class PrivacyService {
  private readonly hooks: UserErasureHook[] = [];

  constructor(
    private readonly ds: DataSource,
    /** Called after the erasure commits, e.g. to drop cached credentials of the user's keys. */
    private readonly afterErasure: () => void = () => undefined,
  ) {}

  onUserErasure(hook: UserErasureHook): void {
    this.hooks.push(hook);
  }

  async deleteUser(id: string): Promise<DeletedUser> {
    if (!isNumericId(id)) throw ValidationError.of('id', 'is not a valid id');
    const result = await this.ds.transaction(async (em) => {
      const found = (await em.query(`SELECT id FROM users WHERE id = $1 FOR UPDATE`, [id])) as unknown[];
      if (found.length === 0) throw new NotFoundError('User', id);
      for (const hook of this.hooks) await hook(em, id);
      const count = async (sql: string) => {
        const rows = (await em.query(`WITH d AS (${sql} RETURNING 1) SELECT count(*)::int AS n FROM d`, [id])) as { n: number }[];
        return rows[0]!.n;
      };
      const events = await count(`DELETE FROM events WHERE user_id = $1`);
      const reviews = await count(`DELETE FROM reviews WHERE user_id = $1`);
      const apiKeys = await count(`DELETE FROM api_keys WHERE user_id = $1`);
      await em.query(`DELETE FROM users WHERE id = $1`, [id]);
      return { userId: id, events, reviews, apiKeys };
    });
    this.afterErasure();
    return result;
  }
}
