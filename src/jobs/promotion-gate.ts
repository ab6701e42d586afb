/**
 * The evaluation gate: which metric decides per kind, which trainer settings define the held-out
 * split (so the active version is scored on exactly the candidate's test data), and whether a
 * candidate beats the active version by the configured margin. Pure functions.
 */
import type { ModelKind } from '../inference/model-kind';
import type { Comparison } from './training-job';

/**
 * The primary metric per kind, as the trainer names it in `done.metrics` (all higher-is-better, in [0, 1]):
 * next-item NDCG@10 on the leave-one-out test item; behavior AUC of "next action = purchase";
 * sentiment macro-F1 (classes are imbalanced); intent accuracy (the BANKING77 convention).
 */
export const PRIMARY_METRIC: Readonly<Record<ModelKind, string>> = {
  'next-item': 'ndcg@10',
  behavior: 'next_purchase_auc',
  sentiment: 'macro_f1',
  intent: 'accuracy',
};

/**
 * Hyperparameters that shape the test split or how it is scored (trainer/README.md "How each kind
 * trains and evaluates"). `evaluate` takes them from the artifact's manifest unless overridden, so
 * the candidate's values are passed when scoring the active version.
 */
const EVAL_KEYS: Readonly<Record<ModelKind, readonly string[]>> = {
  'next-item': ['eval_protocol', 'eval_users', 'event_types', 'dedupe_consecutive'],
  behavior: ['test_days', 'val_days', 'session_gap_min', 'cutoff_days', 'max_event_anchors'],
  sentiment: ['val_frac', 'test_frac'],
  intent: ['val_frac', 'test_frac'],
};

/** The evaluation overrides for the active version: the candidate's split settings. */
export function evaluationConfig(kind: ModelKind, candidateHyperparameters: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of EVAL_KEYS[kind]) if (k in candidateHyperparameters) out[k] = candidateHyperparameters[k];
  return out;
}

function metricOf(metrics: Readonly<Record<string, unknown>> | null, name: string): number | null {
  const v = metrics?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export interface ActiveResult {
  readonly versionId: string;
  readonly version: string;
  /** `evaluate` metrics on the candidate's snapshot; null when evaluation failed (see error). */
  readonly metrics: Readonly<Record<string, unknown>> | null;
  readonly error: string | null;
}

/**
 * Compares a candidate with the active version on the kind's primary metric. With nothing active
 * the candidate wins; when the active version could not be scored, or the candidate has no value
 * for the metric, it does not (a model we cannot compare never replaces one that serves).
 */
export function compare(kind: ModelKind, candidateMetrics: Readonly<Record<string, unknown>>, active: ActiveResult | null, margin: number): Comparison {
  const metric = PRIMARY_METRIC[kind];
  const candidate = metricOf(candidateMetrics, metric);
  const activeValue = active ? metricOf(active.metrics, metric) : null;
  const delta = candidate !== null && activeValue !== null ? candidate - activeValue : null;
  // Compared in fixed precision so 0.1 + 0.005 vs 0.105 is not decided by float noise.
  const beats = candidate !== null && (active === null || (delta !== null && Math.round((delta - margin) * 1e9) >= 0));
  return {
    metric,
    candidate,
    active: activeValue,
    activeVersionId: active?.versionId ?? null,
    activeVersion: active?.version ?? null,
    activeMetrics: active?.metrics ? { ...active.metrics } : null,
    activeError: active?.error ?? null,
    delta,
    margin,
    beats,
  };
}

/** The autoPromote decision, with the reason recorded on the job. */
export function promotionDecision(autoPromote: boolean, c: Comparison): { promote: boolean; decision: string } {
  const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  if (!autoPromote) return { promote: false, decision: 'autoPromote is off: the new version stays a candidate' };
  if (c.candidate === null) return { promote: false, decision: `the candidate reported no ${c.metric}` };
  if (c.activeVersionId === null) return { promote: true, decision: 'no version was active' };
  if (c.active === null) {
    return { promote: false, decision: `the active version could not be scored (${c.activeError ?? `no ${c.metric}`}); kept it` };
  }
  if (!c.beats) {
    return {
      promote: false,
      decision: `${c.metric} ${fmt(c.candidate)} vs active ${fmt(c.active)}: does not beat it by the margin ${c.margin}`,
    };
  }
  return { promote: true, decision: `${c.metric} ${fmt(c.candidate)} vs active ${fmt(c.active)}: beats it by ≥ ${c.margin}` };
}
