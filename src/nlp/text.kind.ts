/**
 * The text model kinds (sentiment, intent), as the NLP domain registers them with the model
 * runtime: their manifest fields (labels, the text input pipeline, the optional out-of-scope rule),
 * the WordPiece tokenizer read beside model.onnx, and the sample-output invariants (one probability
 * per label summing to one; an `embedding` output, where the graph has one, is L2-normalised).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KindSpec } from '../inference/kind-spec';
import { type CommonManifest, fileOf, ManifestError, num, obj, posInt, str, strings } from '../inference/manifest';
import { rowsSumToOne, VerificationError } from '../inference/artifact-verifier';
import { WordPieceTokenizer } from './wordpiece-tokenizer';

export type TextKind = 'sentiment' | 'intent';

export type TextInput =
  | { readonly type: 'wordpiece' | 'bert-wordpiece'; readonly maxLength: number; readonly vocabFile: string; readonly maxInputCharsPerWord: number }
  | { readonly type: 'codepoints'; readonly maxLength: number };

/**
 * Open-intent detection (manifest `out_of_scope`): a message whose score is below `threshold` is
 * labelled `label` instead of its nearest intent. `score` names what is compared: the largest class
 * probability, or a `known_score` output of the graph. The trainer picks the threshold on validation.
 */
export interface OutOfScopeRule {
  readonly label: string;
  readonly score: 'max_prob' | 'known_score';
  readonly threshold: number;
}

export interface TextManifest extends CommonManifest {
  readonly kind: TextKind;
  readonly labels: readonly string[];
  readonly mode: string;
  readonly textInput: TextInput;
  readonly outOfScope: OutOfScopeRule | null;
  /** The graph also outputs `embedding` (batch, dim): the encoder's L2-normalised sentence embedding. */
  readonly embeddingDim: number | null;
}

export interface TextAssets {
  readonly kind: TextKind;
  /** null for the codepoints input. */
  readonly tokenizer: WordPieceTokenizer | null;
  readonly maxLength: number;
}

declare module '../inference/model-kind' {
  interface ModelTypes {
    sentiment: { manifest: TextManifest; assets: TextAssets };
    intent: { manifest: TextManifest; assets: TextAssets };
  }
}

export function textKind<K extends TextKind>(kind: K): KindSpec<K> {
  // ManifestOf<K> is TextManifest for both text kinds; the spec is written once for either.
  const spec: KindSpec<TextKind> = {
    kind,
    requiredFiles: [],
    parse: (m, common) => parseText(kind, m, common),
    loadAssets: readText,
    checkSample(manifest, outputs) {
      if (outputs.probs?.dims[1] !== manifest.labels.length) throw new VerificationError('probs width differs from manifest.labels');
      rowsSumToOne(outputs, 'probs');
      if (outputs.neighbor_probs) rowsSumToOne(outputs, 'neighbor_probs');
      const e = outputs.embedding;
      if (manifest.embeddingDim !== null) {
        if (!e || e.dims[1] !== manifest.embeddingDim) throw new VerificationError('embedding width differs from the manifest outputs');
        const d = e.dims[1];
        for (let r = 0; r < e.dims[0]!; r++) {
          let sq = 0;
          for (let j = 0; j < d; j++) sq += Number(e.data[r * d + j]) ** 2;
          if (Math.abs(Math.sqrt(sq) - 1) > 1e-2) throw new VerificationError('embedding rows must be L2-normalised');
        }
      }
    },
  };
  return spec as KindSpec<K>;
}

function parseText(kind: TextKind, m: Record<string, unknown>, common: CommonManifest): TextManifest {
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
  const emb = common.outputs.find((o) => o.name === 'embedding');
  const embeddingDim = emb ? Number(emb.shape[1]) : null;
  if (embeddingDim !== null && !(Number.isInteger(embeddingDim) && embeddingDim > 0)) throw new ManifestError('outputs.embedding must have a fixed width');
  return { ...common, kind, labels, mode: str(m.mode, 'mode'), textInput, outOfScope: parseOutOfScope(m.out_of_scope, labels, common), embeddingDim };
}

function parseOutOfScope(v: unknown, labels: readonly string[], common: CommonManifest): OutOfScopeRule | null {
  if (v === undefined || v === null) return null;
  const o = obj(v, 'out_of_scope');
  const label = str(o.label ?? 'out_of_scope', 'out_of_scope.label');
  if (labels.includes(label)) throw new ManifestError(`out_of_scope.label "${label}" is also a class label`);
  const score = str(o.score ?? 'max_prob', 'out_of_scope.score');
  if (score !== 'max_prob' && score !== 'known_score') throw new ManifestError('out_of_scope.score must be max_prob or known_score');
  if (score === 'known_score' && !common.outputs.some((x) => x.name === 'known_score')) throw new ManifestError('out_of_scope.score known_score needs a known_score output');
  const threshold = num(o.threshold, 'out_of_scope.threshold');
  return { label, score, threshold };
}

function readText(dir: string, m: TextManifest): TextAssets {
  const ti = m.textInput;
  if (ti.type === 'codepoints') return { kind: m.kind, tokenizer: null, maxLength: ti.maxLength };
  const vocabText = fs.readFileSync(path.join(dir, fileOf(m, 'vocab', ti.vocabFile)), 'utf8');
  const tokenizer = WordPieceTokenizer.fromVocabText(vocabText, {
    maxLength: ti.maxLength,
    maxInputCharsPerWord: ti.maxInputCharsPerWord,
  });
  return { kind: m.kind, tokenizer, maxLength: ti.maxLength };
}
