import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fine-tuning job queue (src/jobs): one row per job, claimed with a lease by a worker that
 * heartbeats while it runs. The row is also the job's live state (progress, metrics, log tail)
 * and its outcome (error, comparison with the active version, the model version it produced).
 */
export class TrainingJobs1764900000000 implements MigrationInterface {
  name = 'TrainingJobs1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE training_jobs (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('next-item', 'behavior', 'sentiment', 'intent')),
        status text NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'exporting', 'training', 'evaluating', 'registering', 'succeeded', 'failed', 'cancelled')),
        base_version_id bigint REFERENCES model_versions(id),
        data_from timestamptz,
        data_to timestamptz NOT NULL,
        hyperparameters jsonb NOT NULL DEFAULT '{}'::jsonb,
        seed integer NOT NULL DEFAULT 0,
        auto_promote boolean NOT NULL DEFAULT false,
        idempotency_key text UNIQUE,
        created_by text,
        progress double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
        epoch integer,
        step integer,
        total_steps integer,
        loss double precision,
        eta_seconds double precision,
        metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
        log_tail text NOT NULL DEFAULT '',
        error text,
        comparison jsonb,
        result_version_id bigint REFERENCES model_versions(id),
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL CHECK (max_attempts >= 1),
        dead_lettered boolean NOT NULL DEFAULT false,
        cancel_requested boolean NOT NULL DEFAULT false,
        run_after timestamptz NOT NULL DEFAULT now(),
        lease text,
        worker_id text,
        heartbeat_at timestamptz,
        runner_pid integer,
        runner_host text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The claim query scans only queued rows; the reaper only running ones.
    await q.query(`CREATE INDEX training_jobs_queue ON training_jobs (run_after, id) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX training_jobs_running ON training_jobs (heartbeat_at)
      WHERE status IN ('exporting', 'training', 'evaluating', 'registering')`);
    await q.query(`CREATE INDEX training_jobs_kind ON training_jobs (kind, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS training_jobs`);
  }
}
