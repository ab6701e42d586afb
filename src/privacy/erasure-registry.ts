/**
 * Every store that can hold a user's data, and how deleteUser erases the user from it.
 *
 * Contract: every table with a column naming a user (`user_id`, `*_user_id`, and `users.id`) has
 * an entry here; test/security/erasure.test.ts compares this list with information_schema, so a
 * new table cannot be forgotten. deleteUser (privacy.service.ts) runs, inside its transaction,
 * every hook of ERASURE_HOOKS, then deletes the rows of every 'delete' entry in list order
 * (referencing tables before `users`). Aggregates without a user column (the count rollups,
 * region user counters) are listed too, under the hook that keeps them exact.
 *
 * In-memory caches are not tables: services.ts hands PrivacyService the clear methods of every
 * cache that may hold aggregates over users, called after the erasure commits.
 */
import { REGION_USER_TABLES } from '../analytics/region-users';
import { COUNT_ROLLUPS, eraseUserFromRollups } from '../analytics/rollup';
import { scrubUserFromAuditLog } from '../auth/audit.service';
import type { Queryable } from '../db/queryable';


/** Run inside the deletion transaction, before any row is deleted (hooks may read the user's events). */
export type ErasureHook = (db: Queryable, userId: string) => Promise<void>;

export const ERASURE_HOOKS = {
  /** Decrements every count rollup by the user's events and removes the user's per-user rollup rows. */
  rollups: eraseUserFromRollups,
  /** Replaces the user's id where audit details name it (see AUDIT_RETAINED). */
  auditLog: scrubUserFromAuditLog,
} satisfies Record<string, ErasureHook>;
export type ErasureHookName = keyof typeof ERASURE_HOOKS;

export type StoreErasure =
  /** deleteUser deletes the rows whose `userColumn` is the user. */
  | { readonly table: string; readonly userColumn: string; readonly how: 'delete' }
  /** A hook erases the user (userColumn null: an aggregate with no user column, kept exact by the hook). */
  | { readonly table: string; readonly userColumn: string | null; readonly how: 'hook'; readonly hook: ErasureHookName; readonly retained?: string };

const AUDIT_RETAINED =
  'the entry of the deleteUser call itself (target = the erased id) is kept as the record that the erasure ' +
  'happened; every other mention of the id as a user (details …userId) is replaced';

export const ERASURE_REGISTRY: readonly StoreErasure[] = [
  ...COUNT_ROLLUPS.map((r) => ({ table: r.table, userColumn: null, how: 'hook', hook: 'rollups' }) as const),
  { table: 'analytics_user_hourly', userColumn: 'user_id', how: 'hook', hook: 'rollups' },
  // Region user rows and counters: eraseUserFromRollups calls eraseUserFromRegionUsers.
  ...REGION_USER_TABLES.map(
    (table) => ({ table, userColumn: table === 'analytics_region_user_counts' ? null : 'user_id', how: 'hook', hook: 'rollups' }) as const,
  ),
  { table: 'audit_log', userColumn: null, how: 'hook', hook: 'auditLog', retained: AUDIT_RETAINED },
  // Deleted in this order: the rows referencing users first, the user row (personal data) last.
  { table: 'events', userColumn: 'user_id', how: 'delete' },
  { table: 'reviews', userColumn: 'user_id', how: 'delete' },
  { table: 'api_keys', userColumn: 'user_id', how: 'delete' },
  { table: 'users', userColumn: 'id', how: 'delete' },
];
