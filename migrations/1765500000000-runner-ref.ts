import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A job's runner reference is text (issue 18): a local process group id today, a Ray submission id
 * or any other runner's handle later. Only a runner on the same host interprets it (LocalProcessRunner
 * checks /proc); a job whose worker vanished elsewhere is recovered by lease expiry alone.
 */
export class RunnerRef1765500000000 implements MigrationInterface {
  name = 'RunnerRef1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE training_jobs RENAME COLUMN runner_pid TO runner_ref`);
    await q.query(`ALTER TABLE training_jobs ALTER COLUMN runner_ref TYPE text USING runner_ref::text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE training_jobs ALTER COLUMN runner_ref TYPE integer
                   USING CASE WHEN runner_ref ~ '^[0-9]{1,9}$' THEN runner_ref::integer END`);
    await q.query(`ALTER TABLE training_jobs RENAME COLUMN runner_ref TO runner_pid`);
  }
}
