/**
 * The model registry: which version of each kind serves, and the only owner of ONNX sessions.
 *
 * - register(kind, dir) verifies an artifact (artifact-verifier.ts) and records it as a candidate;
 * - registerAndPromote(kind, dir, …) does that and, if the caller decides so, activates the same
 *   loaded session (a fine-tuning job: one verification, one ONNX load);
 * - promote(id) loads and verifies the version, activates it in the database, then swaps it in;
 * - rollback(kind) does the same for the version that was active before;
 * - use(kind, fn) lends the serving version to a request for the duration of fn, typed by kind;
 * - versionById / activeVersion / versionBySourceJob / list: the recorded versions, for jobs.
 *
 * The runtime knows model kinds only by name: each domain registers its KindSpec (kind-spec.ts) at
 * the root, and the registry runs it at verification and hands its typed results to `use`.
 *
 * A swap replaces the serving pointer in one synchronous step: requests that already hold a lease
 * finish on the old session, new ones get the new one, and the old session is released when its
 * last lease and batch are done. A refused artifact changes nothing. At start, each kind's active
 * version is loaded; on a fresh database the shipped baseline (model-artifacts/<kind>/) is
 * registered and activated. Every other registered artifact goes into the fleet's model store
 * (model-files.ts), so any process loads any version. Other processes' promotions arrive by
 * announcement (model-change-listener.ts) and a periodic sync.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode, NotFoundError, ValidationError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { InferenceConfig } from '../config/config';
import { memoryMb, type ProcessMemoryMb } from '../observability/process-metrics';
import {
  checkSampleOutputs, checkSessionIo, type ReadArtifact, readArtifact, sampleFeeds, VerificationError,
} from './artifact-verifier';
import type { KindSpec, KindSpecs } from './kind-spec';
import { ModelArtifactError, ModelUnavailableError } from './inference.errors';
import type { ModelMetricsSnapshot } from './inference.metrics';
import { LoadedModel } from './loaded-model';
import type { ModelFiles } from './model-files';
import { isModelKind, MODEL_KINDS, type ModelKind } from './model-kind';
import { type ModelVersionRecord, ModelVersionRepository } from './model-version.repository';
import { type SessionInfo, WorkerPool } from './worker-pool';

export interface RegistryOptions {
  readonly inference: InferenceConfig;
  /** Shipped baselines: <dir>/<kind>/. Relative artifact paths in the database resolve against it. */
  readonly artifactsDir: string;
  /** The fleet's model store and this process's cache of it: every other version's files. */
  readonly files: ModelFiles;
}

export interface RegisterOptions {
  /** The fine-tuning job that produced the artifact; a job registers at most one version. */
  readonly sourceJobId?: string | null;
}

export interface RegisterAndPromoteOptions extends RegisterOptions {
  /** Asked once the version is recorded as a candidate; true activates it (the verified session, not a reload). */
  readonly promoteIf: (candidate: ModelVersionRecord) => Promise<boolean>;
}

export interface InferenceMetricsSnapshot {
  readonly providers: readonly string[];
  readonly sessionsPerWorker: readonly number[];
  /** Event-loop delay of this process since the last reset, ms. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly models: readonly ModelMetricsSnapshot[];
  /** Versions swapped out whose in-flight work is still finishing. */
  readonly retiring: number;
  readonly unavailable: Readonly<Record<string, string>>;
  /**
   * Memory of this process, MB: resident set, V8 heap (used / reserved), and memory outside the
   * V8 heap that JS objects own (external, of which array buffers: model assets, tensors). The
   * rest of the resident set is native: onnxruntime sessions in the workers, allocator pools.
   */
  readonly memoryMb: ProcessMemoryMb;
}

