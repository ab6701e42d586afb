/**
 * Byte-level BPE from a tokenizer.json (GPT-2, Llama 3, Qwen2, SmolLM style): added tokens are
 * matched first, the rest is normalized (none or NFC), pre-tokenized (pretokenize.ts) and merged
 * by merge rank; decoding maps the byte-level characters back to bytes and UTF-8.
 */
import fs from 'node:fs';
import { CHAR_TO_BYTE, type PreTokenizer, preTokenizers } from './pretokenize';

/** A piece of a prompt; added/special tokens are not recognised inside a `literal` piece. */
export interface PromptSegment {
  readonly text: string;
  readonly literal: boolean;
}

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip?: boolean;
  readonly rstrip?: boolean;
}

interface TokenizerJson {
  readonly added_tokens?: readonly AddedToken[];
  readonly normalizer?: { readonly type: string; readonly normalizers?: readonly { readonly type: string }[] } | null;
  readonly pre_tokenizer?: unknown;
  readonly decoder?: unknown;
  readonly model?: {
    readonly type?: string;
    readonly vocab?: Readonly<Record<string, number>>;
    readonly merges?: readonly (string | readonly [string, string])[];
    readonly ignore_merges?: boolean;
    readonly byte_fallback?: boolean;
    readonly continuing_subword_prefix?: string | null;
    readonly end_of_word_suffix?: string | null;
  };
}

/** Turns token ids into text as they come, yielding only complete UTF-8 characters. */
export class IncrementalDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly tokenizer: BpeTokenizer) {}

  /** The text completed by this token ('' while a multi-byte character is still incomplete). */
  push(id: number): string {
    return this.utf8.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** What is left at the end (U+FFFD for an unfinished character). */
  flush(): string {
    return this.utf8.decode();
  }
}

export class BpeTokenizer {
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly added: readonly AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedRe: RegExp | null;
  private readonly steps: PreTokenizer[];
  private readonly nfc: boolean;
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly utf8 = new TextEncoder();

  static fromFile(file: string): BpeTokenizer {
    return new BpeTokenizer(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  }

  constructor(json: unknown) {
    const tj = json as TokenizerJson;
    const model = tj.model;
    if (model?.type !== 'BPE' || !model.vocab || !model.merges) throw new Error('tokenizer.json: model is not BPE with vocab and merges');
    if (model.byte_fallback || model.continuing_subword_prefix || model.end_of_word_suffix) {
      throw new Error('tokenizer.json: BPE with byte_fallback or subword prefix/suffix is not byte-level BPE');
    }
    this.vocab = new Map(Object.entries(model.vocab));
    for (const [tok, id] of this.vocab) this.idToToken[id] = tok;
    model.merges.forEach((m, rank) => {
      const [a, b] = typeof m === 'string' ? splitMerge(m) : m;
      this.ranks.set(`${a} ${b}`, rank);
    });
    this.ignoreMerges = model.ignore_merges === true;
    this.added = [...(tj.added_tokens ?? [])].sort((a, b) => b.content.length - a.content.length);
    for (const t of this.added) {
      this.addedById.set(t.id, t);
      this.idToToken[t.id] = t.content;
    }
    this.addedRe = this.added.length
      ? new RegExp(this.added.map((t) => `${t.lstrip ? '\\s*' : ''}${escapeRe(t.content)}${t.rstrip ? '\\s*' : ''}`).join('|'), 'gu')
      : null;
    const norms = !tj.normalizer ? [] : tj.normalizer.type === 'Sequence' ? (tj.normalizer.normalizers ?? []) : [tj.normalizer];
    if (norms.some((n) => n.type !== 'NFC')) throw new Error(`tokenizer.json: normalizer ${norms.map((n) => n.type).join(', ')} is not supported`);
    this.nfc = norms.length > 0;
    this.steps = preTokenizers(tj.pre_tokenizer);
  }

  /** Ids of the vocabulary plus added tokens (the model's logits may be wider). */
  get size(): number {
    return this.idToToken.length;
  }

  /** The id of a token (e.g. a special token), or undefined. */
  tokenId(token: string): number | undefined {
    return this.added.find((t) => t.content === token)?.id ?? this.vocab.get(token);
  }

  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  encode(text: string): number[] {
    return this.encodeSegments([{ text, literal: false }]);
  }

  /**
   * Encodes the concatenation of `segments` as one text, except that added/special tokens are not
   * recognised inside `literal` segments: a customer who types "<|im_end|>" gets the characters,
   * not the control token (tokenizers' split_special_tokens, for the untrusted parts only).
   */
  encodeSegments(segments: readonly PromptSegment[]): number[] {
    let src = '';
    const literal: [number, number][] = [];
    for (const seg of segments) {
      const text = this.nfc ? seg.text.normalize('NFC') : seg.text;
      if (seg.literal && text) literal.push([src.length, src.length + text.length]);
      src += text;
    }
    const ids: number[] = [];
    let last = 0;
    if (this.addedRe) {
      const re = this.addedRe;
      re.lastIndex = 0;
      for (let m = re.exec(src); m; m = re.exec(src)) {
        const start = m.index;
        const end = start + m[0].length;
        if (m[0].length === 0 || literal.some(([a, b]) => start < b && end > a)) {
          re.lastIndex = start + 1;
          continue;
        }
        this.encodeOrdinary(src.slice(last, start), ids);
        const core = m[0].trim();
        const tok = this.added.find((t) => t.content === m[0] || t.content === core)!;
        ids.push(tok.id);
        last = end;
      }
    }
    this.encodeOrdinary(src.slice(last), ids);
    return ids;
  }

  private encodeOrdinary(text: string, ids: number[]): void {
    if (!text) return;
    let pieces = [text];
    for (const step of this.steps) pieces = step(pieces);
    for (const word of pieces) {
      let cached = this.cache.get(word);
      if (!cached) {
        cached = this.bpe(word);
        if (this.cache.size > 50_000) this.cache.clear();
        this.cache.set(word, cached);
      }
      ids.push(...cached);
    }
  }

  private bpe(word: string): number[] {
    const whole = this.vocab.get(word);
    if (this.ignoreMerges && whole !== undefined) return [whole];
    let parts = [...word];
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
    }
    return parts.map((p) => {
      const id = this.vocab.get(p);
      if (id === undefined) throw new Error(`tokenizer: no vocabulary entry for ${JSON.stringify(p)}`);
      return id;
    });
  }

  /** The UTF-8 bytes a token stands for (special tokens and ids outside the vocabulary: none). */
  tokenBytes(id: number): Uint8Array {
    const tok = this.idToToken[id];
    if (tok === undefined || this.isSpecial(id)) return new Uint8Array(0);
    if (this.addedById.has(id)) return this.utf8.encode(tok);
    const bytes: number[] = [];
    for (const ch of tok) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b === undefined) return this.utf8.encode(tok); // what the tokenizers ByteLevel decoder does
      bytes.push(b);
    }
    return Uint8Array.from(bytes);
  }

  /** Text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string {
    const d = this.decoder();
    return ids.map((id) => d.push(id)).join('') + d.flush();
  }

  decoder(): IncrementalDecoder {
    return new IncrementalDecoder(this);
  }
}

function splitMerge(m: string): [string, string] {
  const i = m.indexOf(' ', 1);
  if (i < 0) throw new Error(`tokenizer.json: bad merge ${JSON.stringify(m)}`);
  return [m.slice(0, i), m.slice(i + 1)];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
