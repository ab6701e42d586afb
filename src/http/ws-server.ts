/**
 * GraphQL subscriptions over WebSocket (the graphql-transport-ws protocol of graphql-ws) on the
 * same HTTP server and path as POST /graphql. Only subscriptions are served here, to admin and
 * frontend keys (a frontend key reads its own assistant replies; training-job progress stays
 * admin-only by its field rule); partner keys are refused. Queries and mutations keep to HTTP. The key travels in the connection_init payload:
 * `{ "authorization": "Bearer <key>" }` (or `{ "apiKey": "<key>" }`), since browsers cannot set
 * headers on a WebSocket.
 *
 * Contract (the same limits as HTTP, see ws-limits.ts for the per-operation ones):
 * - A socket must send connection_init within `initTimeoutMs` (3 s) or is closed 4408.
 * - Sockets that have not authenticated yet are at most `maxPendingConnections` (10). When that
 *   many are waiting, or every slot is taken, a new socket evicts the oldest unauthenticated one
 *   (terminated) instead of being refused, so silent sockets cannot keep an admin out: only
 *   authenticated sockets can fill the `maxConnections` (100) slots and cause 503 on upgrade.
 *   A per-address cap was not chosen: clients behind one proxy or NAT share an address.
 * - Every `revalidateMs` (2 s) each open socket's key is checked again against the database and
 *   a revoked key's sockets are closed 4403 (ws-revalidate.ts).
 * - Open subscriptions are capped per socket (10) and per key across sockets (50); over a cap the
 *   subscribe is answered with an error, code RATE_LIMITED, and the socket stays open.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type GraphQLSchema, GraphQLError } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import type { Logger } from '../common/logger';
import type { SecurityConfig } from '../config/config';
import type { Context } from '../graphql/context';
import { createErrorFormatter } from '../graphql/error-mapper';
import { type Limiter, rateKey } from '../security/rate-limiter';
import { OperationLimits, SubscriptionCaps } from './ws-limits';
import { type KeyedSocket, KeyRevalidator } from './ws-revalidate';

export interface WsServerOptions {
  readonly schema: GraphQLSchema;
  readonly apiKeys: ApiKeyService;
  readonly makeContext: (principal: Principal, requestId: string) => Context;
  readonly logger: Logger;
  /** Depth, alias, directive, token, string, list and cost limits, and the per-role budgets. */
  readonly security: SecurityConfig;
  /** The limiter HTTP charges, so one budget per key covers both. */
  readonly limiter: Limiter;
  /** The HTTP path (the same as POST). Defaults to /graphql. */
  readonly path?: string;
  /** Hide "Did you mean …?" hints (production). */
  readonly hideSuggestions: boolean;
  /** Ping interval; a peer that does not answer within it is dropped, ms. Defaults to 12000. */
  readonly keepAliveMs?: number;
  /** Most open sockets. Defaults to 100. */
  readonly maxConnections?: number;
  /** Most sockets that have not authenticated yet; more evict the oldest. Defaults to 10. */
  readonly maxPendingConnections?: number;
  /** Time a socket has to send connection_init, ms. Defaults to 3000. */
  readonly initTimeoutMs?: number;
  /** How often open sockets' keys are checked again, ms. Defaults to 2000. */
  readonly revalidateMs?: number;
  /** Open subscriptions per socket. Defaults to 10. */
  readonly maxSubscriptionsPerSocket?: number;
  /** Open subscriptions per key, across its sockets. Defaults to 50. */
  readonly maxSubscriptionsPerKey?: number;
}

export interface WsServer {
  /** Closes every socket (1001 Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
  readonly connections: number;
}

interface Extra {
  readonly socket: WebSocket;
  principal?: Principal;
  /** Set once authenticated: what the revalidator checks. */
  keyed?: KeyedSocket;
  /** Open subscriptions by id, each with the release of its cap slot. */
  readonly subs: Map<string, () => void>;
}

/** The key from connection_init: `authorization: "Bearer <key>"` or `apiKey`. */
function keyFrom(params: Readonly<Record<string, unknown>> | undefined): string | null {
  const auth = params?.authorization ?? params?.Authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim() || null;
  return typeof params?.apiKey === 'string' && params.apiKey.trim() ? params.apiKey.trim() : null;
}

