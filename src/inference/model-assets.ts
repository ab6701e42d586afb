/**
 * The kind-specific files beside model.onnx, read once per model version into the structures
 * feature builders use: the item vocabulary and unit-length item embeddings (next-item), the
 * WordPiece tokenizer (MiniLM text models).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WordPieceTokenizer } from '../nlp/wordpiece-tokenizer';
import type { Manifest, NextItemManifest, TextManifest } from './manifest';
import { ManifestError } from './manifest';

export interface ItemVocabulary {
  /** items[i] = product id of index i; items[0] = null (padding). */
  readonly items: readonly (string | null)[];
  readonly indexOf: ReadonlyMap<string, number>;
}

export interface ItemEmbeddings {
  readonly rows: number;
  readonly dim: number;
  /** Row-major [rows, dim], each row scaled to unit length (zero rows stay zero), for cosine. */
  readonly unit: Float32Array;
}

export type ModelAssets =
  | { readonly kind: 'next-item'; readonly vocabulary: ItemVocabulary; readonly embeddings: ItemEmbeddings }
  | { readonly kind: 'behavior' }
  | { readonly kind: 'sentiment' | 'intent'; readonly tokenizer: WordPieceTokenizer | null; readonly maxLength: number };

export function loadAssets(dir: string, manifest: Manifest): ModelAssets {
  switch (manifest.kind) {
    case 'next-item':
      return { kind: 'next-item', vocabulary: readVocabulary(dir, manifest), embeddings: readEmbeddings(dir, manifest) };
    case 'behavior':
      return { kind: 'behavior' };
    case 'sentiment':
    case 'intent':
      return readText(dir, manifest);
  }
}

function fileOf(manifest: Manifest, role: string, fallback: string): string {
  return manifest.files[role]?.file ?? fallback;
}

function readVocabulary(dir: string, m: NextItemManifest): ItemVocabulary {
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(dir, fileOf(m, 'items', 'items.json')), 'utf8'));
  if (!Array.isArray(raw) || raw.length !== m.nItems + 1 || raw[0] !== null) {
    throw new ManifestError(`items.json must be an array of n_items + 1 = ${m.nItems + 1} entries starting with null`);
  }
  const items = raw.map((x, i) => {
    if (i === 0) return null;
    if (typeof x !== 'string' && typeof x !== 'number') throw new ManifestError(`items.json[${i}] is not an id`);
    return String(x).trim();
  });
  const indexOf = new Map<string, number>();
  items.forEach((id, i) => {
    if (id !== null) indexOf.set(id, i);
  });
  return { items, indexOf };
}

function readEmbeddings(dir: string, m: NextItemManifest): ItemEmbeddings {
  const { rows, dim, file } = m.itemEmbeddings;
  const buf = fs.readFileSync(path.join(dir, file));
  if (buf.byteLength !== rows * dim * 4) {
    throw new ManifestError(`${file} has ${buf.byteLength} bytes, expected ${rows}×${dim}×4`);
  }
  const unit = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = buf.readFloatLE((r * dim + d) * 4);
      unit[r * dim + d] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let d = 0; d < dim; d++) unit[r * dim + d]! /= norm;
  }
  return { rows, dim, unit };
}

function readText(dir: string, m: TextManifest): ModelAssets {
  const ti = m.textInput;
  if (ti.type === 'codepoints') return { kind: m.kind, tokenizer: null, maxLength: ti.maxLength };
  const vocabText = fs.readFileSync(path.join(dir, fileOf(m, 'vocab', ti.vocabFile)), 'utf8');
  const tokenizer = WordPieceTokenizer.fromVocabText(vocabText, {
    maxLength: ti.maxLength,
    maxInputCharsPerWord: ti.maxInputCharsPerWord,
  });
  return { kind: m.kind, tokenizer, maxLength: ti.maxLength };
}
