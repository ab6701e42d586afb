/**
 * Verification of an artifact directory before anything is registered or served:
 * 1. manifest.json parses and is of the expected kind;
 * 2. model.onnx and every file the manifest lists match their sha256 (files the server needs must exist);
 * 3. the ONNX opset in the file equals the manifest's (read from the protobuf header);
 * 4. ORT loads it, and its input/output names, dtypes and shapes equal the manifest's;
 * 5. a sample batch runs and its outputs have the declared dtypes, shapes and sane values.
 * Steps 1–3 are here (pure file work); 4–5 use a worker session (checkSession / sample*). What is
 * particular to a kind (its manifest fields, required files, assets, sample invariants) comes
 * from the kind's KindSpec, registered by its domain.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { KindSpec } from './kind-spec';
import { type CommonManifest, parseManifest, type TensorSpec } from './manifest';
import type { AssetsOf, ManifestOf, ModelKind } from './model-kind';
import { defaultOpset, readOpsetImports } from './onnx-opset';
import type { ValueMeta } from './session-worker.protocol';
import type { Feeds, TensorData } from './tensor';

/** Opsets the bundled onnxruntime-node (1.30) implements for the default domain. */
export const SUPPORTED_OPSETS = { min: 7, max: 23 } as const;

export interface ReadArtifact<K extends ModelKind = ModelKind> {
  readonly dir: string;
  readonly manifest: ManifestOf<K>;
  readonly modelBytes: Uint8Array;
  readonly sha256: string;
  readonly assets: AssetsOf<K>;
}

export class VerificationError extends Error {}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Steps 1–3, plus the kind's checks and assets. `expectedSha` pins the model bytes (a registered version). */
export function readArtifact<K extends ModelKind>(dir: string, spec: KindSpec<K>, expectedSha?: string): ReadArtifact<K> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new VerificationError(`${dir} is not a directory`);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new VerificationError('manifest.json is missing');
  let manifest: ManifestOf<K>;
  try {
    manifest = parseManifest(JSON.parse(fs.readFileSync(manifestPath, 'utf8')), spec);
  } catch (err) {
    throw new VerificationError(`manifest.json: ${err instanceof Error ? err.message : String(err)}`);
  }
  const modelPath = path.join(dir, manifest.model.file);
  if (!fs.existsSync(modelPath)) throw new VerificationError(`${manifest.model.file} is missing`);
  const modelBytes = new Uint8Array(fs.readFileSync(modelPath));
  if (modelBytes.byteLength === 0) throw new VerificationError(`${manifest.model.file} is empty`);
  const sha256 = sha256Hex(modelBytes);
  if (sha256 !== manifest.model.sha256) {
    throw new VerificationError(`${manifest.model.file} sha256 ${sha256.slice(0, 12)}… does not match the manifest's ${manifest.model.sha256.slice(0, 12)}…`);
  }
  if (expectedSha && sha256 !== expectedSha) {
    throw new VerificationError(`${manifest.model.file} sha256 ${sha256.slice(0, 12)}… differs from the registered ${expectedSha.slice(0, 12)}…`);
  }
  const common: CommonManifest = manifest;
  for (const [role, f] of Object.entries(common.files)) {
    const p = path.join(dir, f.file);
    if (!fs.existsSync(p)) {
      if (spec.requiredFiles.includes(role)) throw new VerificationError(`${f.file} (${role}) is missing`);
      continue; // e.g. checkpoint.pt: only fine-tuning reads it
    }
    const got = sha256Hex(fs.readFileSync(p));
    if (got !== f.sha256) throw new VerificationError(`${f.file} (${role}) sha256 does not match the manifest`);
  }
  let opset: number | null;
  try {
    opset = defaultOpset(readOpsetImports(modelBytes));
  } catch (err) {
    throw new VerificationError(`${manifest.model.file} is not a valid ONNX model (${err instanceof Error ? err.message : String(err)})`);
  }
  if (opset === null) throw new VerificationError(`${manifest.model.file} declares no default-domain opset`);
  if (opset !== manifest.model.opset) {
    throw new VerificationError(`${manifest.model.file} uses opset ${opset} but the manifest says ${manifest.model.opset}`);
  }
  if (opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
    throw new VerificationError(`opset ${opset} is outside what onnxruntime supports here (${SUPPORTED_OPSETS.min}–${SUPPORTED_OPSETS.max})`);
  }
  spec.check?.(manifest);
  let assets: AssetsOf<K>;
  try {
    assets = spec.loadAssets(dir, manifest);
  } catch (err) {
    throw new VerificationError(err instanceof Error ? err.message : String(err));
  }
  return { dir, manifest, modelBytes, sha256, assets };
}

