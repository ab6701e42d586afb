/**
 * How a user's erasure reaches the analytics stores (an ErasurePart of privacy/erasure-registry.ts,
 * wired in src/services.ts): every count rollup is decremented by the user's events, the per-user
 * rollup rows and region user rows are removed, and the region user counters kept exact.
 */
import { REGION_USER_TABLES } from './region-users';
import { COUNT_ROLLUPS, eraseUserFromRollups } from './rollup';

export const analyticsErasure = {
  name: 'rollups',
  hook: eraseUserFromRollups,
  stores: [
    ...COUNT_ROLLUPS.map((r) => ({ table: r.table, userColumn: null })),
    { table: 'analytics_user_hourly', userColumn: 'user_id' },
    // eraseUserFromRollups calls eraseUserFromRegionUsers.
    ...REGION_USER_TABLES.map((table) => ({ table, userColumn: table === 'analytics_region_user_counts' ? null : 'user_id' })),
  ],
} as const;
