/**
 * In-process notifications between the job service, the worker and subscriptions: a job changed,
 * a job was queued, a cancel was asked for. They only make things faster — every consumer also
 * polls the database, which is the truth when the worker runs in another process.
 */
import { EventEmitter } from 'node:events';

export class JobEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open subscription: no fixed bound makes sense.
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

  /** Resolves when `jobId` changes or after `timeoutMs`, whichever comes first. */
  nextChange(jobId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(`job:${jobId}`, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once(`job:${jobId}`, done);
    });
  }
}
