/**
 * A first-in, first-out limit on how many of one kind of heavy operation run at once in this
 * process. Analytics answers take seconds of database CPU and hundreds of milliseconds of the
 * event loop each; six at once on two cores made every other request wait behind them (normal
 * query p99 510 ms in bench/soak.ts). Past the limit, callers queue; one that would wait longer
 * than `maxWaitMs` is refused with SERVICE_UNAVAILABLE instead of piling up.
 */
import { DomainError, ErrorCode } from './errors';

export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: { admit: () => void }[] = [];

  constructor(
    /** Operations running at once. */
    readonly limit: number,
    /** Longest a caller waits for its turn, ms. */
    readonly maxWaitMs: number,
    /** Names the work in the refusal, e.g. "analytics". */
    private readonly what: string,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await this.turn();
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next caller, so `running` stays counted.
      if (next) next.admit();
      else this.running--;
    }
  }

  private turn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        admit: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `The server is busy with other ${this.what} (${this.limit} at a time, ${this.waiting.length} waiting); retry in a few seconds`));
      }, this.maxWaitMs);
      timer.unref();
      this.waiting.push(entry);
    });
  }
}
