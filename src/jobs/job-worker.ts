/**
 * A job worker: claims queued jobs (up to the concurrency limit), runs each attempt through the
 * pipeline, heartbeats while it runs, and takes back the jobs of workers that stopped
 * heartbeating. It runs inside the server (MERIDIAN_JOB_WORKER) or alone (src/tools/worker.ts);
 * any number may share one database.
 *
 * Outcomes of an attempt: success (the pipeline wrote it); cancel → cancelled; timeout → failed;
 * permanent failure → failed; retryable failure or a dead worker → queued again after a backoff,
 * failed and dead-lettered once the attempts are used up; graceful stop → queued again at once,
 * the attempt not counted; lease lost → nothing (another worker owns the job now).
 */
import { unreachable } from '../common/exhaustive';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../common/logger';
import type { JobsConfig } from '../config/config';
import { JobFailure, errMessage } from './job-errors';
import type { JobEvents } from './job-events';
import { AttemptAborted, type AbortReason, type JobRunner } from './job-runner';
import type { TrainingPipeline } from './training-pipeline';
import type { TrainingJobRepository } from './training-job.repository';

interface Running {
  readonly lease: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export interface WorkerDeps {
  readonly repo: TrainingJobRepository;
  readonly pipeline: TrainingPipeline;
  readonly runner: JobRunner;
  readonly events: JobEvents;
  readonly config: JobsConfig;
  /** <dataDir>/jobs, to recognise a dead worker's trainer process by its command line. */
  readonly jobsDir: string;
  readonly logger: Logger;
}

export class JobWorker {
  readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private readonly running = new Map<string, Running>();
  private pollTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  private readonly unsubscribe: (() => void)[] = [];
  private readonly log: Logger;

  constructor(private readonly deps: WorkerDeps) {
    this.log = deps.logger.child({ worker: this.id });
  }

  /** Jobs this worker is running now. */
  get activeJobs(): readonly string[] {
    return [...this.running.keys()];
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'started';
    const c = this.deps.config;
    this.pollTimer = setInterval(() => this.wake(), c.pollMs);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), c.heartbeatMs);
    this.unsubscribe.push(this.deps.events.onEnqueued(() => this.wake()));
    this.unsubscribe.push(this.deps.events.onCancel((id) => this.running.get(id)?.controller.abort('cancel' satisfies AbortReason)));
    this.log.info({ concurrency: c.concurrency, runner: this.deps.runner.name }, 'job worker started');
    this.wake();
  }

  /**
   * Stops claiming, stops the running trainers and puts their jobs back in the queue (the attempt
   * does not count), so another worker picks them up at once.
   */
  async stop(): Promise<void> {
    if (this.state !== 'started') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.unsubscribe.forEach((u) => u());
    await this.ticking; // a claim in flight still lands in `running`
    for (const r of this.running.values()) r.controller.abort('shutdown' satisfies AbortReason);
    await Promise.all([...this.running.values()].map((r) => r.done));
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.state = 'stopped';
    this.log.info('job worker stopped');
  }

  /** Looks for work now (coalesces calls while a tick runs). */
  wake(): void {
    if (this.state !== 'started') return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err: unknown) => this.log.error({ err: errMessage(err) }, 'job worker tick failed'))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async tick(): Promise<void> {
    const c = this.deps.config;
    for (const job of await this.deps.repo.reapDead(c.deadAfterMs, c.retryBackoffMs)) {
      this.log.warn({ jobId: job.id, status: job.status }, 'took back a job from a worker that stopped heartbeating');
      if (job.runnerRef !== null && job.runnerHost !== null) {
        this.deps.runner.stopOrphan?.(job.runnerRef, job.runnerHost, path.join(this.deps.jobsDir, job.id));
      }
      this.deps.events.changed(job.id);
    }
    while (this.state === 'started' && this.running.size < c.concurrency) {
      const lease = crypto.randomUUID();
      const claim = await this.deps.repo.claim(this.id, lease, c.concurrency);
      if (!claim) return;
      this.launch(claim.job.id, lease, claim.job);
    }
  }

  private launch(jobId: string, lease: string, job: Parameters<TrainingPipeline['run']>[0]): void {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort('timeout' satisfies AbortReason), this.deps.config.timeoutSeconds * 1000);
    timeout.unref();
    this.log.info({ jobId, attempt: job.attempts, kind: job.kind }, 'job claimed');
    this.deps.events.changed(jobId);
    const done = this.deps.pipeline
      .run(job, lease, controller.signal)
      .then(() => this.log.info({ jobId }, 'job succeeded'))
      .catch((err: unknown) => this.settle(jobId, lease, err))
      .catch((err: unknown) => this.log.error({ jobId, err: errMessage(err) }, 'could not record the outcome of an attempt'))
      .finally(() => {
        clearTimeout(timeout);
        this.running.delete(jobId);
        this.deps.events.changed(jobId);
        this.wake();
      });
    this.running.set(jobId, { lease, controller, done });
  }

  /** Records how a failed or aborted attempt ends (see the file comment). */
  private async settle(jobId: string, lease: string, err: unknown): Promise<void> {
    const { repo, config } = this.deps;
    if (err instanceof AttemptAborted) {
      switch (err.reason) {
        case 'cancel':
          await repo.finish(jobId, lease, 'cancelled', 'cancelled by an admin');
          this.log.info({ jobId }, 'job cancelled');
          return;
        case 'timeout':
          await repo.finish(jobId, lease, 'failed', `timed out after ${config.timeoutSeconds} s (MERIDIAN_JOB_TIMEOUT_S)`);
          this.log.warn({ jobId }, 'job timed out');
          return;
        case 'shutdown':
          await repo.release(jobId, lease);
          this.log.info({ jobId }, 'job released for another worker');
          return;
        case 'lease-lost':
          this.log.warn({ jobId }, 'lost the lease on a job (presumed dead); another worker owns it now');
          return;
        default:
          return unreachable(err.reason);
      }
    }
    if (err instanceof JobFailure && !err.retryable) {
      await repo.finish(jobId, lease, 'failed', err.message, err.logTail);
      this.log.warn({ jobId, err: err.message }, 'job failed');
      return;
    }
    const message = errMessage(err);
    const status = await repo.retryOrFail(jobId, lease, message, config.retryBackoffMs, err instanceof JobFailure ? err.logTail : undefined);
    this.log.warn({ jobId, err: message, status }, status === 'queued' ? 'job attempt failed; will retry' : 'job failed');
  }

  private async heartbeat(): Promise<void> {
    for (const [jobId, r] of this.running) {
      if (r.controller.signal.aborted) continue;
      try {
        const beat = await this.deps.repo.heartbeat(jobId, r.lease);
        if (!beat) r.controller.abort('lease-lost' satisfies AbortReason);
        else if (beat.cancelRequested) r.controller.abort('cancel' satisfies AbortReason);
      } catch (err) {
        // A missed beat is survivable: the job is only taken back after deadAfterMs without one.
        this.log.warn({ jobId, err: errMessage(err) }, 'heartbeat failed');
      }
    }
  }
}
