/**
 * A fine-tuning job as the rest of the code sees it: its lifecycle states, what an admin asked
 * for, and its live state and outcome. Persisted by training-job.repository.ts.
 *
 *   queued → exporting → training → evaluating → registering → succeeded
 *      ↑          └──────────┴───────────┴─────────────┴──→ failed | cancelled
 *      └── retry (worker died, trainer crashed) with backoff, until max attempts (then failed, deadLettered)
 */
import type { ModelKind } from '../inference/model-kind';
import type { ModelVersionRecord } from '../inference/model-version.repository';

export const JOB_STATUSES = [
  'queued', 'exporting', 'training', 'evaluating', 'registering', 'succeeded', 'failed', 'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States in which a worker holds the job (lease + heartbeat). */
export const RUNNING_STATUSES = ['exporting', 'training', 'evaluating', 'registering'] as const satisfies readonly JobStatus[];
export type RunningStatus = (typeof RUNNING_STATUSES)[number];

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

export function isTerminal(status: JobStatus): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export function isRunning(status: JobStatus): status is RunningStatus {
  return (RUNNING_STATUSES as readonly string[]).includes(status);
}

/** The active version's result on the same held-out data, and the promotion decision. */
export interface Comparison {
  /** The kind's primary metric (promotion-gate.ts). */
  readonly metric: string;
  readonly candidate: number | null;
  /** null when no version was active (or it could not be evaluated: see activeError). */
  readonly active: number | null;
  readonly activeVersionId: string | null;
  readonly activeVersion: string | null;
  readonly activeMetrics: Record<string, unknown> | null;
  readonly activeError: string | null;
  /** candidate − active. */
  readonly delta: number | null;
  readonly margin: number;
  /** The candidate beats the active version by at least the margin (or nothing was active). */
  readonly beats: boolean;
  /** Filled in at registration: whether autoPromote swapped the candidate in, and why (not). */
  readonly promoted?: boolean;
  readonly decision?: string;
}

export interface TrainingJobRecord {
  readonly id: string;
  readonly kind: ModelKind;
  readonly status: JobStatus;
  readonly baseVersionId: string | null;
  readonly dataFrom: Date | null;
  readonly dataTo: Date;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly autoPromote: boolean;
  readonly idempotencyKey: string | null;
  readonly createdBy: string | null;
  readonly progress: number;
  readonly epoch: number | null;
  readonly step: number | null;
  readonly totalSteps: number | null;
  readonly loss: number | null;
  readonly etaSeconds: number | null;
  readonly metrics: Record<string, unknown>;
  readonly logTail: string;
  readonly error: string | null;
  readonly comparison: Comparison | null;
  readonly resultVersionId: string | null;
  /** The registered version, joined in (no extra query per job). */
  readonly resultVersion: ModelVersionRecord | null;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly deadLettered: boolean;
  readonly cancelRequested: boolean;
  readonly runAfter: Date;
  readonly lease: string | null;
  readonly workerId: string | null;
  readonly heartbeatAt: Date | null;
  readonly runnerRef: string | null;
  readonly runnerHost: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly updatedAt: Date;
}

/** What startFineTuning records; validated by TrainingJobService before anything is queued. */
export interface NewTrainingJob {
  readonly kind: ModelKind;
  readonly baseVersionId: string | null;
  readonly dataFrom: Date | null;
  readonly dataTo: Date;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly autoPromote: boolean;
  readonly idempotencyKey: string | null;
  readonly createdBy: string | null;
  readonly maxAttempts: number;
}

/** Live progress of an attempt, written (throttled) while the trainer runs. */
export interface ProgressUpdate {
  readonly progress: number;
  readonly epoch?: number | null;
  readonly step?: number | null;
  readonly totalSteps?: number | null;
  readonly loss?: number | null;
  readonly etaSeconds?: number | null;
  readonly metrics?: Record<string, unknown>;
  readonly logTail?: string;
}
