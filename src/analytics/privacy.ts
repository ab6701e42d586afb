/**
 * The privacy rule for restricted callers (partners): a number derived from fewer than k distinct
 * users is suppressed, and nothing that locates one individual is returned. k comes from
 * AnalyticsAccess (config MERIDIAN_K_ANONYMITY for partners; null means full access).
 */
import type { AnalyticsAccess } from './analytics.model';

/**
 * The smallest number of distinct users a returned number may rest on, or null for full access.
 * Never below 2 for restricted callers: a cell of one user is that user's location.
 */
export function minUsers(access: AnalyticsAccess | null | undefined): number | null {
  if (!access || access.kAnonymity === null) return null;
  return Math.max(2, Math.floor(access.kAnonymity));
}

/** Whether a value backed by `users` distinct users may be shown. */
export function visible(users: number | null | undefined, access: AnalyticsAccess | null | undefined): boolean {
  const k = minUsers(access);
  return k === null || (users ?? 0) >= k;
}
