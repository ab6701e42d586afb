import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp, withAuth } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { bearer, createKey } from '../helpers/keys';

let db: Database;
let app: App;
let metricsUrl: string;
beforeAll(async () => {
  db = await openTestDatabase();
  app = await startTestApp(db);
  metricsUrl = app.url.replace('/graphql', '/metrics');
});
afterAll(async () => {
  await app.stop();
  await db.close();
});

describe('/metrics', () => {
  it('requires an admin key', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    const frontend = bearer(await createKey(app, 'FRONTEND'));
    expect((await fetch(metricsUrl, { headers: frontend })).status).toBe(403);
  });

  it('publishes request latency by operation, errors by code and the database pool', async () => {
    await gql(app, 'query CatalogPage { categories { name } }');
    await gql(app, '{ user(id: "999999999") { id } }');
    const res = await fetch(metricsUrl, { headers: withAuth({}) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/meridian_graphql_request_duration_seconds_count\{operation="CatalogPage",type="query"\} [1-9]/);
    expect(text).toMatch(/meridian_graphql_errors_total\{code="NOT_FOUND"\} [1-9]/);
    expect(text).toMatch(/meridian_db_pool_connections\{state="total"\} \d+/);
    expect(text).toMatch(/meridian_process_cpu_seconds_total/);
  });

  it('tags every response with a request id, echoing a client-supplied one', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: withAuth({ 'content-type': 'application/json', 'x-request-id': 'trace-123' }),
      body: JSON.stringify({ query: '{ categories { name } }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
  });
});
