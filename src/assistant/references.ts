/**
 * What a customer message refers to, read from its words (pure): an order number ("order 4821",
 * "#4821"), an ordinal or contrast ("the first one", "the other one", "the latest"), and product
 * mentions matched against the names of the products in play ("the blender", "the Eco one").
 */

export type Ordinal = { readonly kind: 'index'; readonly index: number } | { readonly kind: 'other' } | { readonly kind: 'latest' } | { readonly kind: 'oldest' };

export interface References {
  readonly orderNumbers: readonly string[];
  readonly ordinal: Ordinal | null;
  /** "it", "this", "that one": the thing under discussion. */
  readonly pronoun: boolean;
  /** A short follow-up ("and the other one?", "what about the second?") that continues the last topic. */
  readonly followUp: boolean;
}

const ORDER_NUMBER = /(?:\border\s*(?:number|no\.?|num|nr|id)?\s*[:#]?\s*|#\s*)(\d{1,18})\b/gi;
const ORDINALS: readonly [RegExp, Ordinal][] = [
  [/\bother\b|\banother one\b/i, { kind: 'other' }],
  [/\b(?:first|1st|number (?:one|1))\b/i, { kind: 'index', index: 0 }],
  [/\b(?:second|2nd|number (?:two|2))\b/i, { kind: 'index', index: 1 }],
  [/\b(?:third|3rd|number (?:three|3))\b/i, { kind: 'index', index: 2 }],
  [/\b(?:latest|newest|most recent|last|recent one|new one)\b/i, { kind: 'latest' }],
  [/\b(?:oldest|older|earlier|previous)\b/i, { kind: 'oldest' }],
];
const PRONOUN = /\b(?:it|its|this|that|this one|that one|them|these|those)\b/i;
const FOLLOW_UP = /^\s*(?:and|what about|how about|also|ok(?:ay)?,?\s*and|then)\b/i;

export function readReferences(text: string): References {
  const orderNumbers = [...text.matchAll(ORDER_NUMBER)].map((m) => m[1]!.replace(/^0+(?=\d)/, ''));
  const ordinal = ORDINALS.find(([re]) => re.test(text))?.[1] ?? null;
  const words = text.trim().split(/\s+/).length;
  return { orderNumbers, ordinal, pronoun: PRONOUN.test(text), followUp: FOLLOW_UP.test(text) || (words <= 4 && ordinal !== null) };
}

const STOP = new Set([
  // English function words: "can I…" does not name the "watering can"
  'the', 'a', 'an', 'one', 'my', 'me', 'mine', 'i', 'you', 'your', 'we', 'our', 'it', 'its', 'this', 'that', 'these', 'those', 'them',
  'and', 'or', 'of', 'for', 'with', 'to', 'in', 'on', 'at', 'by', 'from', 'about', 'is', 'are', 'was', 'be', 'do', 'does', 'did', 'can',
  'could', 'will', 'would', 'should', 'have', 'has', 'had', 'get', 'got', 'what', 'where', 'when', 'how', 'which', 'why', 'who', 'please',
  'want', 'like', 'need', 'back', 'up', 'out', 'not', 'no', 'yes', 'any', 'some', 'still', 'now', 'just', 'order', 'orders', 'item', 'items',
  // ordinals and contrasts are references, not names ("the first one" is not the "first aid kit")
  'first', 'second', 'third', 'last', 'latest', 'newest', 'recent', 'older', 'oldest', 'other', 'new', 'number']);

/** Lower-case words of a text, accents stripped (so "Guará" matches "guara"). */
export function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1);
}

/**
 * The candidates whose names the text mentions best: each candidate scores the number of its
 * distinctive name words (words no other candidate's name has) found in the text; only the top
 * scorers with at least one such word are returned.
 */
export function mentioned<T>(text: string, candidates: readonly T[], nameOf: (c: T) => string): T[] {
  return mentionedWithHits(text, candidates, nameOf).items;
}

/** `mentioned`, with how many distinctive name words the winners share with the text. */
export function mentionedWithHits<T>(text: string, candidates: readonly T[], nameOf: (c: T) => string): { items: T[]; hits: number } {
  const said = new Set(words(text).flatMap((w) => [w, w.replace(/s$/, '')]));
  const nameWords = candidates.map((c) => new Set(words(nameOf(c)).filter((w) => !STOP.has(w))));
  const counts = new Map<string, number>();
  for (const ws of nameWords) for (const w of ws) counts.set(w, (counts.get(w) ?? 0) + 1);
  const scores = nameWords.map((ws) => [...ws].filter((w) => said.has(w) && (nameWords.length === 1 || counts.get(w)! < nameWords.length)).length);
  const best = Math.max(0, ...scores);
  return { items: best === 0 ? [] : candidates.filter((_, i) => scores[i] === best), hits: best };
}

/**
 * The text as the intent model should read it: order numbers become "my order" and the words of a
 * named product become "it", so "where is order #4435?" reads like "where is my order?" and
 * "how much is the Jade Lite webcam?" like "how much is it?" (names and numbers are not intents).
 */
export function maskEntities(text: string, productName: string | null): string {
  let out = text.replace(ORDER_NUMBER, ' my order ');
  if (productName) {
    const name = new Set(words(productName));
    const kept: string[] = [];
    let masked = false;
    for (const token of out.split(/\s+/)) {
      const w = words(token);
      if (w.length && w.every((x) => name.has(x))) {
        if (!masked) kept.push(/[?!.]$/.test(token) ? `it${token.slice(-1)}` : 'it');
        masked = true;
      } else kept.push(token);
    }
    out = kept.join(' ');
  }
  return out.replace(/\b(?:the|a|an)\s+it\b/gi, 'it').replace(/\s+/g, ' ').trim();
}
