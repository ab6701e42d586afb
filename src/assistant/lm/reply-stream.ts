/** The stream a generation returns: chunks as they arrive, then a result with the finish reason. */
import type { FinishReason } from './lm-worker.protocol';

export interface ReplyChunk {
  /** Text this token completed (may be '' while a character or a possible stop string is incomplete). */
  readonly text: string;
  /** The generated token, or -1 for text flushed at the end that earlier tokens held back. */
  readonly tokenId: number;
}

export interface ReplyResult {
  readonly reason: FinishReason;
  /** The whole reply (all chunks' text). */
  readonly text: string;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** The sampling seed used (pass it back to reproduce a sampled reply). */
  readonly seed: number;
  readonly ms: number;
  /** Why it ended with 'error'. */
  readonly error?: string;
}

export interface ReplyGeneration extends AsyncIterable<ReplyChunk> {
  /** Resolves when the generation ends, however it ends; never rejects. */
  readonly result: Promise<ReplyResult>;
  /** Ends the generation with reason 'cancelled' (no-op once ended). Leaving a for-await loop early does the same. */
  cancel(): void;
}

export class ReplyStream implements ReplyGeneration {
  readonly result: Promise<ReplyResult>;
  private resolve!: (r: ReplyResult) => void;
  private readonly chunks: ReplyChunk[] = [];
  private wake: (() => void) | null = null;
  private text = '';
  private ended = false;
  private readonly started = Date.now();
  promptTokens = 0;
  generatedTokens = 0;

  constructor(
    readonly seed: number,
    private readonly onCancel: (s: ReplyStream) => void,
  ) {
    this.result = new Promise((resolve) => (this.resolve = resolve));
  }

  get open(): boolean {
    return !this.ended;
  }

  push(chunk: ReplyChunk): void {
    if (this.ended) return;
    this.text += chunk.text;
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(reason: FinishReason, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.resolve({
      reason,
      text: this.text,
      promptTokens: this.promptTokens,
      generatedTokens: this.generatedTokens,
      seed: this.seed,
      ms: Date.now() - this.started,
      ...(error !== undefined ? { error } : {}),
    });
    this.wake?.();
  }

  cancel(): void {
    if (this.ended) return;
    this.end('cancelled');
    this.onCancel(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReplyChunk> {
    try {
      for (;;) {
        const next = this.chunks.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    } finally {
      this.cancel(); // a consumer that stops reading ends the generation
    }
  }
}
