/**
 * The depth, alias and directive limits (graphql-armor) as GraphQL validation rules, for HTTP and
 * WebSocket alike. A rejection is reported as a validation error (400 GRAPHQL_VALIDATION_FAILED
 * over HTTP) rather than thrown: graphql-armor's propagateOnRejection throws from inside
 * validate(), which Apollo answers 500 INTERNAL_SERVER_ERROR.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';

export interface DocumentLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
}

const report = (ctx: ValidationContext | null, err: GraphQLError): void => ctx?.reportError(err);

export function documentLimitRules(s: DocumentLimits): ValidationRule[] {
  const common = { exposeLimits: true, propagateOnRejection: false, onReject: [report] };
  return [
    maxDepthRule({ n: s.maxDepth, ...common }),
    maxAliasesRule({ n: s.maxAliases, ...common }),
    maxDirectivesRule({ n: s.maxDirectives, ...common }),
  ];
}
