/**
 * manifest.json of a trainer artifact (trainer/README.md "Serving contract"), parsed into the
 * fields the server relies on: the fields every kind has here, the kind's own by its KindSpec.
 * Anything missing or of the wrong type is a refusal naming the field.
 */
import type { KindSpec } from './kind-spec';
import type { ManifestOf, ModelKind } from './model-kind';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}

export interface ManifestFile {
  readonly file: string;
  readonly sha256: string;
}

export interface CommonManifest {
  readonly version: string;
  readonly createdAt: string;
  readonly model: { readonly file: string; readonly sha256: string; readonly opset: number };
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly files: Readonly<Record<string, ManifestFile>>;
  readonly metrics: Readonly<Record<string, unknown>>;
  /** The whole manifest as written by the trainer (stored in model_versions.manifest). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export class ManifestError extends Error {}

export type Json = Record<string, unknown>;

export function obj(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${at} must be an object`);
  return v as Json;
}
export function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new ManifestError(`${at} must be a non-empty string`);
  return v;
}
export function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ManifestError(`${at} must be a number`);
  return v;
}
export function posInt(v: unknown, at: string): number {
  const n = num(v, at);
  if (!Number.isInteger(n) || n < 0) throw new ManifestError(`${at} must be a non-negative integer`);
  return n;
}
export function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ManifestError(`${at} must be true or false`);
  return v;
}
export function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ManifestError(`${at} must be an array`);
  return v;
}
export function strings(v: unknown, at: string): string[] {
  return arr(v, at).map((x, i) => str(x, `${at}[${i}]`));
}
function specs(v: unknown, at: string): TensorSpec[] {
  return arr(v, at).map((x, i) => {
    const o = obj(x, `${at}[${i}]`);
    const shape = arr(o.shape, `${at}[${i}].shape`).map((d, j) => {
      if (typeof d === 'number' || (typeof d === 'string' && d !== '')) return d;
      throw new ManifestError(`${at}[${i}].shape[${j}] must be a number or a dimension name`);
    });
    return { name: str(o.name, `${at}[${i}].name`), dtype: str(o.dtype, `${at}[${i}].dtype`), shape };
  });
}
function sha(v: unknown, at: string): string {
  const s = str(v, at);
  if (!/^[0-9a-f]{64}$/.test(s)) throw new ManifestError(`${at} must be a hex sha256`);
  return s;
}

/** The common fields, then the kind's own (`spec.parse`); the manifest must be of the spec's kind. */
export function parseManifest<K extends ModelKind>(json: unknown, spec: KindSpec<K>): ManifestOf<K> {
  const m = obj(json, 'manifest');
  const kind = str(m.kind, 'kind');
  if (kind !== spec.kind) throw new ManifestError(`kind is "${kind}", expected "${spec.kind}"`);
  const model = obj(m.model, 'model');
  const filesObj = obj(m.files ?? {}, 'files');
  const files: Record<string, ManifestFile> = {};
  for (const [role, f] of Object.entries(filesObj)) {
    const o = obj(f, `files.${role}`);
    files[role] = { file: str(o.file, `files.${role}.file`), sha256: sha(o.sha256, `files.${role}.sha256`) };
  }
  const common: CommonManifest = {
    version: str(m.version, 'version'),
    createdAt: typeof m.created_at === 'string' ? m.created_at : '',
    model: { file: str(model.file, 'model.file'), sha256: sha(model.sha256, 'model.sha256'), opset: posInt(model.opset, 'model.opset') },
    inputs: specs(m.inputs, 'inputs'),
    outputs: specs(m.outputs, 'outputs'),
    files,
    metrics: m.metrics && typeof m.metrics === 'object' ? (m.metrics as Json) : {},
    raw: m,
  };
  if (common.inputs.length === 0) throw new ManifestError('inputs must not be empty');
  return spec.parse(m, common);
}

/** A file the manifest lists under `role`, else `fallback`. */
export function fileOf(manifest: CommonManifest, role: string, fallback: string): string {
  return manifest.files[role]?.file ?? fallback;
}
