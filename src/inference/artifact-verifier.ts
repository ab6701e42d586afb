/**
 * Verification of an artifact directory before anything is registered or served:
 * 1. manifest.json parses and is of the expected kind;
 * 2. model.onnx and every file the manifest lists match their sha256 (files the server needs must exist);
 * 3. the ONNX opset in the file equals the manifest's (read from the protobuf header);
 * 4. ORT loads it, and its input/output names, dtypes and shapes equal the manifest's;
 * 5. a sample batch runs and its outputs have the declared dtypes, shapes and sane values.
 * Steps 1–3 are here (pure file work); 4–5 use a worker session (checkSession / sample*).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KNOWN_PROFILE_FEATURES } from '../predict/behavior-features';
import { loadAssets, type ModelAssets } from './model-assets';
import { type Manifest, ManifestError, parseManifest, type TensorSpec } from './manifest';
import type { ModelKind } from './model-kind';
import { defaultOpset, readOpsetImports } from './onnx-opset';
import type { ValueMeta } from './session-worker';
import type { Feeds, TensorData } from './tensor';

/** Opsets the bundled onnxruntime-node (1.30) implements for the default domain. */
export const SUPPORTED_OPSETS = { min: 7, max: 23 } as const;

/** Files the server reads, per kind; a manifest that lists them but lacks them is refused. */
const REQUIRED_FILES: Record<ModelKind, readonly string[]> = {
  'next-item': ['items', 'item_embeddings'],
  behavior: [],
  sentiment: [],
  intent: [],
};

export interface ReadArtifact {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly modelBytes: Uint8Array;
  readonly sha256: string;
  readonly assets: ModelAssets;
}

export class VerificationError extends Error {}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Steps 1–3, plus the kind's assets. `expectedSha` pins the model bytes (a registered version). */
export function readArtifact(dir: string, kind: ModelKind, expectedSha?: string): ReadArtifact {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new VerificationError(`${dir} is not a directory`);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new VerificationError('manifest.json is missing');
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(fs.readFileSync(manifestPath, 'utf8')), kind);
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
  for (const [role, f] of Object.entries(manifest.files)) {
    const p = path.join(dir, f.file);
    if (!fs.existsSync(p)) {
      if (REQUIRED_FILES[kind].includes(role)) throw new VerificationError(`${f.file} (${role}) is missing`);
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
  if (manifest.kind === 'behavior') {
    const unknown = manifest.profileFeatures.filter((f) => !KNOWN_PROFILE_FEATURES.includes(f));
    if (unknown.length) throw new VerificationError(`profile_features the server cannot compute: ${unknown.join(', ')}`);
    const unknownActions = manifest.actions.filter((a) => !['view', 'cart', 'purchase', 'leave'].includes(a));
    if (unknownActions.length) throw new VerificationError(`actions the API cannot express: ${unknownActions.join(', ')}`);
    const types = Object.keys(manifest.eventTypeIndex);
    if (!['view', 'search', 'cart', 'purchase', 'favorite'].every((t) => types.includes(t))) {
      throw new VerificationError('event_type_index must map view, search, cart, purchase and favorite');
    }
  }
  let assets: ModelAssets;
  try {
    assets = loadAssets(dir, manifest);
  } catch (err) {
    throw new VerificationError(err instanceof ManifestError || err instanceof Error ? err.message : String(err));
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
export function checkSessionIo(manifest: Manifest, inputs: readonly ValueMeta[], outputs: readonly ValueMeta[]): void {
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
export function sampleFeeds(manifest: Manifest): Feeds {
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
export function checkSampleOutputs(manifest: Manifest, outputs: Feeds): void {
  for (const spec of manifest.outputs) {
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
  const rowsSumToOne = (name: string) => {
    const t = outputs[name]!;
    const width = t.dims[1]!;
    for (let r = 0; r < t.dims[0]!; r++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += Number(t.data[r * width + j]);
      if (Math.abs(s - 1) > 1e-3) throw new VerificationError(`sample ${name} row ${r} sums to ${s.toFixed(4)}, not 1`);
    }
  };
  switch (manifest.kind) {
    case 'next-item': {
      const ids = outputs.top_ids;
      if (ids) {
        for (const v of ids.data) {
          const i = Number(v);
          if (i < 1 || i > manifest.nItems) throw new VerificationError(`sample top_ids has item index ${i} outside 1..${manifest.nItems}`);
        }
      }
      return;
    }
    case 'behavior':
      if (outputs.next_action?.dims[1] !== manifest.actions.length) throw new VerificationError('next_action width differs from manifest.actions');
      if (outputs.purchase_within?.dims[1] !== manifest.horizonsDays.length) {
        throw new VerificationError('purchase_within width differs from manifest.horizons_days');
      }
      rowsSumToOne('next_action');
      return;
    case 'sentiment':
    case 'intent':
      if (outputs.probs?.dims[1] !== manifest.labels.length) throw new VerificationError('probs width differs from manifest.labels');
      rowsSumToOne('probs');
      return;
  }
}
