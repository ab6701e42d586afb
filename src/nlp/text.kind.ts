/**
 * The text model kinds (sentiment, intent), as the NLP domain registers them with the model
 * runtime: their manifest fields (labels, the text input pipeline), the WordPiece tokenizer read
 * beside model.onnx, and the sample-output invariant (one probability per label summing to one).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KindSpec } from '../inference/kind-spec';
import { type CommonManifest, fileOf, ManifestError, obj, posInt, str, strings } from '../inference/manifest';
import { rowsSumToOne, VerificationError } from '../inference/artifact-verifier';
import { WordPieceTokenizer } from './wordpiece-tokenizer';

export type TextKind = 'sentiment' | 'intent';

export type TextInput =
  | { readonly type: 'wordpiece' | 'bert-wordpiece'; readonly maxLength: number; readonly vocabFile: string; readonly maxInputCharsPerWord: number }
  | { readonly type: 'codepoints'; readonly maxLength: number };

export interface TextManifest extends CommonManifest {
  readonly kind: TextKind;
  readonly labels: readonly string[];
  readonly mode: string;
  readonly textInput: TextInput;
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
  return { ...common, kind, labels, mode: str(m.mode, 'mode'), textInput };
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
