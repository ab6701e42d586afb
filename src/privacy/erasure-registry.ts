/**
 * Every store that can hold a user's data, and how deleteUser erases the user from it.
 *
 * Privacy owns the rows it deletes itself (events, reviews, API keys, the user row). Stores other
 * domains derive from them (analytics rollups, the audit log) are erased by those domains' hooks,
 * handed in as ErasureParts where the services are composed (src/services.ts): privacy imports no
 * other domain.
 *
 * Contract: every table with a column naming a user (`user_id`, `*_user_id`, and `users.id`) has
 * an entry; test/security/erasure.test.ts compares the composed registry with information_schema,
 * so a new table cannot be forgotten. deleteUser (privacy.service.ts) runs, inside its
 * transaction, every part's hook, then deletes the rows of every 'delete' entry in list order
 * (referencing tables before `users`). Aggregates without a user column (the count rollups, region
 * user counters) are listed too, under the hook that keeps them exact.
 *
 * In-memory caches are not tables: PrivacyService is handed the clear methods of every cache that
 * may hold aggregates over users, called after the erasure commits.
 */
import type { Queryable } from '../db/queryable';

/** Run inside the deletion transaction, before any row is deleted (hooks may read the user's events). */
export type ErasureHook = (db: Queryable, userId: string) => Promise<void>;

/** What another domain contributes: a hook and the stores it erases the user from. */
export interface ErasurePart {
  readonly name: string;
  readonly hook: ErasureHook;
  /** userColumn null: an aggregate with no user column, kept exact by the hook. `retained`: what stays, and why. */
  readonly stores: readonly { readonly table: string; readonly userColumn: string | null; readonly retained?: string }[];
}

export type StoreErasure =
  /** deleteUser deletes the rows whose `userColumn` is the user. */
  | { readonly table: string; readonly userColumn: string; readonly how: 'delete' }
  /** A hook erases the user. */
  | { readonly table: string; readonly userColumn: string | null; readonly how: 'hook'; readonly hook: string; readonly retained?: string };

export interface ErasureRegistry {
  readonly hooks: readonly ErasureHook[];
  readonly stores: readonly StoreErasure[];
}

/** Deleted in this order: the rows referencing users first, the user row (personal data) last. */
const DELETED_ROWS: readonly StoreErasure[] = [
  { table: 'events', userColumn: 'user_id', how: 'delete' },
  { table: 'reviews', userColumn: 'user_id', how: 'delete' },
  { table: 'api_keys', userColumn: 'user_id', how: 'delete' },
  { table: 'users', userColumn: 'id', how: 'delete' },
];

export function erasureRegistry(parts: readonly ErasurePart[]): ErasureRegistry {
  return {
    hooks: parts.map((p) => p.hook),
    stores: [...parts.flatMap((p) => p.stores.map((s) => ({ ...s, how: 'hook' as const, hook: p.name }))), ...DELETED_ROWS],
  };
}
