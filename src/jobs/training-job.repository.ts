/**
 * SQL over training_jobs: the durable queue. Every write a worker makes is fenced by the lease it
 * got when it claimed the job, so a worker that was presumed dead (and replaced) cannot overwrite
 * its successor. Every operation is a single statement, claims included (see claim): the embedded
 * database shares one backend between connections and cannot isolate a transaction from them.
 */
import { updatedRows } from '../db/queryable';
import type { DataSource } from 'typeorm';
import { decodeIdCursor, type Page, toPage } from '../common/pagination';
import type { ModelKind } from '../inference/model-kind';
import type { ModelVersionRecord } from '../inference/model-version.repository';
import {
  type Comparison, type JobStatus, type NewTrainingJob, type ProgressUpdate, RUNNING_STATUSES, type TrainingJobRecord,
} from './training-job';

interface Row {
  id: string; kind: ModelKind; status: JobStatus; base_version_id: string | null; data_from: Date | null; data_to: Date;
  hyperparameters: Record<string, unknown>; seed: number; auto_promote: boolean; idempotency_key: string | null;
  created_by: string | null; progress: number; epoch: number | null; step: number | null; total_steps: number | null;
  loss: number | null; eta_seconds: number | null; metrics: Record<string, unknown>; log_tail: string; error: string | null;
  comparison: Comparison | null; result_version_id: string | null; attempts: number; max_attempts: number;
  dead_lettered: boolean; cancel_requested: boolean; run_after: Date; lease: string | null; worker_id: string | null;
  heartbeat_at: Date | null; runner_ref: string | null; runner_host: string | null; created_at: Date;
  started_at: Date | null; finished_at: Date | null; updated_at: Date;
  rv: RvRow | null;
}

interface RvRow {
  id: string; kind: ModelKind; version: string; status: ModelVersionRecord['status']; artifact_path: string; sha256: string;
  manifest: Record<string, unknown>; metrics: Record<string, unknown>; source_job_id: string | null; created_at: string;
  activated_at: string | null; previous_active_id: string | null;
}

