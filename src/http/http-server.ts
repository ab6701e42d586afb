/**
 * The HTTP front door: /graphql, /healthz, /readyz. Starts listening before the database is
 * ready (so liveness answers during a slow first boot) and drains gracefully on stop.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger';
import { sendJson } from './respond';

/** Each dependency's state; only `required` ones decide readiness (the others degrade gracefully). */
export interface DependencyState {
  readonly ok: boolean;
  readonly required: boolean;
  readonly detail?: string;
}
export type Readiness = Readonly<Record<string, DependencyState>>;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void>;

/** Lifecycle of the server; only 'ready' serves API routes. */
export type ServerState = { kind: 'starting' } | { kind: 'ready' } | { kind: 'draining' } | { kind: 'failed'; reason: string };

export interface HttpServer {
  readonly server: http.Server;
  readonly port: number;
  setState(state: ServerState): void;
  /** Mount a handler at an exact path (or a prefix ending in '/'), served only when ready. */
  route(path: string, handler: RouteHandler): void;
  /** Readiness probe: resolves true when dependencies answer. */
  setReadinessCheck(check: () => Promise<Readiness>): void;
  close(timeoutMs?: number): Promise<void>;
}

export async function startHttpServer(host: string, port: number, logger: Logger): Promise<HttpServer> {
  let state: ServerState = { kind: 'starting' };
  let readiness: () => Promise<Readiness> = async () => ({});
  const routes = new Map<string, RouteHandler>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (url.pathname === '/healthz' || url.pathname === '/readyz') return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.debug({ method: req.method, path: url.pathname, status: res.statusCode, ms }, 'request');
    });
    void dispatch(req, res, url).catch((err: unknown) => {
      logger.error({ err, path: url.pathname }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', state: state.kind });
    if (url.pathname === '/readyz') {
      const dependencies: Readiness =
        state.kind === 'ready'
          ? await readiness().catch((err: unknown) => ({ readiness: { ok: false, required: true, detail: err instanceof Error ? err.message : String(err) } }))
          : {};
      const ok = state.kind === 'ready' && Object.values(dependencies).every((d) => d.ok || !d.required);
      return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', state: state.kind, dependencies });
    }
    // Before ready, routes are not mounted yet: every path is "not yet", never "not found".
    if (state.kind !== 'ready') {
      return sendJson(res, 503, { errors: [{ message: `Server is ${state.kind}`, extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, { 'retry-after': '5' });
    }
    const handler = routes.get(url.pathname) ?? [...routes].find(([p]) => p.endsWith('/') && url.pathname.startsWith(p))?.[1];
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    return handler(req, res, url.search);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  logger.info({ host, port: actual }, 'http listening');

  return {
    server,
    port: actual,
    setState(s) {
      state = s;
    },
    route(path, handler) {
      routes.set(path, handler);
    },
    setReadinessCheck(check) {
      readiness = check;
    },
    async close(timeoutMs = 10_000) {
      state = { kind: 'draining' };
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
