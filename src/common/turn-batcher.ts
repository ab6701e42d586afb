/**
 * Requests made in the same event-loop turn, answered by one load: also across GraphQL requests
 * (a DataLoader batches within one request only). Under load the HTTP parser hands over several
 * requests per turn, and one statement instead of one per request saves the per-statement cost (a
 * socket write and a round trip, the largest part of a serving request's CPU). When the server is
 * idle a request waits for nothing but the end of the current turn (setImmediate). Nothing is
 * cached: every request is answered by a load that starts after it was made.
 */
interface Pending<Q, R> {
  readonly request: Q;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export class TurnBatcher<Q, R> {
  private queue: Pending<Q, R>[] = [];

  /** `load` answers every request of a turn, in the order given; its failure fails them all. */
  constructor(private readonly load: (requests: readonly Q[]) => Promise<R[]>) {}

  submit(request: Q): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const answers = await this.load(batch.map((p) => p.request));
      batch.forEach((p, i) => p.resolve(answers[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
