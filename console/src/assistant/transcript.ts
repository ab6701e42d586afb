/**
 * The assistant's transcript, shared by the Assistant page (chat) and the Handoffs page (review):
 * each turn is the customer's message and the reply, with beside the reply what it rests on (its
 * grounding: orders, products, policy answers… as the server's fields), the actions it offers
 * (shown as buttons that only show their payload: the assistant changes nothing itself), the
 * intent with its confidence, and a handoff notice with its reason.
 */
import { formatPercent } from '../charts/format';
import { fmt, h } from '../dom';
import './assistant.css';

export interface Grounding {
  kind: string;
  id: string;
  fields: Record<string, unknown>;
}

export interface AssistantAction {
  kind: string;
  label: string;
  payload: Record<string, unknown>;
}

export interface Turn {
  id: string;
  seq: number;
  text: string;
  reply: string;
  replySource: string;
  intent: { intent: string; confidence: number };
  confidence: number;
  grounding: Grounding[];
  actions: AssistantAction[];
  handoff: boolean;
  handoffReason: string | null;
  modelVersion: string | null;
  label: string | null;
  createdAt: string;
}

export interface Conversation {
  id: string;
  userId: string;
  locale: string;
  replyLocale: string;
  status: 'OPEN' | 'HANDOFF' | 'CLOSED';
  handoffReason: string | null;
  handoffAt: string | null;
  turnCount: number;
  turns: Turn[];
}

/** Longest message the server takes (sendMessage), characters. */
export const MAX_MESSAGE = 2000;

/** Why a person takes over, in words (the HandoffReason enum). */
export const HANDOFF_REASONS: Readonly<Record<string, string>> = {
  REQUESTED: 'the customer asked for a person',
  OUT_OF_SCOPE: 'a request the shop does not handle',
  LOW_CONFIDENCE: 'the message was not understood',
  REPEATED_FAILURE: 'two answers in a row did not help',
  COMPLAINT: 'a complaint',
  NO_ANSWER: 'the shop has no answer to this question',
};

export function reasonText(reason: string | null): string {
  return reason ? `${HANDOFF_REASONS[reason] ?? reason.toLowerCase().replaceAll('_', ' ')} (${reason})` : 'no reason given';
}

/** "2026-12-05 18:12 UTC" */
export function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–';
}

const KIND_TITLE: Readonly<Record<string, string>> = { ORDER: 'Order', PRODUCT: 'Product', REVIEW: 'Review', POLICY: 'Policy answer', RECOMMENDATION: 'Recommended' };
/** Fields shown first, per kind; the rest follow in the server's order. */
const FIRST: Readonly<Record<string, readonly string[]>> = {
  ORDER: ['placedOn', 'items', 'total'],
  PRODUCT: ['name', 'price', 'stock'],
  RECOMMENDATION: ['name', 'price'],
  POLICY: ['question', 'similarity'],
};
/** Fields not repeated beside the reply: a policy's answer is the reply itself. */
const HIDDEN: Readonly<Record<string, readonly string[]>> = { POLICY: ['answer'] };
const LONG = 240;

function words(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return fmt(v);
  if (Array.isArray(v)) return v.map(value).join(', ');
  if (typeof v !== 'string') return JSON.stringify(v) ?? '–';
  const s = v;
  return s.length > LONG ? `${s.slice(0, LONG - 1)}…` : s;
}

/** One grounding record: its kind and id, then its fields. */
export function groundingCard(g: Grounding): HTMLElement {
  const hidden = new Set(HIDDEN[g.kind] ?? []);
  const names = Object.keys(g.fields).filter((k) => !hidden.has(k));
  const first = (FIRST[g.kind] ?? []).filter((k) => names.includes(k));
  const ordered = [...first, ...names.filter((k) => !first.includes(k))];
  const title = g.kind === 'ORDER' ? `Order #${g.id}` : `${KIND_TITLE[g.kind] ?? g.kind} ${g.id}`;
  return h('div', { class: 'ground', 'data-kind': g.kind, 'data-id': g.id },
    h('p', { class: 'ground-title' }, h('span', { class: 'ground-kind' }, g.kind), ' ', h('strong', {}, title)),
    ordered.length
      ? h('dl', {}, ...ordered.flatMap((k) => [h('dt', {}, words(k)), h('dd', { 'data-field': k }, value(g.fields[k]))]))
      : null,
  );
}