export class ModelRegistry {
  private readonly repo: ModelVersionRepository;
  private readonly pool: WorkerPool;
  private readonly serving = new Map<ModelKind, LoadedModel>();
  private readonly unavailable = new Map<ModelKind, string>();
  private readonly retiring = new Set<LoadedModel>();
  /** register/promote/rollback/sync run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | null = null;
  private syncRequested = false;
  private loopDelay: IntervalHistogram | null = null;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(
    ds: DataSource,
    private readonly opts: RegistryOptions,
    private readonly logger: Logger,
    /** One spec per kind, from the domains (src/services.ts). */
    private readonly kinds: KindSpecs,
  ) {
    this.repo = new ModelVersionRepository(ds);
    this.pool = new WorkerPool(
      {
        size: opts.inference.workers,
        threads: opts.inference.threadsPerSession,
        providers: opts.inference.executionProviders,
        cpuMemArena: opts.inference.cpuMemArena,
      },
      logger,
      (ids) => void this.reloadLostSessions(ids),
    );
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    if (!this.opts.inference.loadAtStart) return;
    await Promise.all(MODEL_KINDS.map((kind) => this.bootKind(kind)));
    if (this.opts.inference.modelSyncMs > 0) {
      this.syncTimer = setInterval(() => {
        this.syncFromDatabase().catch((err: unknown) => this.logger.warn({ err }, 'model sync failed'));
      }, this.opts.inference.modelSyncMs);
      this.syncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.loopDelay?.disable();
    await this.pool.stop();
    await this.queue.catch(() => undefined);
    this.serving.clear();
    this.retiring.clear();
  }

  private async bootKind(kind: ModelKind): Promise<void> {
    try {
      const active = await this.repo.active(kind);
      if (active) {
        try {
          this.install(await this.load(active));
          await this.registerShippedIfNew(kind);
          return;
        } catch (err) {
          if (this.state === 'stopped') return;
          this.logger.error({ kind, version: active.version, err: errMessage(err) }, 'active model version failed to load; falling back to the shipped baseline');
        }
      }
      const dir = path.join(this.opts.artifactsDir, kind);
      if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
        this.unavailable.set(kind, `no active version and no shipped baseline in ${dir}`);
        this.logger.warn({ kind, dir }, 'no model for this kind');
        return;
      }
      const { record, loaded } = await this.verifyAndRecord(kind, dir, null);
      const activated = await this.repo.activate(record.id, 'current');
      loaded.record = activated;
      this.install(loaded);
      this.logger.info({ kind, version: activated.version }, 'shipped baseline activated');
    } catch (err) {
      if (this.state === 'stopped') return;
      this.unavailable.set(kind, errMessage(err));
      this.logger.error({ kind, err: errMessage(err) }, 'model kind unavailable');
    }
  }

  /** A newer shipped baseline becomes a candidate an admin can promote; the active version stays. */
  private async registerShippedIfNew(kind: ModelKind): Promise<void> {
    const manifestPath = path.join(this.opts.artifactsDir, kind, 'manifest.json');
    if (!fs.existsSync(manifestPath)) return;
    try {
      const version = (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { version?: unknown }).version;
      if (typeof version !== 'string' || (await this.repo.find(kind, version))) return;
      await this.recordCandidate(kind, path.dirname(manifestPath), null);
    } catch (err) {
      this.logger.warn({ kind, err: errMessage(err) }, 'shipped baseline not registered');
    }
  }

  // ------------------------------------------------------------------ service interface

  /** Verifies an artifact directory and records it as a candidate. Idempotent per source job and per (kind, version). */
  register(kind: string, artifactDir: string, opts: RegisterOptions = {}): Promise<ModelVersionRecord> {
    return this.serialized(async () => {
      if (!isModelKind(kind)) throw ValidationError.of('kind', `must be one of ${MODEL_KINDS.join(', ')}`);
      return (await this.registeredBy(opts.sourceJobId)) ?? this.recordCandidate(kind, artifactDir, opts.sourceJobId ?? null);
    });
  }

  /** Loads, verifies and activates a version, then hot-swaps it in. On any failure the serving version stays. */
  promote(versionId: string): Promise<ModelVersionRecord> {
    return this.serialized(async () => {
      const record = await this.repo.byId(versionId);
      if (!record) throw new NotFoundError('Model version', versionId);
      return this.activateAndSwap(record, 'current');
    });
  }

  /** Back to the version that was active before the current one. */
  rollback(kind: string): Promise<ModelVersionRecord> {
    return this.serialized(async () => {
      if (!isModelKind(kind)) throw ValidationError.of('kind', `must be one of ${MODEL_KINDS.join(', ')}`);
      const current = await this.repo.active(kind);
      const previous = current?.previousActiveId ? await this.repo.byId(current.previousActiveId) : null;
      if (!previous) throw new DomainError(ErrorCode.CONFLICT, `Model ${kind} has no previous version to roll back to`);
      return this.activateAndSwap(previous, 'keep');
    });
  }

  /** The version this process serves for `kind`, or null. */
  active(kind: ModelKind): ModelVersionRecord | null {
    return this.serving.get(kind)?.record ?? null;
  }

  list(kind: string): Promise<ModelVersionRecord[]> {
    if (!isModelKind(kind)) throw ValidationError.of('kind', `must be one of ${MODEL_KINDS.join(', ')}`);
    return this.repo.list(kind);
  }

  /**
   * Verifies an artifact directory and records it as a candidate, then asks `promoteIf`; on true the
   * version is activated and swapped in with the session verification loaded (no second load).
   * Idempotent per source job: a job's existing version is returned as it is.
   */
  registerAndPromote(kind: ModelKind, artifactDir: string, opts: RegisterAndPromoteOptions): Promise<ModelVersionRecord> {
    return this.serialized(async () => {
      const existing = await this.registeredBy(opts.sourceJobId);
      if (existing) return existing;
      const { record, loaded } = await this.verifyAndRecord(kind, artifactDir, opts.sourceJobId ?? null);
      let promote: boolean;
      try {
        promote = await opts.promoteIf(record);
      } catch (err) {
        await loaded.retire();
        throw err;
      }
      if (!promote || !this.pool.holds(loaded.session)) {
        await loaded.retire();
        // A worker that crashed while the gate decided took the verified session with it: load again.
        return promote ? this.activateAndSwap(record, 'current') : record;
      }
      return this.activateLoaded(loaded, 'current');
    });
  }

  /** Steps 1–3 of verification (files, hashes, opset, the kind's checks): the parsed artifact, nothing recorded or loaded. */
  checkArtifact<K extends ModelKind>(kind: K, dir: string, expectedSha?: string): ReadArtifact<K> {
    return readArtifact(dir, this.spec(kind), expectedSha);
  }

  versionById(id: string): Promise<ModelVersionRecord | null> {
    return this.repo.byId(id);
  }

  /** The version the database says is active (this process may still be swapping it in). */
  activeVersion(kind: ModelKind): Promise<ModelVersionRecord | null> {
    return this.repo.active(kind);
  }

  versionBySourceJob(jobId: string): Promise<ModelVersionRecord | null> {
    return this.repo.bySourceJob(jobId);
  }

  /** A local directory with a recorded version's files (fetched from the model store into this process's cache when needed). */
  artifactDir(record: ModelVersionRecord): Promise<string> {
    return this.opts.files.localDir(record.artifactPath);
  }

  /** The names of a recorded version's files. */
  artifactFiles(record: ModelVersionRecord): Promise<string[]> {
    return this.opts.files.fileNames(record.artifactPath);
  }

  /** The model store, for /readyz: one line, or a thrown error when it cannot be read. */
  describeStore(): Promise<string> {
    return this.opts.files.store.describe();
  }

  /** Lends the serving version of `kind` to `fn`; a swap during fn does not release it under fn. */
  async use<K extends ModelKind, T>(kind: K, fn: (model: LoadedModel<K>) => Promise<T>): Promise<T> {
    // Installed under its kind by install(), so the entry for K is a LoadedModel<K>.
    const model = this.serving.get(kind) as LoadedModel<K> | undefined;
    if (!model) {
      const why = this.state === 'started' ? (this.unavailable.get(kind) ?? 'no model version is loaded') : 'the inference runtime is not running';
      throw new ModelUnavailableError(kind, why);
    }
    model.acquire();
    try {
      return await fn(model);
    } finally {
      model.release();
    }
  }

  /** The kinds this process serves, and why the others are unavailable (for /readyz). */
  health(): { serving: ModelKind[]; unavailable: Readonly<Record<string, string>> } {
    return { serving: [...this.serving.keys()], unavailable: Object.fromEntries(this.unavailable) };
  }

  /** Whether a version of `kind` is serving (cheap; for optional signals such as sentiment in ranking). */
  isServing(kind: ModelKind): boolean {
    return this.serving.has(kind);
  }

  /** A sync soon (an announcement arrived); announcements of one event-loop turn share it. */
  requestSync(): void {
    if (this.syncRequested) return;
    this.syncRequested = true;
    setImmediate(() => {
      this.syncRequested = false;
      this.syncFromDatabase().catch((err: unknown) => this.logger.warn({ err }, 'model sync failed'));
    });
  }

  /** Picks up versions another process activated. */
  syncFromDatabase(): Promise<void> {
    return this.serialized(async () => {
      if (this.state !== 'started') return;
      for (const record of await this.repo.activeAll()) {
        if (this.serving.get(record.kind)?.record.id === record.id) continue;
        try {
          this.install(await this.load(record));
          this.logger.info({ kind: record.kind, version: record.version }, 'model version activated elsewhere; swapped in');
        } catch (err) {
          this.logger.error({ kind: record.kind, version: record.version, err: errMessage(err) }, 'could not load the version activated elsewhere; keeping the current one');
        }
      }
    });
  }

  metrics(opts: { resetEventLoopDelay?: boolean } = {}): InferenceMetricsSnapshot {
    const h = this.loopDelay;
    const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    const snapshot: InferenceMetricsSnapshot = {
      providers: this.pool.effectiveProviders,
      sessionsPerWorker: this.pool.sessionsPerWorker(),
      eventLoopDelayMs: h
        ? { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) }
        : { p50: 0, p99: 0, max: 0, mean: 0 },
      models: [...this.serving.values()].map((m) => m.metrics.snapshot()),
      retiring: this.retiring.size,
      unavailable: Object.fromEntries(this.unavailable),
      memoryMb: memoryMb(),
    };
    if (opts.resetEventLoopDelay) h?.reset();
    return snapshot;
  }

  // ------------------------------------------------------------------ internals

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async activateAndSwap(record: ModelVersionRecord, previous: 'current' | 'keep'): Promise<ModelVersionRecord> {
    if (record.status === 'active' && this.serving.get(record.kind)?.record.id === record.id) return record;
    return this.activateLoaded(await this.load(record), previous);
  }

  private async activateLoaded(loaded: LoadedModel, previous: 'current' | 'keep'): Promise<ModelVersionRecord> {
    const record = loaded.record;
    let activated: ModelVersionRecord;
    try {
      activated = await this.repo.activate(record.id, previous);
    } catch (err) {
      await loaded.retire();
      throw err;
    }
    loaded.record = activated;
    this.install(loaded);
    this.logger.info({ kind: record.kind, version: record.version, id: record.id }, 'model version swapped in');
    // Other servers swap on the announcement; one that misses it catches up by its periodic sync.
    await this.repo.announce(record.kind, record.id).catch((err: unknown) => this.logger.warn({ err: errMessage(err) }, 'model activation not announced'));
    return activated;
  }

  private spec<K extends ModelKind>(kind: K): KindSpec<K> {
    return this.kinds[kind];
  }

  /** The atomic swap: one Map.set; the previous version retires in the background. */
  private install(next: LoadedModel): void {
    const kind = next.record.kind;
    const prev = this.serving.get(kind);
    this.serving.set(kind, next);
    this.unavailable.delete(kind);
    if (prev && prev !== next) {
      this.retiring.add(prev);
      void prev.retire().finally(() => this.retiring.delete(prev));
    }
  }

  /** Verifies a registered version's files (pinned to its recorded sha256) and creates its session. */
  private async load(record: ModelVersionRecord): Promise<LoadedModel> {
    let dir: string;
    try {
      dir = await this.opts.files.localDir(record.artifactPath);
    } catch (err) {
      throw new ModelArtifactError(record.artifactPath, `its files cannot be read: ${errMessage(err)}`);
    }
    const { artifact, session } = await this.verify(record.kind, dir, record.sha256);
    return this.wrap(record, artifact, session);
  }

  private wrap(record: ModelVersionRecord, artifact: ReadArtifact, session: SessionInfo): LoadedModel {
    return new LoadedModel(record, artifact.manifest, artifact.assets, artifact.dir, session.id, session.provider, this.pool, {
      windowMs: this.opts.inference.batchWindowMs,
      maxBatch: this.opts.inference.maxBatchSize,
    });
  }

  /** All five checks; the session stays loaded for the caller (unload it if not serving). */
  private async verify(kind: ModelKind, dir: string, expectedSha?: string): Promise<{ artifact: ReadArtifact; session: SessionInfo }> {
    let artifact: ReadArtifact;
    try {
      artifact = readArtifact(dir, this.spec(kind), expectedSha);
    } catch (err) {
      throw new ModelArtifactError(dir, errMessage(err));
    }
    let session: SessionInfo;
    try {
      session = await this.pool.load(artifact.modelBytes);
    } catch (err) {
      throw new ModelArtifactError(dir, `onnxruntime cannot load ${artifact.manifest.model.file}: ${errMessage(err)}`);
    }
    try {
      checkSessionIo(artifact.manifest, session.inputs, session.outputs);
      const { outputs } = await this.pool.run(session.id, sampleFeeds(artifact.manifest));
      checkSampleOutputs(this.spec(kind), artifact.manifest, outputs);
    } catch (err) {
      await this.pool.unload(session.id).catch(() => undefined);
      const reason = err instanceof VerificationError ? err.message : `sample run failed: ${errMessage(err)}`;
      throw new ModelArtifactError(dir, reason);
    }
    return { artifact, session };
  }

  /** The version a job registered already (a job registers at most one). */
  private async registeredBy(sourceJobId: string | null | undefined): Promise<ModelVersionRecord | null> {
    return sourceJobId ? this.repo.bySourceJob(sourceJobId) : null;
  }

  /** Verifies and records a candidate, then releases the session verification loaded. */
  private async recordCandidate(kind: ModelKind, dir: string, sourceJobId: string | null): Promise<ModelVersionRecord> {
    const { record, loaded } = await this.verifyAndRecord(kind, dir, sourceJobId);
    await loaded.retire();
    return record;
  }

  /**
   * Verifies a candidate, puts its files into the model store (a shipped baseline stays where it
   * is) and records it; its verified session stays loaded for the caller (retire it if not serving).
   * A refused artifact is never stored; a store that fails leaves nothing recorded.
   */
  private async verifyAndRecord(kind: ModelKind, dir: string, sourceJobId: string | null): Promise<{ record: ModelVersionRecord; loaded: LoadedModel }> {
    const { artifact, session } = await this.verify(kind, dir);
    try {
      const kept = await this.opts.files.keep(kind, artifact.manifest.version, artifact.sha256, dir);
      const { record } = await this.repo.insertCandidate({
        kind,
        version: artifact.manifest.version,
        artifactPath: kept.location,
        sha256: artifact.sha256,
        manifest: { ...artifact.manifest.raw },
        metrics: { ...artifact.manifest.metrics },
        sourceJobId,
      });
      if (record.sha256 !== artifact.sha256) {
        throw new ModelArtifactError(dir, `version ${record.version} is already registered with a different model (sha256 ${record.sha256.slice(0, 12)}…)`);
      }
      return { record, loaded: this.wrap(record, { ...artifact, dir: kept.dir }, session) };
    } catch (err) {
      await this.pool.unload(session.id).catch(() => undefined);
      throw err;
    }
  }

  private async reloadLostSessions(ids: number[]): Promise<void> {
    const lost = new Set(ids);
    for (const model of this.serving.values()) {
      if (!lost.has(model.session)) continue;
      try {
        const artifact = readArtifact(model.artifactDir, this.spec(model.record.kind), model.record.sha256);
        const session = await this.pool.load(artifact.modelBytes);
        model.replaceSession(session.id, session.provider);
        this.logger.info({ kind: model.record.kind, version: model.version }, 'model session reloaded after a worker crash');
      } catch (err) {
        this.serving.delete(model.record.kind);
        this.unavailable.set(model.record.kind, `reload after a worker crash failed: ${errMessage(err)}`);
        this.logger.error({ kind: model.record.kind, err: errMessage(err) }, 'model session could not be reloaded');
      }
    }
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
