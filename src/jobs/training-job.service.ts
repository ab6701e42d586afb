/**
 * What admins do with fine-tuning jobs: start (validated before anything is queued; idempotent
 * with a key), cancel, read, list and watch. Workers (job-worker.ts) do the rest.
 */
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode, IssueCollector, NotFoundError, ValidationError } from '../common/errors';
import type { Logger } from '../common/logger';
import { type Page, pageSize } from '../common/pagination';
import type { JobsConfig } from '../config/config';
import { isModelKind, MODEL_KINDS, type ModelKind } from '../inference/model-kind';
import type { ModelRegistry } from '../inference/model-registry';
import type { ModelVersionRecord } from '../inference/model-version.repository';
import { JobEvents } from './job-events';
import { loadHyperparameterSpecs, validateHyperparameters } from './hyperparameters';
import { JOB_STATUSES, type JobStatus, type TrainingJobRecord } from './training-job';
import { type JobFilter, TrainingJobRepository } from './training-job.repository';

export interface StartFineTuning {
  /** A model kind: next-item, behavior, sentiment, intent. */
  readonly modelKind: string;
  /** Version to fine-tune from; defaults to the kind's active version. */
  readonly baseVersionId?: string | null;
  /** Train without a base (needed to change architecture hyperparameters). Defaults to false. */
  readonly fromScratch?: boolean | null;
  /** Events with occurred_at in [from, to); `to` defaults to the time of the request, so retries see the same data. */
  readonly dataWindow?: { readonly from?: Date | null; readonly to?: Date | null } | null;
  readonly hyperparameters?: Record<string, unknown> | null;
  readonly autoPromote?: boolean | null;
  readonly idempotencyKey?: string | null;
  readonly seed?: number | null;
}

export interface TrainingJobServiceOptions {
  readonly jobs: JobsConfig;
  /** How often a subscription re-reads the row when no in-process event arrives, ms. Defaults to 1000. */
  readonly watchPollMs?: number;
}

const MAX_SEED = 2 ** 31 - 1;

/** The fewest rows of its training data a kind's trainer accepts (trainer/meridian_trainer/data.py). */
const TRAINER_MIN_ROWS: Readonly<Record<ModelKind, number>> = { 'next-item': 1, behavior: 1, sentiment: 2, intent: 2 };
const TRAINING_SOURCE: Readonly<Record<ModelKind, string>> = {
  'next-item': 'events', behavior: 'events', sentiment: 'reviews', intent: 'labelled messages',
};

export class TrainingJobService {
  readonly repo: TrainingJobRepository;
  readonly events = new JobEvents();

  constructor(
    ds: DataSource,
    /** The registry's read side: a job's base version. */
    private readonly versions: Pick<ModelRegistry, 'versionById' | 'activeVersion' | 'artifactFiles'>,
    private readonly opts: TrainingJobServiceOptions,
    private readonly logger: Logger,
  ) {
    this.repo = new TrainingJobRepository(ds);
  }

  async start(input: StartFineTuning, createdBy: string | null): Promise<TrainingJobRecord> {
    const key = input.idempotencyKey ?? null;
    const issues = new IssueCollector();
    if (key !== null && (key.trim() === '' || key.length > 200)) issues.add('input.idempotencyKey', 'must be 1–200 characters');
    issues.throwIfAny();
    if (key !== null) {
      // The same request sent again (a retry after a timeout) gets the job it created.
      const existing = await this.repo.byIdempotencyKey(key);
      if (existing) return existing;
    }
    const kind = input.modelKind;
    if (!isModelKind(kind)) throw ValidationError.of('input.modelKind', `must be one of ${MODEL_KINDS.join(', ')}`);
    const base = await this.resolveBase(kind, input, issues);
    const now = new Date();
    const from = input.dataWindow?.from ?? null;
    const to = input.dataWindow?.to ?? now;
    if (from && Number.isNaN(from.getTime())) issues.add('input.dataWindow.from', 'is not a valid date');
    if (Number.isNaN(to.getTime())) issues.add('input.dataWindow.to', 'is not a valid date');
    else if (from && from >= to) issues.add('input.dataWindow', 'from must be before to');
    else if (from && from > now) issues.add('input.dataWindow.from', 'is in the future: the window would hold no data');
    const seed = input.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) issues.add('input.seed', `must be an integer in [0, ${MAX_SEED}]`);
    const hyperparameters = input.hyperparameters ?? {};
    const specs = loadHyperparameterSpecs(this.opts.jobs.trainerDir);
    const baseHyper = base ? ((base.manifest.hyperparameters ?? null) as Record<string, unknown> | null) : null;
    for (const issue of validateHyperparameters(specs, kind, hyperparameters, 'input.hyperparameters', baseHyper)) issues.add(issue.path, issue.message);
    issues.throwIfAny();
    // What the trainer would refuse minutes later is refused here, before anything is queued.
    const rows = await this.repo.trainingRows(kind, from, to, TRAINER_MIN_ROWS[kind]);
    if (rows < TRAINER_MIN_ROWS[kind]) {
      issues.add('input.dataWindow', `holds ${rows} ${TRAINING_SOURCE[kind]}; the ${kind} trainer needs at least ${TRAINER_MIN_ROWS[kind]}`);
    }
    issues.throwIfAny();
    if (this.opts.jobs.workerEnabled && !fs.existsSync(this.opts.jobs.trainerPython)) {
      // A job here would be retried and dead-lettered with "spawn … ENOENT"; say what to do instead.
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The trainer environment is not installed on this server: run npm run setup:trainer');
    }

