import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Concurrency slots for training jobs: a running job holds a slot number in 1..limit, and the
 * partial unique index lets two workers that race for the same free slot fail instead of both
 * running. Claiming is then one statement — no transaction, which the embedded database's shared
 * backend cannot isolate between connections.
 */
export class TrainingJobSlots1765100000000 implements MigrationInterface {
  name = 'TrainingJobSlots1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE training_jobs ADD COLUMN slot integer`);
    await q.query(`CREATE UNIQUE INDEX training_jobs_slot ON training_jobs (slot)
      WHERE status IN ('exporting', 'training', 'evaluating', 'registering')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS training_jobs_slot`);
    await q.query(`ALTER TABLE training_jobs DROP COLUMN IF EXISTS slot`);
  }
}
