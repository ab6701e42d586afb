import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Differential privacy for restricted analytics callers (docs/privacy.md):
 * - analytics_privacy_secret: one random secret, shared by every server on this database, that
 *   seeds the noise; the same published cell gets the same noise from any server, so asking again
 *   (or asking another server) cannot average it away.
 * - analytics_privacy_budget: ε spent per API key per UTC day, charged atomically before an
 *   answer is computed.
 */
export class PublicationPrivacy1765400000000 implements MigrationInterface {
  name = 'PublicationPrivacy1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE analytics_privacy_secret (
      id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      secret text NOT NULL
    )`);
    // md5 of two random draws and the clock: 128 bits, without pgcrypto (absent from PGlite).
    await q.query(`INSERT INTO analytics_privacy_secret (secret)
      VALUES (md5(random()::text || clock_timestamp()::text) || md5(random()::text || pg_backend_pid()::text))`);
    await q.query(`CREATE TABLE analytics_privacy_budget (
      key_id text NOT NULL,
      day date NOT NULL,
      spent double precision NOT NULL,
      PRIMARY KEY (key_id, day)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS analytics_privacy_budget`);
    await q.query(`DROP TABLE IF EXISTS analytics_privacy_secret`);
  }
}
