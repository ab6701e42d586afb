/**
 * The one place errors become GraphQL errors. Domain errors keep their code and message;
 * GraphQL's own request errors pass through; anything else is logged with context and
 * answered INTERNAL_SERVER_ERROR without internals (no SQL text, no stack).
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError } from '../common/errors';
import type { Logger } from '../common/logger';

/** Codes produced by GraphQL/Apollo themselves for bad requests; their messages are safe to show. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'NOT_FOUND',
  'COST_LIMIT_EXCEEDED',
  'PERSISTED_QUERY_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
]);

export interface FormatterOptions {
  /** Strip "Did you mean …?" hints, which reveal schema fields (production). */
  readonly hideSuggestions: boolean;
}

/** type-graphql's authorization failures, renamed to Meridian's codes. */
const AUTH_CODES: Record<string, string> = { UNAUTHORIZED: 'FORBIDDEN', UNAUTHENTICATED: 'UNAUTHENTICATED' };

export function createErrorFormatter(logger: Logger, opts: FormatterOptions = { hideSuggestions: false }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof DomainError) {
      if (original.internal) logger.warn({ code: original.code, internal: original.internal, path: formatted.path }, original.message);
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...(original.issues.length ? { issues: original.issues } : {}) },
      };
    }
    const raw = formatted.extensions?.code;
    let code = typeof raw === 'string' ? (AUTH_CODES[raw] ?? raw) : raw;
    // A literal our scalars refuse (e.g. a DateTime in year 1) is a validation error to graphql-js,
    // but to the client it is a bad input value, as the same value in a variable would be.
    const cause = error instanceof GraphQLError ? error.originalError : undefined;
    if (code === 'GRAPHQL_VALIDATION_FAILED' && cause instanceof GraphQLError && cause.extensions.code === 'BAD_USER_INPUT') code = 'BAD_USER_INPUT';
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      const message = opts.hideSuggestions ? formatted.message.replace(/ ?Did you mean .*\?$/, '') : formatted.message;
      return { ...formatted, message, extensions: { ...extensions, code } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while executing an operation');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
