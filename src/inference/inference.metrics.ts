/**
 * Per-model runtime metrics: request latency and batch size histograms, queue depth, counters.
 * Plain numbers in a Prometheus-friendly shape (cumulative buckets), so the /metrics endpoint of
 * the Security issue can publish them without knowing the runtime.
 */

export interface HistogramSnapshot {
  /** Cumulative counts: observations ≤ le. The last bucket is +Inf. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  /** A bounded reservoir of recent observations for percentiles. */
  private readonly recent: number[] = [];
  private next = 0;

  constructor(
    private readonly bounds: readonly number[],
    private readonly reservoir = 2048,
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
    if (this.recent.length < this.reservoir) this.recent.push(v);
    else {
      this.recent[this.next] = v;
      this.next = (this.next + 1) % this.reservoir;
    }
  }

  snapshot(): HistogramSnapshot {
    let acc = 0;
    const buckets = [...this.bounds, Number.POSITIVE_INFINITY].map((le, i) => {
      acc += this.counts[i]!;
      return { le, count: acc };
    });
    const sorted = [...this.recent].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : null);
    return { buckets, sum: this.sum, count: this.count, p50: pct(0.5), p99: pct(0.99) };
  }
}

export const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export interface ModelMetricsSnapshot {
  readonly kind: string;
  readonly version: string;
  readonly versionId: string;
  readonly provider: string;
  readonly requests: number;
  readonly errors: number;
  readonly batches: number;
  /** Rows waiting for the next batch right now. */
  readonly queueDepth: number;
  readonly maxQueueDepth: number;
  /** Time from submit to result, per request. */
  readonly latencyMs: HistogramSnapshot;
  /** Time of session.run in the worker, per batch. */
  readonly runMs: HistogramSnapshot;
  /** Rows per session.run. */
  readonly batchSize: HistogramSnapshot;
}

export class ModelMetrics {
  requests = 0;
  errors = 0;
  batches = 0;
  queueDepth = 0;
  maxQueueDepth = 0;
  readonly latencyMs = new Histogram(LATENCY_BUCKETS_MS);
  readonly runMs = new Histogram(LATENCY_BUCKETS_MS);
  readonly batchSize = new Histogram(BATCH_BUCKETS);

  constructor(
    readonly kind: string,
    readonly version: string,
    readonly versionId: string,
    public provider: string,
  ) {}

  setQueueDepth(n: number): void {
    this.queueDepth = n;
    if (n > this.maxQueueDepth) this.maxQueueDepth = n;
  }

  snapshot(): ModelMetricsSnapshot {
    return {
      kind: this.kind,
      version: this.version,
      versionId: this.versionId,
      provider: this.provider,
      requests: this.requests,
      errors: this.errors,
      batches: this.batches,
      queueDepth: this.queueDepth,
      maxQueueDepth: this.maxQueueDepth,
      latencyMs: this.latencyMs.snapshot(),
      runMs: this.runMs.snapshot(),
      batchSize: this.batchSize.snapshot(),
    };
  }
}
