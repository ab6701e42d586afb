import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model registry: every verified model version, which one serves each kind, and the chain of
 * previously active versions that rollback walks back along.
 */
export class ModelVersions1764800000000 implements MigrationInterface {
  name = 'ModelVersions1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_versions (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('next-item', 'behavior', 'sentiment', 'intent')),
        version text NOT NULL,
        status text NOT NULL CHECK (status IN ('candidate', 'active', 'archived')),
        artifact_path text NOT NULL,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        manifest jsonb NOT NULL,
        metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
        source_job_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        previous_active_id bigint REFERENCES model_versions(id),
        UNIQUE (kind, version)
      )`);
    // At most one active version per kind, enforced by the database (concurrent boots, two admins).
    await q.query(`CREATE UNIQUE INDEX model_versions_one_active ON model_versions (kind) WHERE status = 'active'`);
    // A fine-tuning job registers at most one version, even when it is retried after a crash.
    await q.query(`CREATE UNIQUE INDEX model_versions_source_job ON model_versions (source_job_id) WHERE source_job_id IS NOT NULL`);
    await q.query(`CREATE INDEX model_versions_kind_created ON model_versions (kind, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS model_versions`);
  }
}