function sameShape(a: readonly (number | string)[], b: readonly (number | string)[]): boolean {
  return a.length === b.length && a.every((d, i) => (typeof d === 'number' ? d === b[i] : typeof b[i] === 'string'));
}

function describe(list: readonly { name: string }[]): string {
  return list.map((x) => x.name).sort().join(', ');
}

/** Step 4: the graph's inputs/outputs are exactly the manifest's. */
export function checkSessionIo(manifest: CommonManifest, inputs: readonly ValueMeta[], outputs: readonly ValueMeta[]): void {
  const check = (what: string, declared: readonly TensorSpec[], actual: readonly ValueMeta[]) => {
    if (describe(declared) !== describe(actual)) {
      throw new VerificationError(`model ${what} [${describe(actual)}] differ from the manifest's [${describe(declared)}]`);
    }
    for (const spec of declared) {
      const got = actual.find((a) => a.name === spec.name)!;
      if (got.type !== spec.dtype) throw new VerificationError(`${what.slice(0, -1)} ${spec.name} is ${got.type}, manifest says ${spec.dtype}`);
      if (!sameShape(spec.shape, got.shape)) {
        throw new VerificationError(`${what.slice(0, -1)} ${spec.name} has shape [${got.shape.join(', ')}], manifest says [${spec.shape.join(', ')}]`);
      }
    }
  };
  check('inputs', manifest.inputs, inputs);
  check('outputs', manifest.outputs, outputs);
}

const SAMPLE_ROWS = 2;
const SAMPLE_SYMBOLIC_DIM = 8;

/** Step 5 input: zeros (an all-padding history / empty text), attention masks of ones. */
export function sampleFeeds(manifest: CommonManifest): Feeds {
  const feeds: Record<string, TensorData> = {};
  for (const spec of manifest.inputs) {
    const dims = spec.shape.map((d, i) => (i === 0 ? SAMPLE_ROWS : typeof d === 'number' ? d : SAMPLE_SYMBOLIC_DIM));
    const n = dims.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int64') {
      const data = new BigInt64Array(n);
      if (spec.name === 'attention_mask') data.fill(1n);
      feeds[spec.name] = { type: 'int64', data, dims };
    } else if (spec.dtype === 'float32') feeds[spec.name] = { type: 'float32', data: new Float32Array(n), dims };
    else throw new VerificationError(`input ${spec.name} has unsupported dtype ${spec.dtype}`);
  }
  return feeds;
}

/** Step 5 output: declared dtypes and shapes, no NaN, and the kind's invariants. */
export function checkSampleOutputs<K extends ModelKind>(spec: KindSpec<K>, manifest: ManifestOf<K>, outputs: Feeds): void {
  const common: CommonManifest = manifest;
  for (const spec of common.outputs) {
    const t = outputs[spec.name];
    if (!t) throw new VerificationError(`sample run returned no ${spec.name}`);
    if (t.type !== spec.dtype) throw new VerificationError(`sample ${spec.name} is ${t.type}, manifest says ${spec.dtype}`);
    if (t.dims.length !== spec.shape.length || t.dims[0] !== SAMPLE_ROWS) {
      throw new VerificationError(`sample ${spec.name} has dims [${t.dims.join(', ')}]`);
    }
    spec.shape.forEach((d, i) => {
      if (i > 0 && typeof d === 'number' && t.dims[i] !== d) throw new VerificationError(`sample ${spec.name} dim ${i} is ${t.dims[i]}, manifest says ${d}`);
    });
    if (t.data instanceof Float32Array && t.data.some((v) => Number.isNaN(v))) throw new VerificationError(`sample ${spec.name} contains NaN`);
  }
  spec.checkSample(manifest, outputs);
}

/** A sample invariant of probability outputs: each row of `name` sums to one. */
export function rowsSumToOne(outputs: Feeds, name: string): void {
  const t = outputs[name];
  if (!t) throw new VerificationError(`sample run returned no ${name}`);
  const width = t.dims[1]!;
  for (let r = 0; r < t.dims[0]!; r++) {
    let s = 0;
    for (let j = 0; j < width; j++) s += Number(t.data[r * width + j]);
    if (Math.abs(s - 1) > 1e-3) throw new VerificationError(`sample ${name} row ${r} sums to ${s.toFixed(4)}, not 1`);
  }
}
