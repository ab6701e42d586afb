/**
 * Merges concurrent requests for one model version into one session.run and splits the results
 * back. A batch closes when `windowMs` has passed since its first request or when it holds
 * `maxBatch` rows; while a run is in flight the next batch keeps filling, and it is sent as soon
 * as the run returns (one run per session at a time: the session lives on one worker thread).
 */
import type { ModelMetrics } from './inference.metrics';
import { batchRows, concatBatch, type Feeds, splitBatch } from './tensor';

export interface BatcherOptions {
  /** How long the first request of a batch waits for company, ms. */
  readonly windowMs: number;
  /** Rows per run; a single larger request still runs whole. */
  readonly maxBatch: number;
}

interface Pending {
  readonly feeds: Feeds;
  readonly rows: number;
  readonly started: number;
  readonly resolve: (out: Feeds) => void;
  readonly reject: (err: unknown) => void;
}

export type BatchRunner = (feeds: Feeds) => Promise<{ outputs: Feeds; runMs: number }>;

export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: BatchRunner,
    private readonly opts: BatcherOptions,
    private readonly metrics: ModelMetrics,
  ) {}

  /** Rows queued or running. */
  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  submit(feeds: Feeds): Promise<Feeds> {
    const rows = batchRows(feeds);
    this.metrics.requests++;
    return new Promise<Feeds>((resolve, reject) => {
      this.queue.push({ feeds, rows, started: performance.now(), resolve, reject });
      this.queuedRows += rows;
      this.metrics.setQueueDepth(this.queuedRows);
      if (this.running) return; // flushed when the current run returns
      if (this.queuedRows >= this.opts.maxBatch) this.flush();
      else this.arm(Math.max(0, this.opts.windowMs));
    });
  }

  /** Resolves once nothing is queued or running (used before releasing a retired session). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.queue.length === 0) return;
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.rows <= this.opts.maxBatch)) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.rows;
    }
    this.queuedRows -= rows;
    this.metrics.setQueueDepth(this.queuedRows);
    this.running = true;
    void this.execute(batch, rows).finally(() => {
      this.running = false;
      if (this.queue.length > 0) this.flush();
      else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        waiters.forEach((w) => w());
      }
    });
  }

  private async execute(batch: Pending[], rows: number): Promise<void> {
    let parts: Feeds[];
    try {
      const merged = concatBatch(batch.map((p) => p.feeds));
      const { outputs, runMs } = await this.run(merged);
      this.metrics.batches++;
      this.metrics.batchSize.observe(rows);
      this.metrics.runMs.observe(runMs);
      parts = splitBatch(outputs, batch.map((p) => p.rows));
    } catch (err) {
      this.metrics.errors += batch.length;
      batch.forEach((p) => p.reject(err));
      return;
    }
    const now = performance.now();
    batch.forEach((p, i) => {
      this.metrics.latencyMs.observe(now - p.started);
      p.resolve(parts[i]!);
    });
  }
}
