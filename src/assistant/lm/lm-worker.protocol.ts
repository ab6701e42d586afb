/** Messages between lm-decoder.ts (the server's thread) and lm-worker.ts (a decoding thread). */
import type { PromptSegment } from './bpe-tokenizer';
import type { LmShape } from './lm-manifest';

export type FinishReason = 'stop' | 'length' | 'timeout' | 'cancelled' | 'error';

export interface WorkerInit {
  readonly modelPath: string;
  readonly tokenizerPath: string;
  readonly inputs: readonly string[];
  readonly lm: LmShape;
  /** Stop strings of the prompt format; requests add their own. */
  readonly stop: readonly string[];
  /** ORT intra-op threads. */
  readonly threads: number;
}

export interface GenerateRequest {
  readonly op: 'generate';
  readonly id: number;
  readonly prompt: readonly PromptSegment[];
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly stop: readonly string[];
  /** Date.now() after which the loop ends with 'timeout'. */
  readonly deadline: number;
  /** Send the last step's logits with the result (parity checks). */
  readonly traceLogits: boolean;
}

export type ToWorker = GenerateRequest | { readonly op: 'cancel'; readonly id: number };

export type FromWorker =
  | { readonly op: 'ready' }
  | { readonly op: 'init-error'; readonly message: string }
  | { readonly op: 'chunk'; readonly id: number; readonly text: string; readonly tokenId: number }
  | {
      readonly op: 'done';
      readonly id: number;
      readonly reason: FinishReason;
      readonly promptTokens: number;
      readonly generatedTokens: number;
      readonly error?: string;
      readonly lastLogits?: Float32Array;
    };
