/**
 * Text → model inputs for the two text input forms of the serving contract: WordPiece token ids
 * with an attention mask (MiniLM modes) or raw Unicode code points (ngram mode; the graph does
 * the normalisation and hashing). Pure.
 */
import type { Feeds } from '../inference/tensor';
import { int64 } from '../inference/tensor';
import type { WordPieceTokenizer } from './wordpiece-tokenizer';

export function encodeTexts(texts: readonly string[], tokenizer: WordPieceTokenizer | null, maxLength: number): Feeds {
  if (tokenizer) {
    const b = tokenizer.encodeBatch(texts);
    return {
      input_ids: int64(b.inputIds, [b.batch, b.seqLen]),
      attention_mask: int64(b.attentionMask, [b.batch, b.seqLen]),
    };
  }
  const rows = texts.map((t) => Array.from(t).slice(0, maxLength).map((c) => c.codePointAt(0)!));
  const width = Math.max(1, ...rows.map((r) => r.length));
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((r, i) => r.forEach((cp, j) => (data[i * width + j] = BigInt(cp))));
  return { codepoints: int64(data, [rows.length, width]) };
}
