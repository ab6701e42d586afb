import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "One active version per kind" becomes a deferred exclusion constraint, checked at commit, so a
 * promotion can archive the old version and activate the new one in one statement (no explicit
 * transaction: on the embedded database, an open transaction on one pooled connection is not
 * isolated from queries that other requests send meanwhile).
 */
export class ModelVersionsDeferredActive1765000000000 implements MigrationInterface {
  name = 'ModelVersionsDeferredActive1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS model_versions_one_active`);
    await q.query(
      `ALTER TABLE model_versions ADD CONSTRAINT model_versions_one_active
         EXCLUDE USING btree (kind WITH =) WHERE (status = 'active') DEFERRABLE INITIALLY DEFERRED`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions DROP CONSTRAINT IF EXISTS model_versions_one_active`);
    await q.query(`CREATE UNIQUE INDEX model_versions_one_active ON model_versions (kind) WHERE status = 'active'`);
  }
}
