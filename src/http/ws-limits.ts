/**
 * The limits a subscription over WebSocket passes before it runs — the same as a POST /graphql:
 * token count, string and list sizes (request-guards), the depth/alias/directive validation rules
 * Apollo uses (security/validation-rules.ts), static cost against MAX_QUERY_COST, and the
 * cost charged to the key's per-minute budget in the shared RateLimiter. Each refusal is a
 * GraphQL error with the `extensions.code` HTTP answers (GRAPHQL_PARSE_FAILED, BAD_USER_INPUT,
 * GRAPHQL_VALIDATION_FAILED, COST_LIMIT_EXCEEDED, RATE_LIMITED).
 *
 * HTTP's per-key concurrency limit counts requests in flight; a subscription is in flight for as
 * long as it is open, so here it is replaced by caps on open subscriptions per socket and per key
 * (SubscriptionCaps), answered RATE_LIMITED on the subscribe — an error message graphql-ws sends
 * for that one operation, leaving the socket and its other subscriptions alone.
 */
import {
  type DocumentNode, GraphQLError, type GraphQLSchema, getOperationAST, type OperationDefinitionNode, OperationTypeNode, specifiedRules,
  validate, type ValidationRule,
} from 'graphql';
import type { Principal } from '../auth/principal';
import type { SecurityConfig } from '../config/config';
import { operationCost } from '../security/query-cost';
import { chargeCost } from '../security/cost-budget';
import type { Limiter } from '../security/rate-limiter';
import { checkDocumentStrings, checkVariables, type GuardLimits, parseBounded, RequestRejected } from '../security/request-guards';
import { documentLimitRules } from '../security/validation-rules';

export interface SubscribePayload {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
}

export interface Checked {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
}

const refuse = (code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError[] => [
  new GraphQLError(message, { extensions: { code, ...extensions } }),
];

export class OperationLimits {
  private readonly rules: readonly ValidationRule[];
  private readonly guards: GuardLimits;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly security: SecurityConfig,
    private readonly limiter: Limiter,
  ) {
    const s = security;
    this.rules = [...specifiedRules, ...documentLimitRules(s)];
    // Subscriptions are never bulk ingestion: the ordinary list limit applies throughout.
    this.guards = { maxTokens: s.maxTokens, maxStringLength: s.maxStringLength, maxListLength: s.maxListLength, maxBulkListLength: s.maxListLength };
  }

  /** The parsed subscription, or the errors to answer it with. Charges its cost when it passes. */
  async check(payload: SubscribePayload, principal: Principal): Promise<Checked | GraphQLError[]> {
    const variables = payload.variables ?? {};
    let document: DocumentNode;
    try {
      document = parseBounded(payload.query, this.guards.maxTokens);
      checkDocumentStrings(document, this.guards);
      checkVariables(variables, this.guards, false);
    } catch (err) {
      if (err instanceof RequestRejected) return refuse(err.code, err.message);
      throw err;
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length) {
      // Apollo gives every validation error this code; so do we.
      return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } }));
    }
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return refuse('BAD_REQUEST', 'Unable to identify operation');
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return refuse('BAD_REQUEST', 'Only subscriptions are served over WebSocket: send queries and mutations as HTTP POST');
    }
    const refused = await chargeCost(operationCost(this.schema, document, operation, variables), principal, this.security, this.limiter);
    if (refused) return refuse(refused.code, refused.message, refused.extensions);
    return { document, operation };
  }
}

/**
 * Open subscriptions per socket and per key. `admit` and the release it returns are synchronous,
 * so subscribe messages arriving together are counted in the order they arrived.
 */
export class SubscriptionCaps {
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly maxPerSocket: number,
    private readonly maxPerKey: number,
  ) {}

  /** Why a new subscription is refused, or null when it fits. */
  refusal(socketOpen: number, key: string): GraphQLError[] | null {
    if (socketOpen >= this.maxPerSocket) {
      return refuse('RATE_LIMITED', `At most ${this.maxPerSocket} subscriptions per socket; complete one first`, { retryAfterSeconds: 1 });
    }
    if ((this.perKey.get(key) ?? 0) >= this.maxPerKey) {
      return refuse('RATE_LIMITED', `At most ${this.maxPerKey} open subscriptions per API key; complete one first`, { retryAfterSeconds: 1 });
    }
    return null;
  }

  /** Counts one more for `key`; the returned function (idempotent) gives it back. */
  admit(key: string): () => void {
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.perKey.get(key) ?? 1) - 1;
      if (n > 0) this.perKey.set(key, n);
      else this.perKey.delete(key);
    };
  }
}
