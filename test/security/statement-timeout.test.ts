/**
 * Issue 16: one slow request must not hold the database. Restricted roles' analytics and trending
 * statements run under their role's statement timeout on real Postgres; admins keep theirs.
 */
import { realPostgresAvailable } from '../helpers/db';
import { gql, useTestApp } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const real = realPostgresAvailable();
const t = useTestApp({ STATEMENT_TIMEOUT_FRONTEND_MS: '1', STATEMENT_TIMEOUT_PARTNER_MS: '1', PARTNER_ALLOWLIST_ONLY: 'false' });

// A month of activity within 500 km of São Paulo: every event of the seeded data is read.
const WIDE = `{ trending(near: { latitude: -23.55, longitude: -46.63 }, radiusKm: 500, window: MONTH, at: "2026-06-01T00:00:00Z") { users } }`;

(real ? describe : describe.skip)('statement timeouts per role (real Postgres)', () => {
  it('cancels a frontend key\'s statement past its limit with QUERY_TIMEOUT, and the server keeps serving', async () => {
    const frontend = bearer(await createKey(t.app, 'FRONTEND'));
    const r = await gql(t.app, WIDE, {}, frontend);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('QUERY_TIMEOUT');
    expect(r.body.errors?.[0]?.message).toContain('1 ms');
    expect((await gql(t.app, `{ categories { id } }`, {}, frontend)).body.errors).toBeUndefined();
  });

  it('applies the partner limit to analytics', async () => {
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    const r = await gql(
      t.app,
      `{ aggregates(input: { metric: USERS, bucket: WEEK, grid: { h3Resolution: 7 }, from: "2026-03-02T00:00:00Z", to: "2026-06-01T00:00:00Z" }) { value } }`,
      {},
      partner,
    );
    expect(r.body.errors?.[0]?.extensions?.code).toBe('QUERY_TIMEOUT');
  });

  it('leaves admins (no limit) and the pooled connections unaffected', async () => {
    const r = await gql(t.app, WIDE);
    expect(r.body.errors).toBeUndefined();
    // the limit was SET LOCAL: no pooled connection keeps it
    const rows: { statement_timeout: string }[] = await t.db.dataSource.query(`SHOW statement_timeout`);
    expect(rows[0]!.statement_timeout).toBe('0');
  });
});
