/**
 * Per-request statement timeouts. The HTTP layer runs each request inside `withStatementTimeout`
 * with its role's limit (config security.limits.<role>.statementTimeoutMs); the expensive reads a
 * caller can shape (analytics, trending) go through `timedQuery`, which runs the statement in a
 * transaction with `SET LOCAL statement_timeout`, so the limit ends with the statement and never
 * leaks to the next user of the pooled connection. A statement past the limit is cancelled by
 * Postgres and answered QUERY_TIMEOUT.
 *
 * Outside such a scope (admins with 0, jobs, tools, rebuilds) statements run as before.
 * The embedded database cannot interrupt a running statement (PGlite has no timer signal), so the
 * SET is skipped there: it runs in its own thread instead and cannot stall the event loop.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DomainError, ErrorCode } from '../common/errors';
import type { Queryable } from './queryable';


/** A DataSource-like object that can open a transaction (TypeORM's DataSource). */
interface Transactional extends Queryable {
  transaction<T>(run: (em: Queryable) => Promise<T>): Promise<T>;
}

const scope = new AsyncLocalStorage<{ readonly ms: number }>();

/** Runs `fn` with statements issued through timedQuery limited to `ms` (0: no limit). */
export function withStatementTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return ms > 0 ? scope.run({ ms }, fn) : fn();
}

/** The limit in force for the current request, ms, or 0. */
function currentStatementTimeout(): number {
  return scope.getStore()?.ms ?? 0;
}

function transactional(db: Queryable): db is Transactional {
  return typeof (db as Partial<Transactional>).transaction === 'function';
}

/** PGlite reports a wasm32/emscripten build in version(); it accepts statement_timeout but never enforces it. */
const embeddedByDb = new WeakMap<object, Promise<boolean>>();
function isEmbedded(db: Queryable): Promise<boolean> {
  let known = embeddedByDb.get(db);
  if (!known) {
    known = (db.query(`SELECT version() AS v`) as Promise<{ v: string }[]>).then((r) => /wasm|emscripten/i.test(r[0]?.v ?? '')).catch(() => false);
    embeddedByDb.set(db, known);
  }
  return known;
}

export async function timedQuery(db: Queryable, sql: string, params: unknown[] = []): Promise<unknown> {
  const ms = currentStatementTimeout();
  if (ms === 0 || !transactional(db) || (await isEmbedded(db))) return db.query(sql, params);
  try {
    return await db.transaction(async (em) => {
      await em.query(`SET LOCAL statement_timeout = ${Math.floor(ms)}`);
      return em.query(sql, params);
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === '57014' || (err as { driverError?: { code?: unknown } }).driverError?.code === '57014') {
      throw new DomainError(ErrorCode.QUERY_TIMEOUT, `The query ran past this key's limit of ${ms} ms; narrow the area, the time range or the resolution`);
    }
    throw err;
  }
}
