/**
 * manifest.json of a trainer artifact (trainer/README.md "Serving contract"), parsed into the
 * fields the server relies on. Anything missing or of the wrong type is a refusal naming the field.
 */
import { isModelKind, type ModelKind } from './model-kind';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}

export interface ManifestFile {
  readonly file: string;
  readonly sha256: string;
}

interface CommonManifest {
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

export interface NextItemManifest extends CommonManifest {
  readonly kind: 'next-item';
  readonly nItems: number;
  readonly topK: number;
  readonly maxLen: number;
  readonly itemEmbeddings: { readonly file: string; readonly rows: number; readonly dim: number };
  readonly context: { readonly hourOfWeek: boolean; readonly nCells: number; readonly cellDeg: number };
  readonly eventTypes: readonly string[];
  readonly dedupeConsecutive: boolean;
}

export interface BehaviorManifest extends CommonManifest {
  readonly kind: 'behavior';
  readonly actions: readonly string[];
  readonly horizonsDays: readonly number[];
  readonly maxLen: number;
  readonly eventTypeIndex: Readonly<Record<string, number>>;
  readonly profileFeatures: readonly string[];
}

export type TextInput =
  | { readonly type: 'wordpiece' | 'bert-wordpiece'; readonly maxLength: number; readonly vocabFile: string; readonly maxInputCharsPerWord: number }
  | { readonly type: 'codepoints'; readonly maxLength: number };

export interface TextManifest extends CommonManifest {
  readonly kind: 'sentiment' | 'intent';
  readonly labels: readonly string[];
  readonly mode: string;
  readonly textInput: TextInput;
}

export type Manifest = NextItemManifest | BehaviorManifest | TextManifest;

export class ManifestError extends Error {}

type Json = Record<string, unknown>;

function obj(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${at} must be an object`);
  return v as Json;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new ManifestError(`${at} must be a non-empty string`);
  return v;
}
function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ManifestError(`${at} must be a number`);
  return v;
}
function posInt(v: unknown, at: string): number {
  const n = num(v, at);
  if (!Number.isInteger(n) || n < 0) throw new ManifestError(`${at} must be a non-negative integer`);
  return n;
}
function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ManifestError(`${at} must be true or false`);
  return v;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ManifestError(`${at} must be an array`);
  return v;
}
function strings(v: unknown, at: string): string[] {
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

export function parseManifest(json: unknown, expectedKind?: ModelKind): Manifest {
  const m = obj(json, 'manifest');
  const kind = str(m.kind, 'kind');
  if (!isModelKind(kind)) throw new ManifestError(`kind "${kind}" is not a model kind`);
  if (expectedKind && kind !== expectedKind) throw new ManifestError(`kind is "${kind}", expected "${expectedKind}"`);
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
  switch (kind) {
    case 'next-item': {
      const emb = obj(m.item_embeddings, 'item_embeddings');
      const shape = arr(emb.shape, 'item_embeddings.shape');
      const ctx = obj(m.context, 'context');
      const out: NextItemManifest = {
        ...common,
        kind,
        nItems: posInt(m.n_items, 'n_items'),
        topK: posInt(m.top_k, 'top_k'),
        maxLen: posInt(m.max_len, 'max_len'),
        itemEmbeddings: { file: str(emb.file, 'item_embeddings.file'), rows: posInt(shape[0], 'item_embeddings.shape[0]'), dim: posInt(shape[1], 'item_embeddings.shape[1]') },
        context: { hourOfWeek: bool(ctx.hour_of_week, 'context.hour_of_week'), nCells: posInt(ctx.n_cells, 'context.n_cells'), cellDeg: num(ctx.cell_deg, 'context.cell_deg') },
        eventTypes: strings(m.event_types, 'event_types'),
        dedupeConsecutive: bool(m.dedupe_consecutive, 'dedupe_consecutive'),
      };
      if (out.itemEmbeddings.rows !== out.nItems + 1) throw new ManifestError('item_embeddings.shape[0] must be n_items + 1');
      return out;
    }
    case 'behavior': {
      const idx = obj(m.event_type_index, 'event_type_index');
      const eventTypeIndex: Record<string, number> = {};
      for (const [t, i] of Object.entries(idx)) eventTypeIndex[t] = posInt(i, `event_type_index.${t}`);
      const horizonsDays = arr(m.horizons_days, 'horizons_days').map((h, i) => num(h, `horizons_days[${i}]`));
      if (horizonsDays.length === 0 || horizonsDays.some((h, i) => h <= 0 || (i > 0 && h <= horizonsDays[i - 1]!))) {
        throw new ManifestError('horizons_days must be positive and strictly increasing');
      }
      return {
        ...common,
        kind,
        actions: strings(m.actions, 'actions'),
        horizonsDays,
        maxLen: posInt(m.max_len, 'max_len'),
        eventTypeIndex,
        profileFeatures: strings(m.profile_features, 'profile_features'),
      };
    }
    case 'sentiment':
    case 'intent': {
      const ti = obj(m.text_input, 'text_input');
      const type = str(ti.type, 'text_input.type');
      let textInput: TextInput;
      if (type === 'codepoints') textInput = { type, maxLength: posInt(ti.max_length, 'text_input.max_length') };
      else if (type === 'wordpiece' || type === 'bert-wordpiece') {
        // The server implements exactly the BERT uncased pipeline of trainer/README.md; refuse other settings.
        for (const [key, want] of [['do_lower_case', true], ['strip_accents', true], ['tokenize_chinese_chars', true], ['clean_text', true]] as const) {
          if (ti[key] !== undefined && ti[key] !== want) throw new ManifestError(`text_input.${key} must be ${want} (the server's tokenizer)`);
        }
        if (ti.wordpiece_prefix !== undefined && ti.wordpiece_prefix !== '##') throw new ManifestError('text_input.wordpiece_prefix must be "##"');
        textInput = {
          type,
          maxLength: posInt(ti.max_length, 'text_input.max_length'),
          vocabFile: str(ti.vocab_file ?? 'vocab.txt', 'text_input.vocab_file'),
          maxInputCharsPerWord: posInt(ti.max_input_chars_per_word ?? 100, 'text_input.max_input_chars_per_word'),
        };
      } else throw new ManifestError(`text_input.type "${type}" is not supported (bert-wordpiece or codepoints)`);
      const labels = strings(m.labels, 'labels');
      if (labels.length < 2) throw new ManifestError('labels must name at least two classes');
      return { ...common, kind, labels, mode: str(m.mode, 'mode'), textInput };
    }
  }
}
