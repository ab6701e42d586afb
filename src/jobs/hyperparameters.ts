/**
 * Validation of admin-supplied hyperparameters against the trainer's own spec
 * (trainer/hyperparameters.json: `{kind: {key: {type, default, min?, max?, choices?, architecture?}}}`),
 * so a bad value is refused with BAD_USER_INPUT naming the key before anything is queued,
 * instead of failing minutes later inside the trainer (which applies the same rules, exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FieldIssue } from '../common/errors';
import { MODEL_KINDS, type ModelKind } from '../inference/model-kind';

export interface HyperparameterSpec {
  readonly type: 'int' | 'float' | 'bool' | 'str' | 'float[]';
  readonly default: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** A str holding a comma list: at least one item, each one of these. */
  readonly items?: readonly string[];
  /** Changes weight shapes: a fine-tune must keep the base's value. */
  readonly architecture?: boolean;
  readonly help?: string;
}

export type HyperparameterSpecs = Readonly<Record<ModelKind, Readonly<Record<string, HyperparameterSpec>>>>;

const cache = new Map<string, HyperparameterSpecs>();

/** Reads <trainerDir>/hyperparameters.json once per path. */
export function loadHyperparameterSpecs(trainerDir: string): HyperparameterSpecs {
  const file = path.join(trainerDir, 'hyperparameters.json');
  const hit = cache.get(file);
  if (hit) return hit;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as HyperparameterSpecs;
  for (const kind of MODEL_KINDS) {
    if (typeof parsed[kind] !== 'object' || parsed[kind] === null) throw new Error(`${file} has no "${kind}" section`);
  }
  cache.set(file, parsed);
  return parsed;
}

function checkValue(spec: HyperparameterSpec, v: unknown): string | null {
  const range = (n: number): string | null => {
    if (spec.min !== undefined && n < spec.min) return `must be ≥ ${spec.min}`;
    if (spec.max !== undefined && n > spec.max) return `must be ≤ ${spec.max}`;
    return null;
  };
  switch (spec.type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'must be an integer';
      return range(v);
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
      return range(v);
    case 'bool':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'str':
      if (typeof v !== 'string') return 'must be a string';
      if (spec.choices && !spec.choices.includes(v)) return `must be one of ${spec.choices.join(', ')}`;
      if (spec.items) {
        const listed = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
        const unknown = listed.filter((x) => !spec.items!.includes(x));
        if (listed.length === 0 || unknown.length) return `must be a comma list of ${spec.items.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`;
      }
      return null;
    case 'float[]': {
      if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty list of numbers';
      for (const [i, x] of v.entries()) {
        if (typeof x !== 'number' || !Number.isFinite(x)) return `[${i}] must be a number`;
        const bad = range(x);
        if (bad) return `[${i}] ${bad}`;
      }
      return null;
    }
  }
}

/**
 * Issues for `values` (an object of overrides) under `at` (e.g. "input.hyperparameters").
 * `base`: the base artifact's hyperparameters when fine-tuning; architecture keys must equal them.
 */
export function validateHyperparameters(
  specs: HyperparameterSpecs,
  kind: ModelKind,
  values: unknown,
  at: string,
  base: Readonly<Record<string, unknown>> | null,
): FieldIssue[] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [{ path: at, message: 'must be a JSON object' }];
  const spec = specs[kind];
  const issues: FieldIssue[] = [];
  for (const [key, v] of Object.entries(values)) {
    // Own keys only: "__proto__" or "constructor" must not find Object.prototype's members.
    const s = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (!s) {
      issues.push({ path: `${at}.${key}`, message: `is not a ${kind} hyperparameter (known: ${Object.keys(spec).join(', ')})` });
      continue;
    }
    const bad = checkValue(s, v);
    if (bad) {
      issues.push({ path: `${at}.${key}`, message: bad });
      continue;
    }
    if (s.architecture && base && key in base && JSON.stringify(base[key]) !== JSON.stringify(v)) {
      issues.push({
        path: `${at}.${key}`,
        message: `is an architecture key: fine-tuning keeps the base's value ${JSON.stringify(base[key])} (set fromScratch to change it)`,
      });
    }
  }
  return issues;
}

