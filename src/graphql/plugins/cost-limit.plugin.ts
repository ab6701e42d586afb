/**
 * Rejects operations whose static cost exceeds the maximum (400), and charges the cost to the
 * caller's per-minute budget (429 with Retry-After when spent). Runs once the operation and its
 * variables are known, before any resolver.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { SecurityConfig } from '../../config/config';
import { chargeCost } from '../../security/cost-budget';
import { operationCost } from '../../security/query-cost';
import type { Limiter } from '../../security/rate-limiter';
import type { Context } from '../context';

export function costLimitPlugin(security: SecurityConfig, limiter: Limiter): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue, response }) {
          if (!operation) return; // Apollo has already answered "operation not found"
          const cost = operationCost(schema, document, operation, request.variables ?? {});
          response.http.headers.set('x-query-cost', String(cost));
          const refused = await chargeCost(cost, contextValue.principal, security, limiter);
          if (refused) {
            const http = refused.retryAfterSeconds
              ? { status: refused.status, headers: new Map([['retry-after', String(refused.retryAfterSeconds)]]) }
              : { status: refused.status };
            throw new GraphQLError(refused.message, { extensions: { code: refused.code, ...refused.extensions, http } });
          }
        },
      };
    },
  };
}
