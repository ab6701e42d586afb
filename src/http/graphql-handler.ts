/**
 * Bridges node:http to Apollo, in the order that makes hostile requests cheapest to refuse:
 * authenticate (401) → per-key concurrency (429) → bounded body (413) → bounded parse and
 * variable checks (400) → partner allow-list (403) → Apollo (validation limits, cost, budget).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import type { Config } from '../config/config';
import type { Context } from '../graphql/context';
import type { PersistedOperationService } from '../security/persisted-operation.service';
import { sha256Hex } from '../security/persisted-operation.service';
import { type Limiter, rateKey } from '../security/rate-limiter';
import {
  checkDocumentStrings, checkVariables, isBulkOnly, parseBounded, RequestRejected,
} from '../security/request-guards';
import { ApqCache } from '../security/apq';
import { withStatementTimeout } from '../db/statement-timeout';
import { PayloadTooLargeError, readBody } from './body';
import { sendJson } from './respond';

export interface GraphQLHandlerDeps {
  readonly apollo: ApolloServer<Context>;
  readonly config: Config;
  readonly apiKeys: ApiKeyService;
  readonly persisted: PersistedOperationService;
  readonly limiter: Limiter;
  readonly makeContext: (principal: Principal, requestId: string) => Context;
}

/** The presented API key: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : null;
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

export function createGraphQLHandler(deps: GraphQLHandlerDeps) {
  const { apollo, config } = deps;
  const s = config.security;
  const apq = new ApqCache();
  const guardLimits = {
    maxTokens: s.maxTokens,
    maxStringLength: s.maxStringLength,
    maxListLength: s.maxListLength,
    maxBulkListLength: config.ingestMaxBatch,
  };

  /**
   * Only admins may call the bulk mutations (ingestEvents, labelMessages) that the larger ingest
   * limit is for: any other key's body is cut at the plain limit, before it is read in full.
   */
  const bodyLimit = (p: Principal): number => (p.role === 'admin' ? Math.max(config.maxBodyBytes, config.maxIngestBodyBytes) : config.maxBodyBytes);

  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'].slice(0, 100) : randomUUID();
    res.setHeader('x-request-id', requestId);
    const key = presentedKey(req);
    const principal = key ? await deps.apiKeys.authenticate(key) : null;
    if (!principal) {
      return sendJson(res, 401, errorBody('UNAUTHENTICATED', key ? 'The API key is not valid or was revoked' : 'An API key is required: send Authorization: Bearer <key>'), {
        'www-authenticate': 'Bearer',
      });
    }
    const slot = await deps.limiter.enter(rateKey(principal), s.limits[principal.role]);
    if (!slot.admission.ok) {
      return sendJson(res, 429, errorBody('RATE_LIMITED', `Rate limit: ${slot.admission.reason}`), {
        'retry-after': String(slot.admission.retryAfterSeconds),
      });
    }
    try {
      const { body, rawLength } = req.method === 'POST' ? await readJsonBody(req, config, bodyLimit(principal)) : { body: undefined, rawLength: 0 };
      const resolved = await guard(body, search, principal, rawLength);
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const result = await withStatementTimeout(s.limits[principal.role].statementTimeoutMs, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: resolved.search, body: resolved.body },
          context: async () => deps.makeContext(principal, requestId),
        }),
      );
      for (const [k, v] of result.headers) res.setHeader(k, v);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
        return;
      }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (err) {
      if (err instanceof PayloadTooLargeError) {
        // Close instead of draining the rest of an oversized upload through the event loop.
        return sendJson(res, 413, errorBody('PAYLOAD_TOO_LARGE', err.message), { connection: 'close' });
      }
      if (err instanceof RequestRejected) return sendJson(res, err.status, errorBody(err.code, err.message));
      throw err;
    } finally {
      slot.release();
    }
  };

  /**
   * Resolves persisted queries, applies the partner allow-list and the size/token checks.
   * Returns what Apollo should execute (persisted-query extensions replaced by the query text).
   */
  async function guard(
    body: unknown,
    search: string,
    principal: Principal,
    rawLength: number,
  ): Promise<{ body: unknown; search: string }> {
    // Batches and non-JSON bodies: Apollo refuses them (allowBatchedHttpRequests: false, CSRF prevention).
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) return { body, search };
    const get = body === undefined;
    const params: Record<string, unknown> = get ? Object.fromEntries(new URLSearchParams(search)) : { ...(body as Record<string, unknown>) };
    let query = typeof params.query === 'string' ? params.query : null;
    const extensions = parseMaybeJson(params.extensions) as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined;
    const pq = extensions?.persistedQuery;
    if (pq) {
      const hash = typeof pq.sha256Hash === 'string' ? pq.sha256Hash : '';
      if (pq.version !== 1 || !/^[0-9a-f]{64}$/.test(hash)) {
        throw new RequestRejected(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'Unsupported persisted query: send version 1 with a sha256Hash');
      }
      if (query !== null) {
        if (sha256Hex(query) !== hash) throw new RequestRejected(400, 'BAD_REQUEST', 'provided sha does not match query');
        apq.set(hash, query);
      } else {
        query = apq.get(hash) ?? (await deps.persisted.get(hash))?.query ?? null;
        if (query === null) throw new RequestRejected(400, 'PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound');
      }
      const { persistedQuery: _handled, ...rest } = extensions;
      params.extensions = get ? JSON.stringify(rest) : rest;
      params.query = query;
    }
    if (principal.role === 'partner' && s.partnerAllowListOnly) {
      const op = query !== null ? await deps.persisted.get(sha256Hex(query)) : null;
      if (!op) {
        throw new RequestRejected(403, 'PERSISTED_QUERY_NOT_ALLOWED', 'Partner keys may only run registered operations (send an allow-listed query or its extensions.persistedQuery.sha256Hash)');
      }
    }
    if (query !== null) {
      const doc = parseBounded(query, s.maxTokens);
      const bulk = isBulkOnly(doc);
      if (rawLength > config.maxBodyBytes && !bulk) throw new PayloadTooLargeError(config.maxBodyBytes);
      checkDocumentStrings(doc, guardLimits);
      checkVariables(parseMaybeJson(params.variables), guardLimits, bulk);
    } else if (rawLength > config.maxBodyBytes) {
      throw new PayloadTooLargeError(config.maxBodyBytes);
    }
    if (!get) return { body: params, search };
    const rebuilt = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') rebuilt.set(k, v);
    return { body: undefined, search: `?${rebuilt.toString()}` };
  }
}

async function readJsonBody(req: IncomingMessage, config: Config, limit: number): Promise<{ body: unknown; rawLength: number }> {
  const raw = await readBody(req, limit);
  const rawLength = Buffer.byteLength(raw);
  const type = String(req.headers['content-type'] ?? '');
  if (!type.includes('json') || raw.trimStart().startsWith('[')) {
    // Non-JSON POSTs (CSRF prevention) and batches are refused by Apollo with a 4xx.
    if (rawLength > config.maxBodyBytes) throw new PayloadTooLargeError(config.maxBodyBytes);
    if (!type.includes('json')) return { body: raw, rawLength };
  }
  try {
    return { body: raw.length ? (JSON.parse(raw) as unknown) : undefined, rawLength };
  } catch {
    throw new RequestRejected(400, 'BAD_REQUEST', 'Request body is not valid JSON');
  }
}

function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
