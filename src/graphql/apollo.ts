/**
 * Apollo Server configured for Meridian: error mapping, no stack traces, introspection and field
 * suggestions off in production, depth/alias/directive limits (graphql-armor rules), cost limit
 * and per-key rate budgets, audit of mutations. Token and body limits run earlier, in src/http.
 */
import { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { AuditService } from '../auth/audit.service';
import type { Config } from '../config/config';
import type { Logger } from '../common/logger';
import type { Metrics } from '../observability/metrics';
import type { Limiter } from '../security/rate-limiter';
import { documentLimitRules } from '../security/validation-rules';
import type { Context } from './context';
import { createErrorFormatter } from './error-mapper';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { auditPlugin } from './plugins/audit.plugin';
import { costLimitPlugin } from './plugins/cost-limit.plugin';

export interface ApolloDeps {
  readonly limiter: Limiter;
  readonly audit: AuditService;
  readonly metrics: Metrics;
}

export function createApollo(schema: GraphQLSchema, config: Config, logger: Logger, deps: ApolloDeps): ApolloServer<Context> {
  const s = config.security;
  const production = config.nodeEnv === 'production';
  return new ApolloServer<Context>({
    schema,
    formatError: createErrorFormatter(logger, { hideSuggestions: production }),
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Persisted queries are resolved in src/http (unknown hash → 4xx, partner allow-list).
    persistedQueries: false,
    // main.ts owns shutdown: drain HTTP first, then stop Apollo, then close the database.
    stopOnTerminationSignals: false,
    validationRules: documentLimitRules(s),
    // Cache control is off: no field sets cache hints, and its per-field hook wraps every resolver.
    plugins: [deps.metrics.plugin<Context>(), costLimitPlugin(s, deps.limiter), auditPlugin(deps.audit, logger), ApolloServerPluginCacheControlDisabled()],
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
}
