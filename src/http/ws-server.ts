/**
 * GraphQL subscriptions over WebSocket (the graphql-transport-ws protocol of graphql-ws) on the
 * same HTTP server and path as POST /graphql. Only subscriptions are served here, and only to
 * admin keys: queries and mutations keep to HTTP, where body, cost, rate and audit limits apply.
 * The key travels in the connection_init payload: `{ "authorization": "Bearer <key>" }` (or
 * `{ "apiKey": "<key>" }`), since browsers cannot set headers on a WebSocket.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type GraphQLSchema, GraphQLError, getOperationAST, specifiedRules, validate } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import type { Logger } from '../common/logger';
import type { Context } from '../graphql/context';
import { createErrorFormatter } from '../graphql/error-mapper';
import { parseBounded, RequestRejected } from '../security/request-guards';

export interface WsServerOptions {
  readonly schema: GraphQLSchema;
  readonly apiKeys: ApiKeyService;
  readonly makeContext: (principal: Principal, requestId: string) => Context;
  readonly logger: Logger;
  /** The HTTP path (the same as POST). Defaults to /graphql. */
  readonly path?: string;
  /** Maximum lexical tokens in a subscription document. */
  readonly maxTokens: number;
  /** Hide "Did you mean …?" hints (production). */
  readonly hideSuggestions: boolean;
  /** Ping interval; a peer that does not answer within it is dropped, ms. Defaults to 12000. */
  readonly keepAliveMs?: number;
  /** Most open sockets. Defaults to 100. */
  readonly maxConnections?: number;
}

export interface WsServer {
  /** Closes every socket (1001 Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
  readonly connections: number;
}

interface Extra {
  principal?: Principal;
}

/** The key from connection_init: `authorization: "Bearer <key>"` or `apiKey`. */
function keyFrom(params: Readonly<Record<string, unknown>> | undefined): string | null {
  const auth = params?.authorization ?? params?.Authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim() || null;
  return typeof params?.apiKey === 'string' && params.apiKey.trim() ? params.apiKey.trim() : null;
}

export function attachGraphQLWs(server: http.Server, opts: WsServerOptions): WsServer {
  const path = opts.path ?? '/graphql';
  const keepAlive = opts.keepAliveMs ?? 12_000;
  const maxConnections = opts.maxConnections ?? 100;
  const log = opts.logger.child({ component: 'graphql-ws' });
  const format = createErrorFormatter(log, { hideSuggestions: opts.hideSuggestions });
  const wss = new WebSocketServer({ noServer: true, handleProtocols, maxPayload: 256 * 1024 });
  let closing = false;

  const gql = makeServer<Record<string, unknown> | undefined, Extra>({
    schema: opts.schema,
    connectionInitWaitTimeout: 10_000,
    onConnect: async (ctx) => {
      const key = keyFrom(ctx.connectionParams);
      const principal = key ? await opts.apiKeys.authenticate(key) : null;
      // Returning false closes the socket with 4403 Forbidden.
      if (!principal || principal.role !== 'admin') return false;
      ctx.extra.principal = principal;
      return true;
    },
    onSubscribe: (ctx, _id, payload) => {
      let document;
      try {
        document = parseBounded(payload.query, opts.maxTokens);
      } catch (err) {
        return [new GraphQLError(err instanceof RequestRejected ? err.message : 'Syntax error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
      }
      const errors = validate(opts.schema, document, specifiedRules);
      if (errors.length) return errors;
      const op = getOperationAST(document, payload.operationName);
      if (!op) return [new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_REQUEST' } })];
      if (op.operation !== 'subscription') {
        return [new GraphQLError('Only subscriptions are served over WebSocket: send queries and mutations as HTTP POST', { extensions: { code: 'BAD_REQUEST' } })];
      }
      return {
        schema: opts.schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: opts.makeContext(ctx.extra.principal!, randomUUID()),
      };
    },
    // Same error shapes as over HTTP: domain codes kept, internals hidden.
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors ? { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } : undefined,
    onError: (_ctx, _id, _payload, errors) => errors.map((e) => format(e.toJSON(), e)),
  });

  wss.on('connection', (socket: WebSocket) => {
    socket.once('error', (err) => {
      log.warn({ err }, 'websocket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    let pongWait: NodeJS.Timeout | null = null;
    const ping = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAlive);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAlive);
    const closed = gql.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', (data) => {
            cb(String(data)).catch((err: unknown) => {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      {},
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path || closing || wss.clients.size >= maxConnections) {
      socket.write(`HTTP/1.1 ${url.pathname !== path ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'Going away');
      // Sockets that do not finish the close handshake promptly are cut.
      const cut = setTimeout(() => wss.clients.forEach((c) => c.terminate()), 2000);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      while (wss.clients.size > 0) await new Promise((r) => setTimeout(r, 20));
      clearTimeout(cut);
    },
  };
}