    const { job, created } = await this.repo.insert({
      kind,
      baseVersionId: base?.id ?? null,
      dataFrom: from,
      dataTo: to,
      hyperparameters,
      seed,
      autoPromote: input.autoPromote ?? false,
      idempotencyKey: key,
      createdBy,
      maxAttempts: this.opts.jobs.maxAttempts,
    });
    if (created) {
      this.logger.info({ jobId: job.id, kind, baseVersionId: job.baseVersionId, autoPromote: job.autoPromote }, 'training job queued');
      this.events.enqueued();
    }
    return job;
  }

  /** The base version, checked: same kind, and with the checkpoint fine-tuning starts from. */
  private async resolveBase(kind: ModelKind, input: StartFineTuning, issues: IssueCollector): Promise<ModelVersionRecord | null> {
    if (input.fromScratch) {
      if (input.baseVersionId) issues.add('input.baseVersionId', 'must be empty when fromScratch is true');
      return null;
    }
    let base: ModelVersionRecord | null;
    if (input.baseVersionId) {
      base = await this.versions.versionById(input.baseVersionId);
      if (!base) {
        issues.add('input.baseVersionId', `model version ${input.baseVersionId} does not exist`);
        return null;
      }
      if (base.kind !== kind) {
        issues.add('input.baseVersionId', `is a ${base.kind} model, not ${kind}`);
        return null;
      }
    } else {
      base = await this.versions.activeVersion(kind);
      if (!base) return null; // nothing to fine-tune from: the trainer starts from scratch
    }
    const files = (base.manifest.files ?? {}) as Record<string, { file?: unknown }>;
    const checkpoint = typeof files.checkpoint?.file === 'string' ? files.checkpoint.file : 'checkpoint.pt';
    if (!(await this.versions.artifactFiles(base)).includes(checkpoint)) {
      issues.add('input.baseVersionId', `version ${base.version} has no ${checkpoint} to fine-tune from (use fromScratch)`);
    }
    return base;
  }

  /**
   * Cancels a queued job at once; a running one is stopped by its worker (the trainer within
   * seconds). Cancelling a cancelled job returns it; a finished one is a conflict.
   */
  async cancel(id: string): Promise<TrainingJobRecord> {
    const before = await this.repo.byId(id);
    if (!before) throw new NotFoundError('Training job', id);
    if (before.status === 'succeeded' || before.status === 'failed') {
      throw new DomainError(ErrorCode.CONFLICT, `Training job ${id} already ${before.status}`);
    }
    const job = (await this.repo.requestCancel(id)) ?? before;
    this.events.cancelRequested(id);
    this.events.changed(id);
    this.logger.info({ jobId: id, status: job.status }, 'training job cancel requested');
    return job;
  }

  get(id: string): Promise<TrainingJobRecord | null> {
    return this.repo.byId(id);
  }

  async list(filter: { statuses?: readonly string[] | null; kind?: string | null }, first?: number | null, after?: string | null): Promise<Page<TrainingJobRecord>> {
    const issues = new IssueCollector();
    const statuses = filter.statuses ?? null;
    if (statuses?.some((s) => !(JOB_STATUSES as readonly string[]).includes(s))) issues.add('filter.status', `must be among ${JOB_STATUSES.join(', ')}`);
    if (filter.kind && !isModelKind(filter.kind)) issues.add('filter.modelKind', `must be one of ${MODEL_KINDS.join(', ')}`);
    issues.throwIfAny();
    const f: JobFilter = { statuses: statuses as JobStatus[] | null, kind: (filter.kind ?? null) as ModelKind | null };
    return this.repo.list(f, pageSize(first), after ?? null);
  }

  counts(): ReturnType<TrainingJobRepository['countByStatus']> {
    return this.repo.countByStatus();
  }

  /**
   * The job now, then every change until it ends (subscriptions). Changes made in this process
   * arrive at once; changes made by a worker elsewhere within `watchPollMs`. All watchers of a job
   * share one read per change or poll, and return() on the iterator ends the watch at once.
   */
  async watch(id: string): Promise<AsyncIterableIterator<TrainingJobRecord, undefined>> {
    const first = await this.repo.byId(id);
    if (!first) throw new NotFoundError('Training job', id);
    const { repo } = this;
    // Through `repo` on each read (not a bound method), so a spy on repo.byId sees the polls.
    return this.events.follow(id, first, { load: () => repo.byId(id), pollMs: this.opts.watchPollMs ?? 1000 });
  }
}
