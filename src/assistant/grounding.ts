/**
 * What a reply rests on, and the check that it states nothing else. Every turn returns the
 * grounding it used (orders, products, reviews, policy answers: the database rows, as fields);
 * `unsupportedFacts` lists the numbers, dates, ids and product names a reply states that no
 * grounding field holds. Template replies are built from the grounding and pass by construction
 * (tested); a generated reply that fails is replaced by the template.
 */
import type { HandoffReason } from './replies';

export type GroundingKind = 'ORDER' | 'PRODUCT' | 'REVIEW' | 'POLICY' | 'RECOMMENDATION';
export type FieldValue = string | number | boolean | null | readonly string[];

export interface GroundingData {
  readonly kind: GroundingKind;
  readonly id: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

export interface ActionData {
  readonly kind: string;
  readonly label: string;
  readonly payload: Readonly<Record<string, string | number>>;
}

/** What the assistant answers to one message (a stored turn holds it too). */
export interface AnswerData {
  readonly reply: string;
  readonly intent: string;
  readonly confidence: number;
  readonly grounding: readonly GroundingData[];
  readonly actions: readonly ActionData[];
  readonly handoff: boolean;
  readonly handoffReason: HandoffReason | null;
}

/** Dates (ISO) as one token, then numbers with their decimal or thousands separators. */
const FACT = /\d{4}-\d{2}-\d{2}|\d+(?:[.,]\d+)*/g;

/** Numbers (dates and ids included) and catalog product names in `reply` that the grounding does not hold. */
export function unsupportedFacts(reply: string, grounding: readonly GroundingData[], productNames: Iterable<string> = []): string[] {
  const strings: string[] = [];
  const numbers = new Set<number>();
  for (const g of grounding) {
    strings.push(g.id);
    for (const v of Object.values(g.fields)) {
      if (typeof v === 'number') numbers.add(round(v));
      else if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) strings.push(...(v as readonly string[]));
    }
  }
  // A grounding string's facts are its whole tokens: "2026-03-17" holds that date, not "20".
  const tokens = new Set<string>();
  for (const s of strings) {
    for (const m of s.match(FACT) ?? []) {
      tokens.add(m);
      if (!m.includes('-')) numbers.add(round(parse(m)));
    }
  }
  const bad: string[] = [];
  for (const m of reply.match(FACT) ?? []) {
    const ok = tokens.has(m) || (!m.includes('-') && numbers.has(round(parse(m))));
    if (!ok) bad.push(m);
  }
  const haystack = strings.join('\n').toLowerCase();
  const lower = reply.toLowerCase();
  for (const name of productNames) {
    const n = name.toLowerCase();
    if (n.length >= 4 && lower.includes(n) && !haystack.includes(n)) bad.push(name);
  }
  return bad;
}

function parse(s: string): number {
  // "1,299.90" and "1299,90": the last separator followed by 1-2 digits is the decimal point.
  const m = /^(.*)[.,](\d{1,2})$/.exec(s);
  return m ? Number(`${m[1]!.replace(/[.,]/g, '')}.${m[2]}`) : Number(s.replace(/[.,]/g, ''));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
