/**
 * The next-item model kind, as the recommendation domain registers it with the model runtime:
 * its manifest fields, the item vocabulary and unit-length item embeddings read beside
 * model.onnx, and the sample-output invariant (top ids are item indices).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KindSpec } from '../inference/kind-spec';
import { arr, bool, type CommonManifest, fileOf, ManifestError, num, obj, posInt, str, strings } from '../inference/manifest';
import { VerificationError } from '../inference/artifact-verifier';

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

export interface NextItemAssets {
  readonly kind: 'next-item';
  readonly vocabulary: ItemVocabulary;
  readonly embeddings: ItemEmbeddings;
}

declare module '../inference/model-kind' {
  interface ModelTypes {
    'next-item': { manifest: NextItemManifest; assets: NextItemAssets };
  }
}

export const nextItemKind: KindSpec<'next-item'> = {
  kind: 'next-item',
  requiredFiles: ['items', 'item_embeddings'],
  parse(m, common) {
    const emb = obj(m.item_embeddings, 'item_embeddings');
    const shape = arr(emb.shape, 'item_embeddings.shape');
    const ctx = obj(m.context, 'context');
    const out: NextItemManifest = {
      ...common,
      kind: 'next-item',
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
  },
  loadAssets(dir, manifest) {
    return { kind: 'next-item', vocabulary: readVocabulary(dir, manifest), embeddings: readEmbeddings(dir, manifest) };
  },
  checkSample(manifest, outputs) {
    const ids = outputs.top_ids;
    if (!ids) return;
    for (const v of ids.data) {
      const i = Number(v);
      if (i < 1 || i > manifest.nItems) throw new VerificationError(`sample top_ids has item index ${i} outside 1..${manifest.nItems}`);
    }
  },
};

function readVocabulary(dir: string, m: NextItemManifest): ItemVocabulary {
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(dir, fileOf(m, 'items', 'items.json')), 'utf8'));
  if (!Array.isArray(raw) || raw.length !== m.nItems + 1 || raw[0] !== null) {
    throw new ManifestError(`items.json must be an array of n_items + 1 = ${m.nItems + 1} entries starting with null`);
  }
  const items = raw.map((x: unknown, i) => {
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
