/**
 * Throttled, ordered writes of an attempt's live progress to its job row: the trainer can print
 * many lines a second, the row gets at most one write per interval (plus one for every epoch
 * end), and writes never overlap. A write that finds the lease gone reports it once.
 */
import type { Logger } from '../common/logger';
import type { ProgressUpdate } from './training-job';
import type { TrainingJobRepository } from './training-job.repository';

/** Where training sits in the job's 0..1 progress: export before, evaluation and registration after. */
export const PROGRESS = {
  exporting: 0.01,
  trainingStart: 0.05,
  trainingEnd: 0.85,
  trainerEvaluating: 0.86,
  trainerExporting: 0.88,
  evaluating: 0.9,
  registering: 0.95,
} as const;

export class ProgressWriter {
  private pending: ProgressUpdate | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private lastWrite = 0;
  private closed = false;

  constructor(
    private readonly repo: TrainingJobRepository,
    private readonly jobId: string,
    private readonly lease: string,
    private readonly intervalMs: number,
    private readonly onWritten: () => void,
    private readonly onLeaseLost: () => void,
    private readonly logger: Logger,
  ) {}

  /** Merges `u` into the pending write; `urgent` writes now (epoch ends, phase changes). */
  update(u: ProgressUpdate, urgent = false): void {
    if (this.closed) return;
    const prev = this.pending;
    this.pending = prev
      ? { ...prev, ...u, progress: Math.max(prev.progress, u.progress), metrics: { ...prev.metrics, ...u.metrics } }
      : u;
    const wait = urgent ? 0 : Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    if (wait === 0) this.flushSoon();
    else if (!this.timer) this.timer = setTimeout(() => this.flushSoon(), wait);
  }

  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const u = this.pending;
    if (!u) return;
    this.pending = null;
    this.lastWrite = Date.now();
    this.chain = this.chain.then(async () => {
      try {
        if (await this.repo.setProgress(this.jobId, this.lease, u)) this.onWritten();
        else this.onLeaseLost();
      } catch (err) {
        // Progress is best effort: the next write (or the stage change) carries the state.
        this.logger.warn({ err, jobId: this.jobId }, 'progress write failed');
      }
    });
  }

  /** Writes what is pending (before a stage change, so the row never goes backwards). */
  async flush(): Promise<void> {
    this.flushSoon();
    await this.chain;
  }

  /** Writes what is pending and stops accepting updates. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
