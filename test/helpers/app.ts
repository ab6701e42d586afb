/** Starts the real server (HTTP on an ephemeral port) over a test database. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type App, startApp } from '../../src/app';
import { silentLogger } from '../../src/common/logger';
import { type Config, loadConfig } from '../../src/config/config';
import type { Database } from '../../src/db/database';
import { openTestDatabase, type TestDbKind } from './db';

/** The admin key every test server accepts (MERIDIAN_ADMIN_KEY). */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** Each test server has its own data folder (model cache, job files) unless the test names one, as servers of a fleet would. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', MERIDIAN_SEED_DEMO: 'false', MERIDIAN_ADMIN_KEY: TEST_ADMIN_KEY,
    MERIDIAN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-data-')),
    ...overrides,
  });
}

/**
 * Opens a test database and starts the server on it for the enclosing file or describe block,
 * closing both afterwards. Read `.app` and `.db` inside tests (they are set in beforeAll).
 */
export function useTestApp(env: Record<string, string> = {}, kind: TestDbKind = 'default'): { readonly app: App; readonly db: Database } {
  const handle = {} as { app: App; db: Database };
  beforeAll(async () => {
    handle.db = await openTestDatabase(kind);
    handle.app = await startTestApp(handle.db, env);
  });
  afterAll(async () => {
    await handle.app?.stop();
    await handle.db?.close();
  });
  return handle;
}

export async function startTestApp(db: Database, env: Record<string, string> = {}): Promise<App> {
  return startApp(testConfig(env), silentLogger(), { db });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test convenience: responses are checked by assertions
export interface GqlResponse<T = Record<string, any>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: { code?: string; issues?: { path: string; message: string }[] } }[] };
}

/**
 * POSTs an operation to the running server, as admin unless `headers` carries another
 * authorization (pass `{ authorization: '' }` for an anonymous request).
 */
export async function gql<T = Record<string, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  app: App,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResponse<T>> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: withAuth({ 'content-type': 'application/json', ...headers }),
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GqlResponse<T>['body'] };
}

/** Adds the admin key unless the caller set authorization (an empty value means none). */
export function withAuth(headers: Record<string, string>): Record<string, string> {
  if (!('authorization' in headers)) return { ...headers, authorization: `Bearer ${TEST_ADMIN_KEY}` };
  if (headers.authorization === '') {
    const { authorization: _none, ...rest } = headers;
    return rest;
  }
  return headers;
}