const RUNNING_SQL = `(${RUNNING_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** Job columns plus the result version as one JSON value (joined, so a page of jobs is one query). */
const SELECT = `
  SELECT j.id::text AS id, j.kind, j.status, j.base_version_id::text AS base_version_id, j.data_from, j.data_to,
    j.hyperparameters, j.seed, j.auto_promote, j.idempotency_key, j.created_by, j.progress, j.epoch, j.step,
    j.total_steps, j.loss, j.eta_seconds, j.metrics, j.log_tail, j.error, j.comparison,
    j.result_version_id::text AS result_version_id, j.attempts, j.max_attempts, j.dead_lettered, j.cancel_requested,
    j.run_after, j.lease, j.worker_id, j.heartbeat_at, j.runner_ref, j.runner_host, j.created_at, j.started_at,
    j.finished_at, j.updated_at,
    CASE WHEN rv.id IS NULL THEN NULL ELSE jsonb_build_object(
      'id', rv.id::text, 'kind', rv.kind, 'version', rv.version, 'status', rv.status, 'artifact_path', rv.artifact_path,
      'sha256', rv.sha256, 'manifest', '{}'::jsonb, 'metrics', rv.metrics, 'source_job_id', rv.source_job_id,
      'created_at', rv.created_at, 'activated_at', rv.activated_at, 'previous_active_id', rv.previous_active_id::text) END AS rv
  FROM training_jobs j LEFT JOIN model_versions rv ON rv.id = j.result_version_id`;

function toVersion(r: RvRow): ModelVersionRecord {
  return {
    id: r.id, kind: r.kind, version: r.version, status: r.status, artifactPath: r.artifact_path, sha256: r.sha256,
    manifest: r.manifest, metrics: r.metrics, sourceJobId: r.source_job_id, createdAt: new Date(r.created_at),
    activatedAt: r.activated_at ? new Date(r.activated_at) : null, previousActiveId: r.previous_active_id,
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toRecord(r: Row): TrainingJobRecord {
  return {
    id: r.id, kind: r.kind, status: r.status, baseVersionId: r.base_version_id,
    dataFrom: r.data_from ? new Date(r.data_from) : null, dataTo: new Date(r.data_to),
    hyperparameters: r.hyperparameters, seed: r.seed, autoPromote: r.auto_promote, idempotencyKey: r.idempotency_key,
    createdBy: r.created_by, progress: Number(r.progress), epoch: r.epoch, step: r.step, totalSteps: r.total_steps,
    loss: num(r.loss), etaSeconds: num(r.eta_seconds), metrics: r.metrics, logTail: r.log_tail, error: r.error,
    comparison: r.comparison, resultVersionId: r.result_version_id, resultVersion: r.rv ? toVersion(r.rv) : null,
    attempts: r.attempts, maxAttempts: r.max_attempts, deadLettered: r.dead_lettered, cancelRequested: r.cancel_requested,
    runAfter: new Date(r.run_after), lease: r.lease, workerId: r.worker_id,
    heartbeatAt: r.heartbeat_at ? new Date(r.heartbeat_at) : null, runnerRef: r.runner_ref, runnerHost: r.runner_host,
    createdAt: new Date(r.created_at), startedAt: r.started_at ? new Date(r.started_at) : null,
    finishedAt: r.finished_at ? new Date(r.finished_at) : null, updatedAt: new Date(r.updated_at),
  };
}


export interface JobFilter {
  readonly statuses?: readonly JobStatus[] | null;
  readonly kind?: ModelKind | null;
}

/** A job taken from the queue by one worker: the lease fences that worker's writes. */
export interface Claim {
  readonly job: TrainingJobRecord;
  readonly lease: string;
}

/** What a dead worker's job became when the reaper took it back. */
export interface ReapedJob {
  readonly id: string;
  readonly status: JobStatus;
  readonly runnerRef: string | null;
  readonly runnerHost: string | null;
}

/** Where each kind's training data lives and its time column (src/jobs/snapshot.exporter.ts). */
const TRAINING_TABLE: Readonly<Record<ModelKind, readonly [string, string]>> = {
  'next-item': ['events', 'occurred_at'],
  behavior: ['events', 'occurred_at'],
  sentiment: ['reviews', 'created_at'],
  intent: ['labeled_messages', 'created_at'],
};

/** claimOnce's answer when another worker took the free slot first. */
const LOST_RACE = Symbol('lost-race');

export class TrainingJobRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts a queued job; with an idempotency key already used, returns that job instead. */
  async insert(j: NewTrainingJob): Promise<{ job: TrainingJobRecord; created: boolean }> {
    const rows = await this.ds.query<{ id: string }[]>(
      `INSERT INTO training_jobs (kind, base_version_id, data_from, data_to, hyperparameters, seed, auto_promote,
         idempotency_key, created_by, max_attempts)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id::text AS id`,
      [j.kind, j.baseVersionId, j.dataFrom, j.dataTo, JSON.stringify(j.hyperparameters), j.seed, j.autoPromote,
        j.idempotencyKey, j.createdBy, j.maxAttempts],
    );
    if (rows[0]) return { job: (await this.byId(rows[0].id))!, created: true };
    const existing = await this.byIdempotencyKey(j.idempotencyKey!);
    if (!existing) throw new Error(`training job with idempotency key ${j.idempotencyKey} conflicted but cannot be found`);
    return { job: existing, created: false };
  }

  /**
   * Rows of `kind`'s training data in [from, to) (what the snapshot exporter would write), counted
   * up to `atMost` so a large table costs no more than a few index probes.
   */
  async trainingRows(kind: ModelKind, from: Date | null, to: Date, atMost: number): Promise<number> {
    const [table, column] = TRAINING_TABLE[kind];
    const rows = await this.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} WHERE ($1::timestamptz IS NULL OR ${column} >= $1) AND ${column} < $2 LIMIT $3) x`,
      [from, to, atMost],
    );
    return rows[0]!.n;
  }

  async byId(id: string): Promise<TrainingJobRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows = await this.ds.query<Row[]>(`${SELECT} WHERE j.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async byIdempotencyKey(key: string): Promise<TrainingJobRecord | null> {
    const rows = await this.ds.query<Row[]>(`${SELECT} WHERE j.idempotency_key = $1`, [key]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Newest first, keyset-paginated on id. */
  async list(filter: JobFilter, limit: number, after: string | null): Promise<Page<TrainingJobRecord>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.statuses?.length) {
      params.push([...filter.statuses]);
      where.push(`j.status = ANY($${params.length})`);
    }
    if (filter.kind) {
      params.push(filter.kind);
      where.push(`j.kind = $${params.length}`);
    }
    if (after) {
      params.push(decodeIdCursor(after));
      where.push(`j.id < $${params.length}`);
    }
    params.push(limit + 1);
    const rows = await this.ds.query<Row[]>(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY j.id DESC LIMIT $${params.length}`,
      params,
    );
    return toPage(rows.map(toRecord), limit, (r) => [Number(r.id)]);
  }

  async countByStatus(): Promise<Record<JobStatus, number> & { dead_lettered: number }> {
    const rows = await this.ds.query<{ status: JobStatus; n: number; dead: number }[]>(
      `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE dead_lettered)::int AS dead FROM training_jobs GROUP BY status`,
    );
    const out = {
      queued: 0, exporting: 0, training: 0, evaluating: 0, registering: 0, succeeded: 0, failed: 0, cancelled: 0, dead_lettered: 0,
    };
    for (const r of rows) {
      out[r.status] = r.n;
      out.dead_lettered += r.dead;
    }
    return out;
  }

  /**
   * Takes the oldest due queued job into a free concurrency slot (1..limit), in one statement: no
   * transaction, so it is safe on the embedded database too. SKIP LOCKED keeps claimers off each
   * other's rows; two claimers that pick the same free slot collide on the partial unique index
   * (training_jobs_slot); the loser tries again while a slot may be free — the limit holds across workers.
   */
  async claim(workerId: string, lease: string, limit: number): Promise<Claim | null> {
    // A lost slot race means another worker took a slot; retry, since one may still be free. Every
    // loss is someone else's win, so after `limit` losses the slots are full and the loop ends.
    for (let attempt = 0; attempt <= limit; attempt++) {
      const id = await this.claimOnce(workerId, lease, limit);
      if (id === LOST_RACE) continue;
      if (id === null) return null;
      const job = await this.byId(id);
      return job ? { job, lease } : null;
    }
    return null;
  }

  /** One claim statement: the claimed job id, null when nothing is claimable, LOST_RACE on a slot conflict. */
  private async claimOnce(workerId: string, lease: string, limit: number): Promise<string | null | typeof LOST_RACE> {
    let rows: { id: string }[];
    try {
      rows = updatedRows<{ id: string }>(await this.ds.query(
        `UPDATE training_jobs SET status = 'exporting', slot = free.n, lease = $1, worker_id = $2, heartbeat_at = now(),
           attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now(),
           progress = 0, epoch = NULL, step = NULL, total_steps = NULL, loss = NULL, eta_seconds = NULL,
           runner_ref = NULL, runner_host = NULL
         FROM (SELECT n FROM generate_series(1, $3::int) AS n
               WHERE n NOT IN (SELECT slot FROM training_jobs WHERE status IN ${RUNNING_SQL} AND slot IS NOT NULL)
               ORDER BY n LIMIT 1) AS free
         WHERE training_jobs.id = (SELECT id FROM training_jobs WHERE status = 'queued' AND run_after <= now()
                                   ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING training_jobs.id::text AS id`,
        [lease, workerId, limit],
      ));
    } catch (err) {
      if ((err as { driverError?: { code?: string }; code?: string }).driverError?.code === '23505') return LOST_RACE;
      throw err;
    }
    return rows[0]?.id ?? null;
  }

  /** Marks the attempt alive; null when the lease was lost (the job was taken back or finished). */
  async heartbeat(id: string, lease: string): Promise<{ cancelRequested: boolean } | null> {
    const rows = updatedRows<{ cancel_requested: boolean }>(await this.ds.query(
      `UPDATE training_jobs SET heartbeat_at = now() WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL}
       RETURNING cancel_requested`,
      [id, lease],
    ));
    return rows[0] ? { cancelRequested: rows[0].cancel_requested } : null;
  }

  /** Moves the attempt to another running stage; false when the lease was lost. */
  async setStage(id: string, lease: string, status: JobStatus, progress: number): Promise<boolean> {
    const rows = updatedRows(await this.ds.query(
      `UPDATE training_jobs SET status = $3, progress = greatest(progress, $4), eta_seconds = NULL, heartbeat_at = now(),
         updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL} RETURNING id`,
      [id, lease, status, progress],
    ));
    return rows.length > 0;
  }

  async setProgress(id: string, lease: string, p: ProgressUpdate): Promise<boolean> {
    const rows = updatedRows(await this.ds.query(
      `UPDATE training_jobs SET progress = greatest(progress, $3), epoch = coalesce($4, epoch), step = coalesce($5, step),
         total_steps = coalesce($6, total_steps), loss = coalesce($7, loss), eta_seconds = $8,
         metrics = metrics || $9::jsonb, log_tail = coalesce($10, log_tail), updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL} RETURNING id`,
      [id, lease, p.progress, p.epoch ?? null, p.step ?? null, p.totalSteps ?? null, p.loss ?? null, p.etaSeconds ?? null,
        JSON.stringify(p.metrics ?? {}), p.logTail ?? null],
    ));
    return rows.length > 0;
  }

  /** Records the attempt's run (the runner's reference and host), so a later worker can stop it if this one dies. */
  async setRunner(id: string, lease: string, ref: string | null, host: string | null): Promise<void> {
    await this.ds.query(`UPDATE training_jobs SET runner_ref = $3, runner_host = $4 WHERE id = $1 AND lease = $2`, [id, lease, ref, host]);
  }

  async setComparison(id: string, lease: string, comparison: Comparison): Promise<boolean> {
    const rows = updatedRows(await this.ds.query(
      `UPDATE training_jobs SET comparison = $3::jsonb, updated_at = now() WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL}
       RETURNING id`,
      [id, lease, JSON.stringify(comparison)],
    ));
    return rows.length > 0;
  }

  async succeed(id: string, lease: string, versionId: string, comparison: Comparison | null, metrics: Record<string, unknown>): Promise<boolean> {
    const rows = updatedRows(await this.ds.query(
      `UPDATE training_jobs SET status = 'succeeded', progress = 1, eta_seconds = 0, result_version_id = $3,
         comparison = coalesce($4::jsonb, comparison), metrics = metrics || $5::jsonb, error = NULL, lease = NULL,
         finished_at = now(), updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL} RETURNING id`,
      [id, lease, versionId, comparison ? JSON.stringify(comparison) : null, JSON.stringify(metrics)],
    ));
    return rows.length > 0;
  }

  /** Terminal failure or cancellation of the attempt holding `lease`. */
  async finish(id: string, lease: string, status: 'failed' | 'cancelled', error: string | null, logTail?: string): Promise<boolean> {
    const rows = updatedRows(await this.ds.query(
      `UPDATE training_jobs SET status = $3, error = $4, log_tail = coalesce($5, log_tail), eta_seconds = NULL,
         lease = NULL, finished_at = now(), updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL} RETURNING id`,
      [id, lease, status, error, logTail ?? null],
    ));
    return rows.length > 0;
  }

  /**
   * A retryable failure: back to the queue after the backoff (base × 2^(attempt−1)), or failed
   * and dead-lettered when the attempts are used up. A requested cancellation wins.
   */
  async retryOrFail(id: string, lease: string, error: string, backoffMs: number, logTail?: string): Promise<JobStatus | null> {
    const rows = updatedRows<{ status: JobStatus }>(await this.ds.query(
      `UPDATE training_jobs SET
         status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         dead_lettered = NOT cancel_requested AND attempts >= max_attempts,
         run_after = now() + ($3::double precision * power(2, greatest(attempts - 1, 0))) * interval '1 millisecond',
         finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN now() END,
         error = $4, log_tail = coalesce($5, log_tail), progress = 0, eta_seconds = NULL, lease = NULL, worker_id = NULL,
         heartbeat_at = NULL, updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL} RETURNING status`,
      [id, lease, backoffMs, error, logTail ?? null],
    ));
    return rows[0]?.status ?? null;
  }

  /** Graceful worker stop: the job goes back to the queue at once, and the attempt does not count. */
  async release(id: string, lease: string): Promise<void> {
    await this.ds.query(
      `UPDATE training_jobs SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,
         finished_at = CASE WHEN cancel_requested THEN now() END,
         attempts = greatest(attempts - 1, 0), run_after = now(), progress = 0, eta_seconds = NULL, lease = NULL,
         worker_id = NULL, heartbeat_at = NULL, updated_at = now()
       WHERE id = $1 AND lease = $2 AND status IN ${RUNNING_SQL}`,
      [id, lease],
    );
  }

  /**
   * Takes back running jobs whose worker stopped heartbeating: re-queued with backoff, or failed
   * and dead-lettered after the last attempt (cancelled when a cancel was pending).
   */
  async reapDead(deadAfterMs: number, backoffMs: number): Promise<ReapedJob[]> {
    const rows = updatedRows<{ id: string; status: JobStatus; runner_ref: string | null; runner_host: string | null }>(await this.ds.query(
      `UPDATE training_jobs SET
         status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         dead_lettered = NOT cancel_requested AND attempts >= max_attempts,
         run_after = now() + ($2::double precision * power(2, greatest(attempts - 1, 0))) * interval '1 millisecond',
         finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN now() END,
         error = format('worker %s stopped heartbeating during %s (attempt %s of %s)', worker_id, status, attempts, max_attempts),
         progress = 0, eta_seconds = NULL, lease = NULL, worker_id = NULL, heartbeat_at = NULL, updated_at = now()
       WHERE status IN ${RUNNING_SQL} AND heartbeat_at < now() - $1::double precision * interval '1 millisecond'
       RETURNING id::text AS id, status, runner_ref, runner_host`,
      [deadAfterMs, backoffMs],
    ));
    return rows.map((r) => ({ id: r.id, status: r.status, runnerRef: r.runner_ref, runnerHost: r.runner_host }));
  }

  /**
   * Cancels a queued job at once, or asks the worker running it to stop (it polls the flag with
   * its heartbeat). Returns null for an unknown id.
   */
  async requestCancel(id: string): Promise<TrainingJobRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    await this.ds.query(
      `UPDATE training_jobs SET
         status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
         cancel_requested = true, updated_at = now()
       WHERE id = $1 AND status IN ('queued', ${RUNNING_SQL.slice(1, -1)})`,
      [id],
    );
    return this.byId(id);
  }
}
