/**
 * One model version in memory: its manifest and assets, its ONNX session (in a worker), its
 * micro-batcher and metrics. Callers hold a lease while they build features and run it, so a
 * hot swap can retire it safely: the session is released only after the last lease returns and
 * the last queued batch has run.
 */
import { ModelUnavailableError } from './inference.errors';
import { ModelMetrics } from './inference.metrics';
import { type BatcherOptions, MicroBatcher } from './micro-batcher';
import type { AssetsOf, ManifestOf, ModelKind } from './model-kind';
import type { ModelVersionRecord } from './model-version.repository';
import type { Feeds } from './tensor';
import type { WorkerPool } from './worker-pool';

/** A loaded version of kind K: its manifest and assets are typed by the kind's domain (ModelTypes). */
export class LoadedModel<K extends ModelKind = ModelKind> {
  readonly metrics: ModelMetrics;
  private readonly batcher: MicroBatcher;
  private leases = 0;
  private retired = false;
  private released: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(
    public record: ModelVersionRecord,
    readonly manifest: ManifestOf<K>,
    readonly assets: AssetsOf<K>,
    readonly artifactDir: string,
    private sessionId: number,
    provider: string,
    private readonly pool: WorkerPool,
    batching: BatcherOptions,
  ) {
    this.metrics = new ModelMetrics(record.kind, record.version, record.id, provider);
    this.batcher = new MicroBatcher((feeds) => this.pool.run(this.sessionId, feeds), batching, this.metrics);
  }

  get version(): string {
    return this.record.version;
  }

  get session(): number {
    return this.sessionId;
  }

  /** After a worker crash the registry reloads the same bytes into a new session. */
  replaceSession(id: number, provider: string): void {
    this.sessionId = id;
    this.metrics.provider = provider;
  }

  /** Runs `feeds` (rows along axis 0) in the next micro-batch. Feeds are transferred: do not reuse them. */
  run(feeds: Feeds): Promise<Feeds> {
    return this.batcher.submit(feeds).catch((err: unknown) => {
      // A failed run is the runtime's fault (worker crash, session gone), never the caller's input:
      // feature builders produce the manifest's shapes. Report it as the model being unavailable.
      throw new ModelUnavailableError(this.record.kind, `inference failed (${err instanceof Error ? err.message : String(err)})`);
    });
  }

  acquire(): void {
    this.leases++;
  }

  release(): void {
    this.leases--;
    if (this.leases === 0 && this.drained) this.drained();
  }

  /** Stops taking new leases' work; resolves when in-flight work is done and the session is released. */
  retire(): Promise<void> {
    if (this.released) return this.released;
    this.retired = true;
    this.released = (async () => {
      if (this.leases > 0) await new Promise<void>((r) => (this.drained = r));
      await this.batcher.idle();
      await this.pool.unload(this.sessionId).catch(() => undefined); // a stopped pool has nothing to release
    })();
    return this.released;
  }

  get isRetired(): boolean {
    return this.retired;
  }

  get activeLeases(): number {
    return this.leases;
  }
}
