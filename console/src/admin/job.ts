/** A fine-tuning job as the console reads it, the words for where it is, and metric differences as text (pure). */

export interface Comparison {
  metric?: string; candidate?: number | null; active?: number | null; activeVersion?: string | null; activeError?: string | null;
  delta?: number | null; margin?: number; beats?: boolean; promoted?: boolean; decision?: string;
}

export interface Job {
  id: string; modelKind: string; status: string; progress: number; epoch: number | null; step: number | null; totalSteps: number | null;
  loss: number | null; etaSeconds: number | null; error: string | null; cancelRequested: boolean; attempts: number; maxAttempts: number;
  createdAt: string; startedAt: string | null; finishedAt: string | null; dataFrom: string | null; dataTo: string;
  autoPromote: boolean; comparison: Comparison | null; resultVersion: { version: string; status: string } | null;
  /** Only in the live view (the subscription): the list does not load them. */
  hyperparameters?: Record<string, unknown>; logTail?: string; metrics?: Record<string, unknown>;
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * The main metric per kind, as the evaluation gate compares versions (src/jobs/promotion-gate.ts
 * PRIMARY_METRIC): all higher-is-better.
 */
export const MAIN_METRIC: Readonly<Record<string, string>> = {
  NEXT_ITEM: 'ndcg@10',
  BEHAVIOR: 'next_purchase_auc',
  SENTIMENT: 'macro_f1',
  INTENT: 'accuracy',
};

/**
 * The trainer's own phases inside TRAINING, from the progress the server gives them
 * (src/jobs/progress-writer.ts PROGRESS: trainerEvaluating 0.86, trainerExporting 0.88, then the
 * job's EVALUATING stage at 0.90).
 */
const TRAINER_EVALUATING = 0.86;
const TRAINER_EXPORTING = 0.88;

export function percent(j: Job): number {
  return Math.round(j.progress * 100);
}

/** "training 42%": the same words in the table and on the bar. */
export function progressLabel(j: Job): string {
  return TERMINAL.has(j.status) ? j.status.toLowerCase() : `${j.status.toLowerCase()} ${percent(j)}%`;
}

function num(n: number, digits: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** What the job is doing now, in a sentence. */
export function stageDetail(j: Job): string {
  if (j.cancelRequested && !TERMINAL.has(j.status)) return 'Cancelling: the worker stops the trainer at its next check.';
  switch (j.status) {
    case 'QUEUED':
      return j.attempts > 0
        ? `Queued again for attempt ${j.attempts + 1} of ${j.maxAttempts}${j.error ? ` after: ${j.error}` : ''}.`
        : 'Queued: waiting for a worker to pick it up.';
    case 'EXPORTING':
      return 'Exporting: writing the data window to a snapshot for the trainer.';
    case 'TRAINING': {
      if (j.progress >= TRAINER_EXPORTING) return 'Training done; the trainer is exporting the new model to ONNX.';
      if (j.progress >= TRAINER_EVALUATING) return 'Training done; the trainer is scoring the new model on the held-out test data.';
      if (j.step === null) return 'Training: starting the trainer and loading the base model.';
      const parts = [
        j.epoch !== null ? `epoch ${j.epoch}` : null,
        `step ${j.step}${j.totalSteps ? ` of ${j.totalSteps}` : ''}`,
        j.loss !== null ? `loss ${num(j.loss, 4)}` : null,
        j.etaSeconds !== null ? `about ${Math.max(0, Math.round(j.etaSeconds))} s left` : null,
      ].filter(Boolean);
      return `Training: ${parts.join(', ')}.`;
    }
    case 'EVALUATING':
      return 'Evaluating: scoring the serving version on the same held-out data, to compare.';
    case 'REGISTERING':
      return 'Registering: verifying the model and storing it as a new version.';
    case 'SUCCEEDED': {
      const v = j.resultVersion;
      const decision = j.comparison?.decision;
      return `Succeeded${v ? `: version ${v.version} (${v.status.toLowerCase()})` : ''}.${decision ? ` ${decision}.` : ''}`;
    }
    case 'FAILED':
      return `Failed${j.attempts > 1 ? ` after ${j.attempts} attempts` : ''}: ${j.error ?? 'no reason recorded'}.`;
    case 'CANCELLED':
      return 'Cancelled.';
    default:
      return j.status.toLowerCase();
  }
}

/** "2025-03-01 14:02 UTC", or – */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–';
}

/** "3 min 12 s" between two times (to now when `to` is null). */
export function duration(from: string | null, to: string | null): string {
  if (!from) return '–';
  const s = Math.max(0, Math.round(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** "+0.0123 ▲" / "−0.0050 ▼" / "±0": never by colour alone. */
export function signed(d: number | null): string {
  if (d === null || !Number.isFinite(d)) return '–';
  if (Math.abs(d) < 5e-5) return '±0.0000';
  return d > 0 ? `+${d.toFixed(4)} ▲` : `−${Math.abs(d).toFixed(4)} ▼`;
}

export function deltaClass(d: number | null): string {
  if (d === null || !Number.isFinite(d) || Math.abs(d) < 5e-5) return 'delta';
  return d > 0 ? 'delta up' : 'delta down';
}