function releaseAll(extra: Extra): void {
  for (const release of extra.subs.values()) release();
  extra.subs.clear();
}

export function attachGraphQLWs(server: http.Server, opts: WsServerOptions): WsServer {
  const path = opts.path ?? '/graphql';
  const keepAlive = opts.keepAliveMs ?? 12_000;
  const maxConnections = opts.maxConnections ?? 100;
  const maxPending = opts.maxPendingConnections ?? 10;
  const log = opts.logger.child({ component: 'graphql-ws' });
  const format = createErrorFormatter(log, { hideSuggestions: opts.hideSuggestions });
  const limits = new OperationLimits(opts.schema, opts.security, opts.limiter);
  const caps = new SubscriptionCaps(opts.maxSubscriptionsPerSocket ?? 10, opts.maxSubscriptionsPerKey ?? 50);
  const wss = new WebSocketServer({ noServer: true, handleProtocols, maxPayload: 256 * 1024 });
  // Our own counts: an evicted socket leaves them at once, before its close event.
  const sockets = new Set<WebSocket>();
  const pending = new Set<WebSocket>(); // insertion order = oldest first
  const revalidator = new KeyRevalidator(opts.apiKeys, log, opts.revalidateMs ?? 2_000);
  let closing = false;

  const gql = makeServer<Record<string, unknown> | undefined, Extra>({
    schema: opts.schema,
    connectionInitWaitTimeout: opts.initTimeoutMs ?? 3_000,
    onConnect: async (ctx) => {
      const key = keyFrom(ctx.connectionParams);
      const principal = key ? await opts.apiKeys.authenticate(key) : null;
      // Returning false closes the socket with 4403 Forbidden (also when it was evicted meanwhile).
      if (!key || !principal || principal.role === 'partner' || !sockets.has(ctx.extra.socket)) return false;
      ctx.extra.principal = principal;
      ctx.extra.keyed = { socket: ctx.extra.socket, keyId: principal.keyId };
      revalidator.add(ctx.extra.keyed);
      pending.delete(ctx.extra.socket);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const { principal, subs } = ctx.extra;
      if (!principal) return [new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
      const refused = caps.refusal(subs.size, rateKey(principal));
      if (refused) return refused;
      // Admitted before the (asynchronous) cost check, so subscribes arriving together are counted in order.
      const release = caps.admit(rateKey(principal));
      subs.set(id, release);
      const checked = await limits.check(payload, principal);
      if (Array.isArray(checked)) {
        subs.delete(id);
        release();
        return checked;
      }
      return {
        schema: opts.schema,
        document: checked.document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: opts.makeContext(principal, randomUUID()),
      };
    },
    // Called when a subscription ends for any reason (completed by either side, or its socket closed).
    onComplete: (ctx, id) => {
      ctx.extra.subs.get(id)?.();
      ctx.extra.subs.delete(id);
    },
    // Same error shapes as over HTTP: domain codes kept, internals hidden.
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors ? { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } : undefined,
    onError: (_ctx, _id, _payload, errors) => errors.map((e) => format(e.toJSON(), e)),
  });

  wss.on('connection', (socket: WebSocket) => {
    sockets.add(socket);
    pending.add(socket);
    const extra: Extra = { socket, subs: new Map() };
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
            // Text frames arrive as one Buffer (the socket's default binaryType, 'nodebuffer').
            cb((data as Buffer).toString('utf8')).catch((err: unknown) => {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(ping);
      sockets.delete(socket);
      pending.delete(socket);
      if (extra.keyed) revalidator.delete(extra.keyed);
      // The socket's subscriptions are gone with it: free their cap slots now, not when they end.
      releaseAll(extra);
      closed(code, String(reason)).catch((err: unknown) => log.error({ err }, 'graphql-ws close handling failed'));
    });
  });

  const refuseUpgrade = (socket: Duplex, status: string) => {
    socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return refuseUpgrade(socket, '404 Not Found');
    if (closing) return refuseUpgrade(socket, '503 Service Unavailable');
    if (pending.size >= maxPending || sockets.size >= maxConnections) {
      const oldest = pending.values().next().value;
      if (oldest) {
        pending.delete(oldest);
        sockets.delete(oldest);
        oldest.terminate();
      }
    }
    if (sockets.size >= maxConnections) return refuseUpgrade(socket, '503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      revalidator.stop();
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
