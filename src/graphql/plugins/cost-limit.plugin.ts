/**
 * Rejects operations whose static cost exceeds the maximum (400), and charges the cost to the
 * caller's per-minute budget (429 with Retry-After when spent). Runs once the operation and its
 * variables are known, before any resolver.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { SecurityConfig } from '../../config/config';
import { operationCost } from '../../security/query-cost';
import type { RateLimiter } from '../../security/rate-limiter';
import type { Context } from '../context';

export function costLimitPlugin(security: SecurityConfig, limiter: RateLimiter): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue, response }) {
          if (!operation) return; // Apollo has already answered "operation not found"
          const cost = operationCost(schema, document, operation, request.variables ?? {});
          response.http.headers.set('x-query-cost', String(cost));
          if (cost > security.maxCost) {
            throw new GraphQLError(`Operation cost ${cost} exceeds the maximum of ${security.maxCost}; ask for smaller pages or fewer nested lists`, {
              extensions: { code: 'COST_LIMIT_EXCEEDED', cost, maxCost: security.maxCost, http: { status: 400 } },
            });
          }
          const p = contextValue.principal;
          const verdict = limiter.spend(`key:${p.keyId ?? 'env-admin'}`, cost, security.limits[p.role]);
          if (!verdict.ok) {
            throw new GraphQLError(`Rate limit: ${verdict.reason}; retry after ${verdict.retryAfterSeconds}s`, {
              extensions: {
                code: 'RATE_LIMITED',
                retryAfterSeconds: verdict.retryAfterSeconds,
                http: { status: 429, headers: new Map([['retry-after', String(verdict.retryAfterSeconds)]]) },
              },
            });
          }
        },
      };
    },
  };
}
