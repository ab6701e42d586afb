/**
 * Bridges node:http to Apollo's executeHTTPGraphQLRequest. Bodies above the normal limit are
 * accepted only for operations whose every root field is a bulk-ingestion mutation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import { Kind, parse } from 'graphql';
import type { Config } from '../config/config';
import type { Context } from '../graphql/context';
import { PayloadTooLargeError, readBody } from './body';
import { sendJson } from './respond';

const BULK_FIELDS = new Set(['ingestEvents']);

/** True when the document only calls bulk mutations (so it may carry a large body). */
export function isBulkOnly(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  try {
    const doc = parse(query, { maxTokens: 2_000 });
    return doc.definitions.every(
      (d) =>
        d.kind === Kind.OPERATION_DEFINITION &&
        d.operation === 'mutation' &&
        d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && BULK_FIELDS.has(s.name.value)),
    );
  } catch {
    return false;
  }
}

export function createGraphQLHandler(
  apollo: ApolloServer<Context>,
  config: Config,
  makeContext: (req: IncomingMessage) => Promise<Context>,
) {
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    let body: unknown = undefined;
    if (req.method === 'POST') {
      let raw: string;
      try {
        raw = await readBody(req, Math.max(config.maxBodyBytes, config.maxIngestBodyBytes));
      } catch (err) {
        if (err instanceof PayloadTooLargeError) return sendJson(res, 413, payloadError(err.limit));
        throw err;
      }
      const type = String(req.headers['content-type'] ?? '');
      if (type.includes('json')) {
        try {
          body = raw.length ? JSON.parse(raw) : undefined;
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
        }
      } else {
        body = raw;
      }
      if (Buffer.byteLength(raw) > config.maxBodyBytes && !isBulkOnly((body as { query?: unknown } | undefined)?.query)) {
        return sendJson(res, 413, payloadError(config.maxBodyBytes));
      }
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: () => makeContext(req),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

function payloadError(limit: number) {
  return { errors: [{ message: `Request body exceeds ${limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] };
}
