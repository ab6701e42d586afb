/**
 * In-process notifications between the job service, the worker and subscriptions: a job changed,
 * a job was queued, a cancel was asked for. They only make things faster — every consumer also
 * polls the database, which is the truth when the worker runs in another process.
 *
 * Subscriptions watch a job through `follow`: every watcher of one job shares ONE poll loop (one
 * read per change event or per `pollMs`, however many watch), and each watcher is an iterator
 * whose return() ends it at once — it never waits for the job's next change — and whose last
 * departure stops the shared loop, so an ended subscription reads nothing more.
 */
import { EventEmitter } from 'node:events';
import { isTerminal, type TrainingJobRecord } from './training-job';

type Job = TrainingJobRecord;
type Done = IteratorReturnResult<undefined>;
const DONE: Done = { done: true, value: undefined };

/** What a feed does: read the job (null once it is gone), on each change or every `pollMs`. */
export interface FeedSource {
  readonly load: () => Promise<Job | null>;
  readonly pollMs: number;
}

/**
 * One subscriber's view: the newest unseen state of the job (intermediate states a slow reader
 * missed are skipped, as a poll would skip them), until the job ends, disappears or the feed fails.
 */
class JobWatcher implements AsyncIterableIterator<Job, undefined> {
  private latest: Job;
  private pending: Job | null;
  private ended: boolean;
  private failure: { error: unknown } | null = null;
  private finished = false;
  private wake: (() => void) | null = null;

  constructor(
    first: Job,
    private readonly leave: (w: JobWatcher) => void,
  ) {
    this.latest = first;
    this.pending = first;
    this.ended = isTerminal(first.status);
  }

  /** The job as just read (null: deleted). Unchanged states are not repeated. */
  offer(job: Job | null): void {
    if (job === null) this.ended = true;
    else if (job.updatedAt.getTime() !== this.latest.updatedAt.getTime() || job.status !== this.latest.status) {
      this.latest = this.pending = job;
      this.ended = isTerminal(job.status);
    }
    this.wake?.();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.wake?.();
  }

  async next(): Promise<IteratorResult<Job, undefined>> {
    while (!this.finished) {
      if (this.pending) {
        const job = this.pending;
        this.pending = null;
        return { done: false, value: job };
      }
      if (this.failure) {
        this.finish();
        throw this.failure.error;
      }
      if (this.ended) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    this.finish();
    return DONE;
  }

  /** Ends the watch now: a pending next() resolves done, and the feed forgets this watcher. */
  return(): Promise<Done> {
    this.finish();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<Done> {
    this.finish();
    // AsyncIterator#throw rejects with the caller's own value, whatever it is.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.pending = null;
    this.leave(this);
    this.wake?.();
  }
}

/** The watchers of one job and the switch that stops their shared poll. */
interface Feed {
  readonly watchers: Set<JobWatcher>;
  readonly stop: AbortController;
}

export class JobEvents {
  private readonly emitter = new EventEmitter();
  private readonly feeds = new Map<string, Feed>();

  constructor() {
    // One listener per watched job and per waiting worker: no fixed bound makes sense.
    this.emitter.setMaxListeners(0);
  }

  changed(jobId: string): void {
    this.emitter.emit(`job:${jobId}`);
  }

  enqueued(): void {
    this.emitter.emit('enqueued');
  }

  cancelRequested(jobId: string): void {
    this.emitter.emit('cancel', jobId);
  }

  onEnqueued(listener: () => void): () => void {
    this.emitter.on('enqueued', listener);
    return () => this.emitter.off('enqueued', listener);
  }

  onCancel(listener: (jobId: string) => void): () => void {
    this.emitter.on('cancel', listener);
    return () => this.emitter.off('cancel', listener);
  }

  /** Resolves when `jobId` changes, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  nextChange(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(`job:${jobId}`, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once(`job:${jobId}`, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * `first` (the job as the caller just read it), then each change until the job ends. Joins the
   * job's shared poll, or starts it with `source`.
   */
  follow(jobId: string, first: Job, source: FeedSource): AsyncIterableIterator<Job, undefined> {
    const watcher = new JobWatcher(first, (w) => this.unfollow(jobId, w));
    if (isTerminal(first.status)) return watcher; // nothing more will come: no poll needed
    let feed = this.feeds.get(jobId);
    if (!feed) {
      feed = { watchers: new Set(), stop: new AbortController() };
      this.feeds.set(jobId, feed);
      void this.poll(jobId, feed, source);
    }
    feed.watchers.add(watcher);
    return watcher;
  }

  /** Jobs with a poll running (for tests and metrics). */
  get watchedJobs(): number {
    return this.feeds.size;
  }

  private unfollow(jobId: string, watcher: JobWatcher): void {
    const feed = this.feeds.get(jobId);
    if (!feed?.watchers.delete(watcher) || feed.watchers.size > 0) return;
    this.endFeed(jobId, feed);
  }

  private endFeed(jobId: string, feed: Feed): void {
    if (this.feeds.get(jobId) === feed) this.feeds.delete(jobId);
    feed.stop.abort();
  }

  private async poll(jobId: string, feed: Feed, source: FeedSource): Promise<void> {
    const { signal } = feed.stop;
    while (!signal.aborted) {
      await this.nextChange(jobId, source.pollMs, signal);
      if (signal.aborted) return;
      let job: Job | null;
      try {
        job = await source.load();
      } catch (err) {
        for (const w of feed.watchers) w.fail(err);
        return this.endFeed(jobId, feed);
      }
      for (const w of feed.watchers) w.offer(job);
      if (!job || isTerminal(job.status)) return this.endFeed(jobId, feed);
    }
  }
}