/** The actions a reply offers: buttons that show their payload (nothing is changed by the console). */
function actionsView(t: Turn): HTMLElement | null {
  if (!t.actions.length) return null;
  const out = h('p', { class: 'action-payload', id: `payload-${t.id}`, role: 'status' });
  const buttons = t.actions.map((a) => h('button', {
    type: 'button', class: 'action-chip', 'data-kind': a.kind, 'aria-describedby': `payload-${t.id}`,
    onclick: () => {
      out.replaceChildren(h('strong', {}, a.kind), ' ', h('code', {}, JSON.stringify(a.payload)),
        ' — for the shop\'s frontend to act on; the assistant changed nothing.');
    },
  }, a.label));
  return h('div', { class: 'actions' }, h('div', { class: 'action-list', role: 'group', 'aria-label': `Actions offered with reply ${t.seq}` }, ...buttons), out);
}

export function handoffNotice(reason: string | null, at?: string | null): HTMLElement {
  return h('p', { class: 'handoff-notice', 'data-reason': reason ?? '' },
    h('strong', {}, 'Handed to a person'), ` — reason: ${reasonText(reason)}${at ? `, since ${when(at)}` : ''}.`);
}

/** " · labelled x" (an admin's intent label), or nothing. */
export function labelText(label: string | null): (Node | string)[] {
  return label ? [' · labelled ', h('code', {}, label)] : [];
}

export interface TurnOptions {
  /** Who wrote the messages, as shown (the customer's own view says "You"). */
  customer: string;
  /** Extra controls under the reply (the admins' intent label). */
  extra?: (t: Turn) => HTMLElement | null;
}

/** One turn: the customer's bubble, then the reply with its intent, handoff and actions, and its grounding beside it. */
export function turnView(t: Turn, o: TurnOptions): HTMLElement {
  const meta = h('p', { class: 'turn-meta' },
    'intent ', h('code', { class: 'intent' }, t.intent.intent), ` · ${formatPercent(t.confidence)} confident`,
    h('span', { class: 'turn-label' }, ...labelText(t.label)),
    ` · ${when(t.createdAt)}`);
  const grounding = t.grounding.length
    ? h('div', { class: 'grounding', role: 'group', 'aria-label': `What reply ${t.seq} rests on` }, ...t.grounding.map(groundingCard))
    : h('div', { class: 'grounding none' }, h('p', { class: 'ground-none' }, 'No records: this reply states no facts from the shop\'s data.'));
  return h('div', { class: 'turn', 'data-turn-id': t.id, 'data-seq': t.seq, 'data-intent': t.intent.intent, 'data-handoff': String(t.handoff) },
    h('div', { class: 'bubble customer' }, h('span', { class: 'who' }, `${o.customer}: `), t.text),
    h('div', { class: 'reply-row' },
      h('div', { class: 'reply' },
        h('div', { class: 'bubble assistant' }, h('span', { class: 'who' }, 'Assistant: '), h('span', { class: 'reply-text' }, t.reply)),
        meta,
        t.handoff ? handoffNotice(t.handoffReason) : null,
        actionsView(t),
        o.extra?.(t) ?? null,
      ),
      grounding,
    ),
  );
}

/**
 * The transcript: a log region (polite, so a screen reader reads each new reply once). The turns
 * already there are put in before the region is attached, so opening a conversation announces nothing.
 */
export function transcriptLog(turns: readonly Turn[], o: TurnOptions, label = 'Conversation'): HTMLElement {
  return h('div', { id: 'transcript', class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': label },
    ...turns.map((t) => turnView(t, o)));
}
