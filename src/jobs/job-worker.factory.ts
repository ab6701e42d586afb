/**
 * Builds a job worker (the server when MERIDIAN_JOB_WORKER is on, or src/tools/worker.ts), plus the
 * `meridian_jobs{status}` gauge for /metrics.
 */
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Logger } from '../common/logger';
import type { Config } from '../config/config';
import type { ModelRegistry } from '../inference/model-registry';
import type { GaugeSource } from '../observability/metrics';
import type { JobRunner } from './job-runner';
import { JobWorker } from './job-worker';
import { LocalProcessRunner } from './local-process.runner';
import { TrainingJobService } from './training-job.service';
import { TrainingPipeline } from './training-pipeline';

export interface WorkerOptions {
  /** Another runner (tests, or a Ray/Kubernetes runner); defaults to the local process runner. */
  readonly runner?: JobRunner;
  /** Throttle of progress writes to the job row, ms. Defaults to 1000. */
  readonly progressWriteMs?: number;
}

/** <dataDir>/jobs: each attempt's snapshot, artifact and logs. */
export function jobPaths(config: Config): { jobsDir: string } {
  return { jobsDir: path.join(config.dataDir, 'jobs') };
}

export function createJobWorker(
  ds: DataSource,
  config: Config,
  services: { readonly trainingJobs: TrainingJobService; readonly models: ModelRegistry },
  logger: Logger,
  opts: WorkerOptions = {},
): JobWorker {
  const log = logger.child({ component: 'job-worker' });
  const { jobsDir } = jobPaths(config);
  const runner = opts.runner ?? new LocalProcessRunner({ python: config.jobs.trainerPython, trainerDir: config.jobs.trainerDir }, log);
  const jobs = services.trainingJobs;
  const pipeline = new TrainingPipeline({
    ds,
    repo: jobs.repo,
    models: services.models,
    runner,
    jobsDir,
    promotionMargin: config.jobs.promotionMargin,
    progressWriteMs: opts.progressWriteMs ?? 1000,
    onChanged: (id) => jobs.events.changed(id),
    logger: log,
  });
  return new JobWorker({ repo: jobs.repo, pipeline, runner, events: jobs.events, config: config.jobs, jobsDir, logger: log });
}

/** `meridian_jobs{status="…"}`: jobs per state (and dead-lettered ones), read at scrape time. */
export function jobsGauge(jobs: TrainingJobService): GaugeSource {
  return {
    name: 'meridian_jobs',
    help: 'Fine-tuning jobs by status (dead_lettered: failed after the last retry)',
    async collect() {
      const counts = await jobs.counts();
      return Object.entries(counts).map(([status, value]) => ({ labels: { status }, value }));
    },
  };
}
