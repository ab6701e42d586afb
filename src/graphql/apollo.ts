/** Apollo Server configured for Meridian: error mapping, no stack traces, introspection per environment. */
import { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config/config';
import type { Logger } from '../common/logger';
import type { Context } from './context';
import { createErrorFormatter } from './error-mapper';

export function createApollo(schema: GraphQLSchema, config: Config, logger: Logger): ApolloServer<Context> {
  return new ApolloServer<Context>({
    schema,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: config.nodeEnv !== 'production',
    csrfPrevention: true,
    // main.ts owns shutdown: drain HTTP first, then stop Apollo, then close the database.
    stopOnTerminationSignals: false,
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
}
