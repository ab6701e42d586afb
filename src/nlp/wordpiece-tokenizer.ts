/**
 * The BERT uncased WordPiece tokenizer as HuggingFace `tokenizers` runs it for all-MiniLM-L6-v2
 * (trainer/README.md "Tokenization (MiniLM modes)"). Pure: vocabulary in, token ids out. The
 * parity test (test/serving/tokenizer.test.ts) checks every case of the trainer's fixture.
 */

export interface TokenizerOptions {
  /** Maximum tokens per text including [CLS] and [SEP]. Defaults to 128. */
  readonly maxLength?: number;
  /** Words longer than this many code points become [UNK]. Defaults to 100. */
  readonly maxInputCharsPerWord?: number;
}

export interface EncodedBatch {
  /** Row-major [batch, seqLen], right-padded with [PAD] = 0. */
  readonly inputIds: BigInt64Array;
  /** 1 on real tokens (including [CLS]/[SEP]), 0 on padding. */
  readonly attentionMask: BigInt64Array;
  readonly batch: number;
  readonly seqLen: number;
}

const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cn}]$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const WHITE_SPACE = /^\p{White_Space}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;
const UNICODE_PUNCTUATION = /^\p{P}$/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunctuation(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

/** Steps 1–4: clean, space out CJK, strip accents (NFD, drop Mn), lowercase per character. */
export function normalizeText(text: string): string {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\t' || ch === '\n' || ch === '\r' || ch === ' ' || SPACE_SEPARATOR.test(ch)) cleaned += ' ';
    else if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    else if (isCjk(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const stripped = cleaned.normalize('NFD').replace(NONSPACING_MARK, '');
  // Per character, not String#toLowerCase on the whole text: that applies the context-sensitive
  // Greek final-sigma rule, which the HF tokenizer (Rust char::to_lowercase) does not.
  let lowered = '';
  for (const ch of stripped) lowered += ch.toLowerCase();
  return lowered;
}

/** Step 5: split on Unicode White_Space, then make every punctuation character its own word. */
export function preTokenize(normalized: string): string[] {
  const words: string[] = [];
  let current = '';
  const flush = () => {
    if (current) words.push(current);
    current = '';
  };
  for (const ch of normalized) {
    if (WHITE_SPACE.test(ch)) flush();
    else if (isAsciiPunctuation(ch.codePointAt(0)!) || UNICODE_PUNCTUATION.test(ch)) {
      flush();
      words.push(ch);
    } else current += ch;
  }
  flush();
  return words;
}

export class WordPieceTokenizer {
  readonly maxLength: number;
  private readonly maxWordChars: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    opts: TokenizerOptions = {},
  ) {
    this.maxLength = opts.maxLength ?? 128;
    this.maxWordChars = opts.maxInputCharsPerWord ?? 100;
    if (this.maxLength < 2) throw new Error('maxLength must be at least 2');
    const id = (t: string) => {
      const v = vocab.get(t);
      if (v === undefined) throw new Error(`vocabulary has no ${t} token`);
      return v;
    };
    this.unkId = id('[UNK]');
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
    this.padId = id('[PAD]');
  }

  /** vocab.txt: one token per line, line i = id i. */
  static fromVocabText(text: string, opts: TokenizerOptions = {}): WordPieceTokenizer {
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    lines.forEach((line, i) => {
      const token = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (!vocab.has(token)) vocab.set(token, i);
    });
    return new WordPieceTokenizer(vocab, opts);
  }

  /** Step 6: greedy longest-match-first; a word with an unmatched position becomes one [UNK]. */
  wordPiece(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > this.maxWordChars) return [this.unkId];
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /** [CLS] word pieces (truncated to maxLength − 2) [SEP]. */
  encode(text: string): number[] {
    const pieces: number[] = [];
    const budget = this.maxLength - 2;
    for (const word of preTokenize(normalizeText(text))) {
      for (const id of this.wordPiece(word)) pieces.push(id);
      if (pieces.length >= budget) break;
    }
    return [this.clsId, ...pieces.slice(0, budget), this.sepId];
  }

  /** Step 8: a right-padded batch for the `input_ids` / `attention_mask` model inputs. */
  encodeBatch(texts: readonly string[]): EncodedBatch {
    const rows = texts.map((t) => this.encode(t));
    const seqLen = Math.max(2, ...rows.map((r) => r.length));
    const inputIds = new BigInt64Array(rows.length * seqLen);
    const attentionMask = new BigInt64Array(rows.length * seqLen);
    rows.forEach((row, i) => {
      row.forEach((id, j) => {
        inputIds[i * seqLen + j] = BigInt(id);
        attentionMask[i * seqLen + j] = 1n;
      });
      for (let j = row.length; j < seqLen; j++) inputIds[i * seqLen + j] = BigInt(this.padId);
    });
    return { inputIds, attentionMask, batch: rows.length, seqLen };
  }
}
