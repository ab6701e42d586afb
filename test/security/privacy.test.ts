import { exportSnapshot } from '../../src/jobs/snapshot.exporter';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gql, useTestApp } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const t = useTestApp({ PARTNER_ALLOWLIST_ONLY: 'false' });

describe('deleteUser', () => {
  it('erases the user, their events, reviews and keys; no role can read them afterwards', async () => {
    const [{ user_id: victim }] = await t.db.dataSource.query(
      `SELECT r.user_id FROM reviews r JOIN events e ON e.user_id = r.user_id GROUP BY r.user_id ORDER BY r.user_id LIMIT 1`,
    );
    const [{ email }] = await t.db.dataSource.query(`SELECT email FROM users WHERE id = $1`, [victim]);
    const frontend = bearer(await createKey(t.app, 'FRONTEND', victim));
    const partner = bearer(await createKey(t.app, 'PARTNER'));
    expect((await gql(t.app, `{ user(id: "${victim}") { email } }`, {}, frontend)).body.data!.user.email).toBe(email);

    const r = await gql(t.app, `mutation($id: ID!){ deleteUser(id: $id) { userId events reviews apiKeys } }`, { id: victim });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.deleteUser.events).toBeGreaterThan(0);
    expect(r.body.data!.deleteUser.reviews).toBeGreaterThan(0);
    expect(r.body.data!.deleteUser.apiKeys).toBe(1);

    // admin: gone
    const admin = await gql(t.app, `{ user(id: "${victim}") { id } }`);
    expect(admin.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const events = await gql(t.app, `{ events(first: 5, filter: { userId: "${victim}" }) { edges { node { id } } } }`);
    expect(events.body.data!.events.edges).toEqual([]);
    const reviews = await gql(t.app, `{ reviews(first: 5, filter: { userId: "${victim}" }) { edges { node { id } } } }`);
    expect(reviews.body.data!.reviews.edges).toEqual([]);
    // the user's own key no longer works
    expect((await gql(t.app, `{ viewer { role } }`, {}, frontend)).status).toBe(401);
    // partner: nothing about them anywhere it can look
    const p = await gql(t.app, `{ reviews(first: 100) { edges { node { body } } } products(first: 5) { edges { node { name } } } }`, {}, partner);
    expect(JSON.stringify(p.body)).not.toContain(email);
    // and no trace in the database or a new training snapshot
    const [{ n }] = await t.db.dataSource.query(
      `SELECT (SELECT count(*) FROM events WHERE user_id = $1) + (SELECT count(*) FROM reviews WHERE user_id = $1) + (SELECT count(*) FROM users WHERE id = $1) AS n`,
      [victim],
    );
    expect(Number(n)).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snap-'));
    await exportSnapshot(t.db.dataSource, dir);
    const users = fs.readFileSync(path.join(dir, 'users.csv'), 'utf8').split('\n').map((l) => l.split(',')[0]);
    const eventUsers = new Set(fs.readFileSync(path.join(dir, 'events.csv'), 'utf8').split('\n').map((l) => l.split(',')[0]));
    expect(users).not.toContain(victim);
    expect(eventUsers.has(victim)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
    // the erasure itself is audited
    const audit = await gql(t.app, `{ auditLog(first: 5) { action target } }`);
    expect(audit.body.data!.auditLog).toEqual(expect.arrayContaining([{ action: 'deleteUser', target: victim }]));
  });

  it('answers NOT_FOUND for an unknown user and BAD_USER_INPUT for a malformed id', async () => {
    expect((await gql(t.app, `mutation { deleteUser(id: "999999999") { userId } }`)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(t.app, `mutation { deleteUser(id: "abc") { userId } }`)).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
