import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customer-service messages labelled with an intent by the platform's agents: the training data
 * of INTENT fine-tuning jobs (exported as texts.csv). One row per distinct text (keyed by its
 * sha256), so a retried batch inserts nothing twice and a re-label updates the row. No user link
 * is stored: the messages are training text, not a user's history.
 */
export class LabeledMessages1765200000000 implements MigrationInterface {
  name = 'LabeledMessages1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE labeled_messages (
      id bigserial PRIMARY KEY,
      text_sha256 bytea NOT NULL UNIQUE,
      text text NOT NULL,
      intent text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX labeled_messages_created_at ON labeled_messages (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS labeled_messages`);
  }
}
