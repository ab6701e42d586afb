/**
 * The cost rule every GraphQL operation meets, over HTTP (cost-limit.plugin.ts) and WebSocket
 * (http/ws-limits.ts) alike: a static cost above MAX_QUERY_COST is refused, anything else is
 * charged to the key's per-minute budget in the Limiter (this server's memory, or Redis for a fleet).
 */
import type { Principal } from '../auth/principal';
import type { SecurityConfig } from '../config/config';
import { type Limiter, rateKey } from './rate-limiter';

export interface CostRefusal {
  readonly code: 'COST_LIMIT_EXCEEDED' | 'RATE_LIMITED';
  /** The HTTP status an HTTP request gets for it. */
  readonly status: 400 | 429;
  readonly message: string;
  readonly extensions: Readonly<Record<string, number>>;
  /** RATE_LIMITED only: when enough budget will have been refilled. */
  readonly retryAfterSeconds?: number;
}

/** Refuses an operation that costs too much, or charges its cost; null when it may run. */
export async function chargeCost(cost: number, principal: Principal, security: SecurityConfig, limiter: Limiter): Promise<CostRefusal | null> {
  if (cost > security.maxCost) {
    return {
      code: 'COST_LIMIT_EXCEEDED',
      status: 400,
      message: `Operation cost ${cost} exceeds the maximum of ${security.maxCost}; ask for smaller pages or fewer nested lists`,
      extensions: { cost, maxCost: security.maxCost },
    };
  }
  const verdict = await limiter.spend(rateKey(principal), cost, security.limits[principal.role]);
  if (verdict.ok) return null;
  return {
    code: 'RATE_LIMITED',
    status: 429,
    message: `Rate limit: ${verdict.reason}; retry after ${verdict.retryAfterSeconds}s`,
    extensions: { retryAfterSeconds: verdict.retryAfterSeconds },
    retryAfterSeconds: verdict.retryAfterSeconds,
  };
}
