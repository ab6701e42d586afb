/**
 * One attempt of a fine-tuning job, stage by stage:
 *   exporting   — the data window → a snapshot under <dataDir>/jobs/<id>/attempt-<n>/snapshot;
 *   training    — the trainer (from the base artifact) → attempt-<n>/artifact, progress into the row;
 *   evaluating  — the active version scored on the same held-out split → the comparison;
 *   registering — artifact verified, put into the fleet's model store and registered as a
 *                 candidate (one per job), promoted when autoPromote and it wins.
 * The base and active versions are read through the registry's local copies of the model store,
 * so a worker needs no filesystem shared with the servers.
 * Every write is fenced by the attempt's lease. A retry after a crash resumes at registration
 * when the job already has its model version, so a job never registers two. Nothing reaches the
 * registry that has not passed its checks, and nothing is promoted that did not win the gate.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Logger } from '../common/logger';
import { ModelArtifactError } from '../inference/inference.errors';
import type { ModelRegistry } from '../inference/model-registry';
import type { ModelVersionRecord } from '../inference/model-version.repository';
import { JobFailure, errMessage, trainerFailure } from './job-errors';
import { AttemptAborted, type AbortReason, type JobRunner, type TrainerTask } from './job-runner';
import { PROGRESS, ProgressWriter } from './progress-writer';
import { type ActiveResult, compare, evaluationConfig, promotionDecision } from './promotion-gate';
import { exportSnapshot } from './snapshot.exporter';
import type { Comparison, RunningStatus, TrainingJobRecord } from './training-job';
import type { TrainingJobRepository } from './training-job.repository';
import { TailBuffer, type TrainerEvent } from './trainer-output';

export interface PipelineDeps {
  readonly ds: DataSource;
  readonly repo: TrainingJobRepository;
  /** Verifies, records, promotes, and answers which versions exist. */
  readonly models: ModelRegistry;
  readonly runner: JobRunner;
  /** <dataDir>/jobs */
  readonly jobsDir: string;
  readonly promotionMargin: number;
  /** Throttle of progress writes, ms. */
  readonly progressWriteMs: number;
  /** Called after every write to the job row (wakes subscriptions in this process). */
  readonly onChanged: (jobId: string) => void;
  readonly logger: Logger;
}

/** Keeps an attempt directory's logs and drops its (possibly large) snapshot and artifact. */
function pruneAttemptDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.log')) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

