/** The messages between the worker pool (worker-pool.ts) and an inference worker thread (session-worker.ts). */
import type { TensorData } from './tensor';

export interface ValueMeta {
  readonly name: string;
  readonly type: string | null;
  readonly shape: readonly (number | string)[];
}

export type WorkerRequest =
  | {
      readonly op: 'load';
      readonly req: number;
      readonly session: number;
      readonly bytes: Uint8Array;
      readonly providers: readonly string[];
      readonly threads: number;
      readonly cpuMemArena: boolean;
    }
  | {
      readonly op: 'run';
      readonly req: number;
      readonly session: number;
      readonly feeds: Record<string, TensorData>;
      readonly fetches: readonly string[] | null;
    }
  | { readonly op: 'unload'; readonly req: number; readonly session: number };

export type WorkerReply =
  | {
      readonly op: 'loaded';
      readonly req: number;
      readonly provider: string;
      /** Set when the requested providers failed and the session fell back to CPU. */
      readonly fallbackReason: string | null;
      readonly inputs: ValueMeta[];
      readonly outputs: ValueMeta[];
    }
  | { readonly op: 'result'; readonly req: number; readonly outputs: Record<string, TensorData>; readonly runMs: number }
  | { readonly op: 'unloaded'; readonly req: number }
  | { readonly op: 'error'; readonly req: number; readonly message: string };
