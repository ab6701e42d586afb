/**
 * Pre-tokenization of byte-level BPE tokenizers (tokenizer.json): the Split / Digits / ByteLevel
 * pre-tokenizers, the GPT-2 byte <-> character table, and the translation of the tokenizers
 * library's (Oniguruma) regexes to JavaScript regexes with the `u` flag.
 */

/** GPT-2's pattern, used by ByteLevel when `use_regex` is true. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * Oniguruma -> JavaScript: `\s`/`\S` become Unicode White_Space (Oniguruma's meaning; JS's `\s`
 * differs on U+0085 and U+FEFF), and `(?i:...)` groups (no JS equivalent on Node 20) spell each
 * ASCII letter as `[xX]`. Possessive quantifiers and letters in classes inside `(?i:...)` are
 * refused with an error naming the construct.
 */
export function toJsRegex(pattern: string): RegExp {
  let out = '';
  let inClass = false;
  let prevQuantifier = false;
  const groups: boolean[] = []; // per open group: case-insensitive?
  const ci = () => groups.includes(true);
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    let quantifier = false;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if ((n === 'p' || n === 'P') && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i);
        out += pattern.slice(i, end + 1);
        i = end + 1;
      } else {
        out += n === 's' ? '\\p{White_Space}' : n === 'S' ? '\\P{White_Space}' : c + n;
        i += 2;
      }
    } else if (inClass) {
      if (c === ']') inClass = false;
      else if (ci() && /[A-Za-z]/.test(c)) throw new Error(`tokenizer regex: letters in a class inside (?i:...) are not supported: ${pattern}`);
      out += c;
      i += 1;
    } else if (c === '[') {
      inClass = true;
      out += c;
      i += 1;
      if (pattern[i] === '^') out += pattern[i++];
      if (pattern[i] === ']') out += '\\' + pattern[i++]; // a leading ] is a literal
    } else if (pattern.startsWith('(?i:', i)) {
      groups.push(true);
      out += '(?:';
      i += 4;
    } else if (c === '(') {
      groups.push(false);
      out += c;
      i += 1;
    } else if (c === ')') {
      groups.pop();
      out += c;
      i += 1;
      quantifier = false;
    } else if (c === '+' && prevQuantifier) {
      throw new Error(`tokenizer regex: possessive quantifiers are not supported: ${pattern}`);
    } else {
      quantifier = c === '+' || c === '*' || c === '?' || c === '}';
      out += ci() && /[A-Za-z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
      i += 1;
    }
    prevQuantifier = quantifier;
  }
  return new RegExp(out, 'gu');
}

/** Splits `text` into matches and the gaps between them, both kept (the "Isolated" behaviour). */
export function splitIsolated(text: string, re: RegExp): string[] {
  const pieces: string[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex += 1; // an empty match must not stall; it splits nothing
      continue;
    }
    if (m.index > last) pieces.push(text.slice(last, m.index));
    pieces.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

/** GPT-2's reversible map of the 256 byte values to printable characters. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return table;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

const utf8 = new TextEncoder();

export function byteLevel(text: string): string {
  let s = '';
  for (const b of utf8.encode(text)) s += BYTE_TO_CHAR[b]!;
  return s;
}

/** One pre-tokenizer step over the current pieces. */
export type PreTokenizer = (pieces: string[]) => string[];

interface PreTokenizerJson {
  readonly type: string;
  readonly pretokenizers?: readonly PreTokenizerJson[];
  readonly pattern?: { readonly Regex?: string; readonly String?: string };
  readonly behavior?: string;
  readonly invert?: boolean;
  readonly individual_digits?: boolean;
  readonly add_prefix_space?: boolean;
  readonly use_regex?: boolean;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pre-tokenizer chain of tokenizer.json; the last step maps pieces to byte-level strings. */
export function preTokenizers(json: unknown): PreTokenizer[] {
  const node = json as PreTokenizerJson | null;
  if (!node) throw new Error('tokenizer.json: no pre_tokenizer (a byte-level BPE tokenizer has a ByteLevel one)');
  if (node.type === 'Sequence') return (node.pretokenizers ?? []).flatMap((p) => preTokenizers(p));
  switch (node.type) {
    case 'Split': {
      if (node.behavior !== 'Isolated' || node.invert) throw new Error(`tokenizer.json: Split behavior ${node.behavior} (invert ${node.invert}) is not supported`);
      const src = node.pattern?.Regex ?? (node.pattern?.String !== undefined ? escapeRe(node.pattern.String) : undefined);
      if (src === undefined) throw new Error('tokenizer.json: Split without a pattern');
      const re = toJsRegex(src);
      return [(pieces) => pieces.flatMap((p) => splitIsolated(p, re))];
    }
    case 'Digits': {
      const re = node.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return [(pieces) => pieces.flatMap((p) => splitIsolated(p, re))];
    }
    case 'ByteLevel': {
      const re = node.use_regex === false ? null : toJsRegex(GPT2_PATTERN);
      const prefix = node.add_prefix_space === true;
      return [
        (pieces) =>
          pieces.flatMap((p) => {
            const s = prefix && !p.startsWith(' ') ? ' ' + p : p;
            return (re ? splitIsolated(s, re) : [s]).map(byteLevel);
          }),
      ];
    }
    default:
      throw new Error(`tokenizer.json: pre-tokenizer ${node.type} is not supported`);
  }
}
