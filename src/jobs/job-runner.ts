/**
 * Where a trainer command runs. The pipeline (training-pipeline.ts) only talks to this interface:
 * the local runner (local-process.runner.ts) starts a process on this machine; a Ray job or a
 * Kubernetes Job runner would submit the same command elsewhere (docs/jobs.md "Runners").
 *
 * Contract for every runner:
 * - inputs: a snapshot directory, an optional base artifact, a JSON config and a seed;
 * - outputs: `train` leaves a complete artifact directory (model.onnx + manifest.json + the kind's
 *   files) at `out`, or nothing; `evaluate` only reports metrics;
 * - progress: the trainer's JSON lines, delivered in order to `onEvent`;
 * - stopping: when `signal` aborts, the run (the whole process tree) is stopped within 5 s and
 *   `run` resolves.
 */
import type { ModelKind } from '../inference/model-kind';
import type { TrainerEvent } from './trainer-output';

export type TrainerTask =
  | {
      readonly command: 'train';
      readonly kind: ModelKind;
      /** Snapshot directory (trainer/README.md "Snapshot format"). */
      readonly data: string;
      /** The artifact directory to create; it must not exist yet. */
      readonly out: string;
      /** Artifact to fine-tune from; null trains from scratch. */
      readonly base: string | null;
      readonly config: Readonly<Record<string, unknown>>;
      readonly seed: number;
    }
  | {
      readonly command: 'evaluate';
      readonly kind: ModelKind;
      readonly data: string;
      /** The artifact to score. */
      readonly model: string;
      readonly config: Readonly<Record<string, unknown>>;
      readonly seed: number;
    };

export interface RunHooks {
  /** Each protocol line of the trainer, in order. */
  onEvent?(event: TrainerEvent): void;
  /** The run started; `ref` is the runner's handle on it (a process group id, a submission id), on `host`. */
  onStart?(info: { readonly ref: string | null; readonly host: string }): void;
  /** New stderr output (for a live log tail). */
  onLog?(tail: string): void;
}

export interface RunResult {
  /** 0 = done; 2 = bad input; 1 = unexpected error; 143 = stopped by SIGTERM (trainer/README.md). */
  readonly exitCode: number | null;
  /** The signal that ended the process, when one did. */
  readonly signal: string | null;
  /** The `done` line, when the trainer printed one. */
  readonly done: Extract<TrainerEvent, { event: 'done' }> | null;
  /** The `error` line's message, when the trainer printed one. */
  readonly errorMessage: string | null;
  /** The last lines of stderr. */
  readonly stderrTail: string;
}

export interface JobRunner {
  /** Shown in logs, e.g. "local". */
  readonly name: string;
  /** `workDir` is where the runner may keep logs for this run. */
  run(task: TrainerTask, workDir: string, hooks: RunHooks, signal: AbortSignal): Promise<RunResult>;
  /** Stops a run a dead worker left behind (best effort; ref and host come from the job row; a runner ignores what is not its own). */
  stopOrphan?(ref: string, host: string, marker: string): boolean;
}

/** Why an attempt was aborted: the pipeline's outcome depends on it. */
export type AbortReason = 'cancel' | 'timeout' | 'lease-lost' | 'shutdown';

export class AttemptAborted extends Error {
  constructor(readonly reason: AbortReason) {
    super(`attempt aborted: ${reason}`);
    this.name = 'AttemptAborted';
  }
}
