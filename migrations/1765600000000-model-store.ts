import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model store in Postgres (issue 18): registered artifacts that every server and worker can
 * load, wherever they were trained. Files are content-addressed blobs in chunks (one file, one
 * sha256, stored once however many versions share it); an artifact is a list of named files and
 * is written last, so a listed artifact is complete. `complete` marks a blob whose chunks are all
 * written (a crash mid-write leaves it incomplete and the next put rewrites it).
 */
export class ModelStore1765600000000 implements MigrationInterface {
  name = 'ModelStore1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE model_store_blobs (
      sha256 char(64) PRIMARY KEY,
      size bigint NOT NULL CHECK (size >= 0),
      chunks integer NOT NULL CHECK (chunks >= 0),
      complete boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE model_store_chunks (
      sha256 char(64) NOT NULL REFERENCES model_store_blobs(sha256) ON DELETE CASCADE,
      seq integer NOT NULL CHECK (seq >= 0),
      data bytea NOT NULL,
      PRIMARY KEY (sha256, seq))`);
    await q.query(`CREATE TABLE model_store_artifacts (
      key text PRIMARY KEY,
      files jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_store_artifacts`);
    await q.query(`DROP TABLE model_store_chunks`);
    await q.query(`DROP TABLE model_store_blobs`);
  }
}