export class TrainingPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  attemptDir(job: TrainingJobRecord): string {
    return path.join(this.deps.jobsDir, job.id, `attempt-${job.attempts}`);
  }

  /**
   * Runs the attempt to success (the row says succeeded) or throws: AttemptAborted (cancel,
   * timeout, lease lost, shutdown), JobFailure (retryable or not), or any other error (retryable).
   */
  async run(job: TrainingJobRecord, lease: string, signal: AbortSignal): Promise<void> {
    const d = this.deps;
    const log = d.logger.child({ jobId: job.id, attempt: job.attempts, kind: job.kind });
    const dir = this.attemptDir(job);
    this.cleanEarlierAttempts(job);
    fs.mkdirSync(dir, { recursive: true });
    const tail = new TailBuffer();
    let leaseLost = false;
    const progress = new ProgressWriter(d.repo, job.id, lease, d.progressWriteMs, () => d.onChanged(job.id), () => {
      leaseLost = true;
    }, log);
    const checkpoint = async () => {
      if (leaseLost) throw new AttemptAborted('lease-lost');
      if (signal.aborted) throw new AttemptAborted(signal.reason as AbortReason);
    };
    const stage = async (status: RunningStatus, p: number) => {
      await progress.flush();
      await checkpoint();
      if (!(await d.repo.setStage(job.id, lease, status, p))) throw new AttemptAborted('lease-lost');
      d.onChanged(job.id);
      log.info({ status }, 'job stage');
    };

    try {
      const existing = await d.models.versionBySourceJob(job.id);
      if (existing && job.comparison) {
        // A previous attempt registered the model and then died: finish its registration.
        await stage('registering', PROGRESS.registering);
        await this.finish(job, lease, existing, job.comparison, existing.metrics, log);
        return;
      }

      await stage('exporting', PROGRESS.exporting);
      const snapshot = path.join(dir, 'snapshot');
      const counts = await exportSnapshot(d.ds, snapshot, { from: job.dataFrom, to: job.dataTo }, { texts: job.kind === 'intent' });
      log.info({ counts }, 'snapshot exported');

      let candidateDir: string;
      let candidateMetrics: Record<string, unknown>;
      /** What the artifact's files say (checked once here; the registry verifies it fully at registration). */
      let candidate: { version: string; sha256: string; manifest: Readonly<Record<string, unknown>> };
      if (existing) {
        candidateDir = await d.models.artifactDir(existing);
        candidateMetrics = existing.metrics;
        candidate = { version: existing.version, sha256: existing.sha256, manifest: existing.manifest };
      } else {
        await stage('training', PROGRESS.trainingStart);
        const base = job.baseVersionId ? await d.models.versionById(job.baseVersionId) : null;
        if (job.baseVersionId && !base) throw new JobFailure(`base version ${job.baseVersionId} no longer exists`, false);
        candidateDir = path.join(dir, 'artifact');
        const task: TrainerTask = {
          command: 'train', kind: job.kind, data: snapshot, out: candidateDir,
          base: base ? await d.models.artifactDir(base) : null, config: job.hyperparameters, seed: job.seed,
        };
        const r = await d.runner.run(task, dir, {
          onEvent: (ev) => this.onTrainerEvent(ev, progress),
          onStart: ({ ref, host }) => void d.repo.setRunner(job.id, lease, ref, host).catch(() => undefined),
          onLog: (chunk) => {
            tail.push(chunk);
            progress.update({ progress: 0, logTail: tail.text() });
          },
        }, signal);
        await progress.flush();
        await checkpoint();
        if (r.exitCode !== 0 || !r.done) throw trainerFailure('train', r.exitCode, r.signal, r.errorMessage, r.stderrTail);
        candidateMetrics = r.done.metrics;
        try {
          // The registry's file checks (manifest, sha256 of every file, opset) before anything else reads it.
          const a = d.models.checkArtifact(job.kind, candidateDir);
          candidate = { version: a.manifest.version, sha256: a.sha256, manifest: a.manifest.raw };
        } catch (err) {
          throw new JobFailure(`the trainer's artifact was refused: ${errMessage(err)}`, false, r.stderrTail);
        }
      }

      await stage('evaluating', PROGRESS.evaluating);
      const candidateHyper = (candidate.manifest.hyperparameters ?? {}) as Record<string, unknown>;
      const active = await d.models.activeVersion(job.kind);
      let activeResult: ActiveResult | null = null;
      if (active && active.id !== existing?.id) {
        activeResult = await this.evaluateActive(job, active, snapshot, evaluationConfig(job.kind, candidateHyper), dir, signal);
        await checkpoint();
      }
      const comparison = compare(job.kind, candidateMetrics, activeResult, d.promotionMargin);
      if (!(await d.repo.setComparison(job.id, lease, comparison))) throw new AttemptAborted('lease-lost');
      d.onChanged(job.id);
      log.info({ comparison }, 'compared with the active version');

      await stage('registering', PROGRESS.registering);
      if (existing) {
        await this.finish(job, lease, existing, comparison, candidateMetrics, log);
        return;
      }
      // One verification and one ONNX load: the registry stores the artifact, keeps the verified
      // session and activates it when the gate says so (decided once the candidate is recorded,
      // under the lease).
      let version: ModelVersionRecord;
      try {
        version = await d.models.registerAndPromote(job.kind, candidateDir, {
          sourceJobId: job.id,
          promoteIf: (registered) => {
            log.info({ versionId: registered.id, version: registered.version }, 'model version registered');
            return this.mayPromote(job, lease, registered, comparison);
          },
        });
      } catch (err) {
        // A bad model (ONNX does not load, wrong inputs, NaN outputs…) is refused, never stored
        // and never served.
        if (err instanceof ModelArtifactError) throw new JobFailure(errMessage(err), false);
        throw err;
      }
      await this.finish(job, lease, version, comparison, candidateMetrics, log);
    } finally {
      await progress.close();
      pruneAttemptDir(dir);
    }
  }

  /** The gate's decision for a recorded candidate; only the lease holder may swap models in (a presumed-dead worker must not). */
  private async mayPromote(job: TrainingJobRecord, lease: string, version: ModelVersionRecord, comparison: Comparison): Promise<boolean> {
    if (version.status !== 'candidate' || !promotionDecision(job.autoPromote, comparison).promote) return false;
    if (!(await this.deps.repo.heartbeat(job.id, lease))) throw new AttemptAborted('lease-lost');
    return true;
  }

  private async finish(
    job: TrainingJobRecord,
    lease: string,
    version: ModelVersionRecord,
    comparison: Comparison,
    metrics: Record<string, unknown>,
    log: Logger,
  ): Promise<void> {
    const d = this.deps;
    let { decision } = promotionDecision(job.autoPromote, comparison);
    if (version.status !== 'candidate') {
      // Promoted already (at registration, by an earlier attempt, or by an admin); never promote twice.
      decision = comparison.decision ?? decision;
    } else if (await this.mayPromote(job, lease, version, comparison)) {
      version = await d.models.promote(version.id);
    }
    const promoted = comparison.promoted === true || version.status === 'active';
    if (promoted) log.info({ versionId: version.id, version: version.version }, 'model version promoted');
    const final: Comparison = { ...comparison, promoted, decision };
    if (!(await d.repo.succeed(job.id, lease, version.id, final, metrics))) throw new AttemptAborted('lease-lost');
    d.onChanged(job.id);
  }

  private async evaluateActive(
    job: TrainingJobRecord,
    active: ModelVersionRecord,
    snapshot: string,
    config: Record<string, unknown>,
    dir: string,
    signal: AbortSignal,
  ): Promise<ActiveResult> {
    const r = await this.deps.runner.run(
      { command: 'evaluate', kind: job.kind, data: snapshot, model: await this.deps.models.artifactDir(active), config, seed: job.seed },
      dir,
      {},
      signal,
    );
    const base = { versionId: active.id, version: active.version };
    if (r.exitCode === 0 && r.done) return { ...base, metrics: r.done.metrics, error: null };
    if (signal.aborted) throw new AttemptAborted(signal.reason as AbortReason);
    const failure = trainerFailure('evaluate', r.exitCode, r.signal, r.errorMessage, '');
    this.deps.logger.warn({ jobId: job.id, err: failure.message }, 'the active version could not be evaluated');
    return { ...base, metrics: null, error: failure.message };
  }

  private onTrainerEvent(ev: TrainerEvent, progress: ProgressWriter): void {
    switch (ev.event) {
      case 'phase': {
        const p = ev.phase === 'evaluating' ? PROGRESS.trainerEvaluating : ev.phase === 'exporting' ? PROGRESS.trainerExporting : PROGRESS.trainingStart;
        progress.update({ progress: p, etaSeconds: null }, true);
        return;
      }
      case 'progress': {
        const frac = ev.step !== null && ev.totalSteps ? Math.min(1, ev.step / ev.totalSteps) : 0;
        const p = PROGRESS.trainingStart + (PROGRESS.trainingEnd - PROGRESS.trainingStart) * frac;
        const epochEnd = Object.keys(ev.metrics).length > 0;
        progress.update(
          { progress: p, epoch: ev.epoch, step: ev.step, totalSteps: ev.totalSteps, loss: ev.loss, etaSeconds: ev.etaSeconds, metrics: ev.metrics },
          epochEnd,
        );
        return;
      }
      case 'done':
      case 'error':
        return; // handled from the run result
    }
  }

  /** Earlier attempts' snapshots and artifacts; their logs stay for diagnosis. */
  private cleanEarlierAttempts(job: TrainingJobRecord): void {
    const jobDir = path.join(this.deps.jobsDir, job.id);
    if (fs.existsSync(jobDir)) {
      for (const name of fs.readdirSync(jobDir)) pruneAttemptDir(path.join(jobDir, name));
    }
  }
}
