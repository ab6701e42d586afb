/**
 * Scripted multi-turn conversations over the demo data, run through GraphQL, and their scores:
 * intent accuracy per turn, reference resolution, grounding correctness (every stated number and
 * product name is in the grounding, and every grounded record equals the database, computed here
 * independently of the server's SQL), handoff precision/recall, and no other user's data.
 */
import type { DataSource } from 'typeorm';
import type { App } from '../../src/app';
import { unsupportedFacts } from '../../src/assistant/grounding';
import { gql } from '../helpers/app';
import type { PhraseSet } from './phrasings';

interface Order { id: string; placedAt: Date; items: { productId: string; name: string; quantity: number; price: number }[] }
interface Expect {
  readonly intent?: readonly string[];
  readonly order?: string;
  readonly clarify?: readonly string[];
  readonly product?: string;
  readonly policy?: string;
  /** Undefined: either is acceptable (not counted in handoff precision/recall). */
  readonly handoff?: boolean;
  readonly action?: { readonly kind: string; readonly orderId?: string };
  readonly noOrders?: boolean;
  /** Another user's order number: it must not be grounded or restated. */
  readonly notStated?: string;
}
interface Step { readonly text: string; readonly expect: Expect }
interface Script { readonly name: string; readonly userId: string; readonly steps: readonly Step[] }

interface Turn {
  reply: string; intent: { intent: string; confidence: number }; handoff: boolean; handoffReason: string | null;
  grounding: { kind: string; id: string; fields: Record<string, unknown> }[]; actions: { kind: string; payload: Record<string, unknown> }[];
}

export interface EvalReport {
  conversations: number;
  turns: number;
  intentAccuracy: number;
  referenceAccuracy: number;
  referenceTurns: number;
  groundingCorrect: number;
  handoffPrecision: number;
  handoffRecall: number;
  policyAccuracy: number;
  leaks: number;
  failures: string[];
}

class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s * 1103515245 + 12345) % 2147483648;
    return this.s / 2147483648;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

async function ordersByUser(ds: DataSource): Promise<Map<string, Order[]>> {
  const rows = await ds.query<{ id: string; user_id: string; session_id: string | null; occurred_at: Date; product_id: string; name: string; quantity: number; price: string }[]>(
    `SELECT e.id::text, e.user_id::text, e.session_id, e.occurred_at, e.product_id::text, p.name, e.quantity, e.price::text
       FROM events e JOIN products p ON p.id = e.product_id WHERE e.type = 'purchase' ORDER BY e.id`,
  );
  const groups = new Map<string, Order & { userId: string }>();
  for (const r of rows) {
    const key = `${r.user_id}|${r.session_id ?? `e${r.id}`}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: r.id, userId: r.user_id, placedAt: new Date(r.occurred_at), items: [] }));
    if (new Date(r.occurred_at) < g.placedAt) g.placedAt = new Date(r.occurred_at);
    g.items.push({ productId: r.product_id, name: r.name, quantity: r.quantity, price: Number(r.price) });
  }
  const out = new Map<string, Order[]>();
  for (const g of groups.values()) out.set(g.userId, [...(out.get(g.userId) ?? []), g]);
  for (const list of out.values()) list.sort((a, b) => b.placedAt.getTime() - a.placedAt.getTime() || Number(b.id) - Number(a.id));
  return out;
}

function recent(orders: readonly Order[]): Order[] {
  if (!orders.length) return [];
  const since = orders[0]!.placedAt.getTime() - 30 * 86_400_000;
  return orders.filter((o) => o.placedAt.getTime() >= since).slice(0, 3);
}

/** A word of the order's item names that the other order's names lack, or null. */
function distinctNoun(o: Order, other: Order): string | null {
  const ws = (x: Order) => x.items.flatMap((i) => i.name.toLowerCase().split(/\s+/));
  const others = new Set(ws(other));
  const own = o.items[0]!.name.split(/\s+/).reverse();
  return own.find((w) => w.length > 3 && !others.has(w.toLowerCase())) ?? null;
}

export async function buildScripts(ds: DataSource, p: PhraseSet, seed: number): Promise<{ scripts: Script[]; orders: Map<string, Order[]> }> {
  const rng = new Rng(seed);
  const orders = await ordersByUser(ds);
  const users = (await ds.query<{ id: string }[]>(`SELECT id::text FROM users ORDER BY id`)).map((u) => u.id);
  const two = users.filter((u) => recent(orders.get(u) ?? []).length === 2);
  const one = users.filter((u) => recent(orders.get(u) ?? []).length === 1 && orders.get(u)![0]!.items.length === 1);
  const none = users.filter((u) => !orders.has(u));
  const products = await ds.query<{ id: string; name: string }[]>(`SELECT id::text, name FROM products ORDER BY id`);
  const track = ['track_order', 'delivery_period'];
  const scripts: Script[] = [];

  for (const u of two) {
    const [a, b] = recent(orders.get(u)!) as [Order, Order];
    const choice = rng.next();
    let text: string;
    let chosen: Order;
    const noun = distinctNoun(b, a);
    if (choice < 0.25) [text, chosen] = [rng.pick(p.chooseFirst), a];
    else if (choice < 0.5) [text, chosen] = [rng.pick(p.chooseSecond), b];
    else if (choice < 0.7) [text, chosen] = [rng.pick(p.chooseLatest), a];
    else if (noun) [text, chosen] = [rng.pick(p.chooseByNoun).replace('{noun}', noun), b];
    else [text, chosen] = [`order #${b.id}`, b];
    const other = chosen === a ? b : a;
    const steps: Step[] = [
      { text: rng.pick(p.track), expect: { intent: track, clarify: [a.id, b.id], handoff: false } },
      { text, expect: { order: chosen.id, handoff: false, action: { kind: 'TRACK_ORDER', orderId: chosen.id } } },
      { text: rng.pick(p.other), expect: { order: other.id, handoff: false } },
      { text: rng.pick(p.returnIt), expect: { intent: ['get_refund', 'check_refund_policy'], order: other.id, handoff: false, action: { kind: 'START_RETURN', orderId: other.id } } },
    ];
    if (other.items.length === 1) steps.push({ text: rng.pick(p.similar), expect: { intent: ['similar_products'], product: other.items[0]!.productId, handoff: false } });
    scripts.push({ name: 'two-orders', userId: u, steps });
  }
  for (const u of one.slice(0, 60)) {
    const o = orders.get(u)![0]!;
    scripts.push({ name: 'one-order', userId: u, steps: [
      { text: rng.pick(p.track), expect: { intent: track, order: o.id, handoff: false } },
      { text: rng.pick(p.arrive), expect: { intent: ['delivery_period', 'track_order'], order: o.id, policy: 'delivery-time', handoff: false } },
      { text: rng.pick(p.stock), expect: { intent: ['product_info'], product: o.items[0]!.productId, handoff: false } },
    ] });
  }
  for (const u of none.slice(0, 30)) {
    const [q, key] = rng.pick(p.policy);
    scripts.push({ name: 'no-orders', userId: u, steps: [
      { text: rng.pick(p.track), expect: { intent: track, noOrders: true, handoff: false } },
      { text: q, expect: { policy: key, handoff: false } },
    ] });
  }
  for (let i = 0; i < 20; i++) {
    const [q1, k1] = rng.pick(p.policy);
    const [q2, k2] = rng.pick(p.policy);
    scripts.push({ name: 'policy', userId: rng.pick(users), steps: [{ text: q1, expect: { policy: k1, handoff: false } }, { text: q2, expect: { policy: k2, handoff: false } }] });
  }
  for (let i = 0; i < 24; i++) {
    const kind = i % 3;
    const u = rng.pick(two);
    const text = kind === 0 ? rng.pick(p.human) : kind === 1 ? rng.pick(p.outOfScope) : rng.pick(p.injection);
    scripts.push({ name: ['human', 'out-of-scope', 'injection'][kind]!, userId: u, steps: [
      { text, expect: { intent: kind === 0 ? ['contact_human_agent'] : kind === 1 ? ['out_of_scope'] : undefined, ...(kind === 2 ? {} : { handoff: true }) } },
    ] });
  }
  const withOrders = [...orders.keys()];
  for (let i = 0; i < 20; i++) {
    const u = rng.pick(two);
    const own = orders.get(u)![0]!;
    let stranger = rng.pick(withOrders);
    while (stranger === u) stranger = rng.pick(withOrders);
    const foreign = orders.get(stranger)![0]!;
    scripts.push({ name: 'order-number', userId: u, steps: [
      { text: rng.pick(p.orderNumber).replace('{id}', own.id), expect: { intent: track, order: own.id, handoff: false } },
      { text: rng.pick(p.orderNumber).replace('{id}', foreign.id), expect: { intent: track, handoff: false, notStated: foreign.id } },
    ] });
  }
  for (let i = 0; i < 20; i++) {
    const prod = rng.pick(products);
    scripts.push({ name: 'product-by-name', userId: rng.pick(users), steps: [
      { text: rng.pick(p.priceOf).replace('{name}', prod.name), expect: { intent: ['product_info'], product: prod.id, handoff: false } },
    ] });
  }
  return { scripts, orders };
}

export async function runEval(app: App, ds: DataSource, p: PhraseSet, seed = 1): Promise<EvalReport> {
  const { scripts, orders } = await buildScripts(ds, p, seed);
  const products = new Map((await ds.query<{ id: string; name: string; price: string; stock: number }[]>(`SELECT id::text, name, price::text, stock FROM products`)).map((r) => [r.id, r]));
  const policies = new Map((await ds.query<{ key: string; answer: string }[]>(`SELECT key, answer FROM policy_answers`)).map((r) => [r.key, r.answer]));
  const names = [...products.values()].map((x) => x.name);
  const s = { turns: 0, intentN: 0, intentOk: 0, refN: 0, refOk: 0, grounded: 0, tp: 0, fp: 0, fn: 0, polN: 0, polOk: 0, leaks: 0 };
  const failures: string[] = [];
  const fail = (sc: Script, i: number, why: string, t?: Turn) => {
    if (failures.length < 5000) failures.push(`${sc.name} user ${sc.userId} turn ${i + 1} "${sc.steps[i]!.text}": ${why}${t ? ` | intent ${t.intent.intent} ${t.intent.confidence.toFixed(2)} | reply: ${t.reply.slice(0, 140)}` : ''}`);
  };
  for (const sc of scripts) {
    const start = await gql(app, `mutation($u: ID!) { startConversation(input: { userId: $u, locale: "en" }) { id } }`, { u: sc.userId });
    if (!start.body.data) throw new Error(JSON.stringify(start.body.errors));
    const cid = start.body.data.startConversation.id as string;
    const own = new Map((orders.get(sc.userId) ?? []).map((o) => [o.id, o]));
    for (const [i, step] of sc.steps.entries()) {
      const r = await gql(app, `mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) {
        reply intent { intent confidence } handoff handoffReason grounding { kind id fields } actions { kind payload } } }`, { c: cid, t: step.text });
      if (!r.body.data) throw new Error(JSON.stringify(r.body.errors));
      const t = r.body.data.sendMessage as Turn;
      const e = step.expect;
      s.turns++;
      if (e.intent) {
        s.intentN++;
        if (e.intent.includes(t.intent.intent)) s.intentOk++;
        else fail(sc, i, `intent not in ${e.intent.join('|')}`, t);
      }
      const ordersGrounded = t.grounding.filter((g) => g.kind === 'ORDER');
      if (e.order || e.clarify || e.product) {
        s.refN++;
        const ok = e.clarify ? sameSet(ordersGrounded.map((g) => g.id), e.clarify) && !t.handoff
          : e.order ? ordersGrounded[0]?.id === e.order
          : t.grounding.find((g) => g.kind === 'PRODUCT')?.id === e.product;
        if (ok) s.refOk++;
        else fail(sc, i, `reference: want ${e.order ?? e.product ?? e.clarify?.join(',')}, grounded ${t.grounding.map((g) => `${g.kind}:${g.id}`).join(',')}`, t);
      }
      if (e.policy) {
        s.polN++;
        if (t.grounding.some((g) => g.kind === 'POLICY' && g.id === e.policy)) s.polOk++;
        else fail(sc, i, `policy: want ${e.policy}, grounded ${t.grounding.map((g) => `${g.kind}:${g.id}`).join(',')}`, t);
      }
      if (e.action && !t.actions.some((a) => a.kind === e.action!.kind && (!e.action!.orderId || a.payload.orderId === e.action!.orderId))) fail(sc, i, `action ${e.action.kind} missing`, t);
      if (e.noOrders && ordersGrounded.length) fail(sc, i, 'grounded an order for a user without orders', t);
      if (e.notStated && (t.reply.includes(e.notStated) || t.grounding.some((g) => g.id === e.notStated))) {
        s.leaks++;
        fail(sc, i, `another user's order ${e.notStated} restated or grounded`, t);
      }
      if (e.handoff === undefined) { /* injection: only what it reveals is scored */ }
      else if (e.handoff && t.handoff) s.tp++;
      else if (!e.handoff && t.handoff) { s.fp++; fail(sc, i, `unexpected handoff ${t.handoffReason}`, t); }
      else if (e.handoff && !t.handoff) { s.fn++; fail(sc, i, 'missed handoff', t); }
      // grounding correctness
      const problems = [...unsupportedFacts(t.reply, t.grounding.map((g) => ({ kind: g.kind as never, id: g.id, fields: g.fields as never })), names).map((f) => `unsupported "${f}"`)];
      for (const g of t.grounding) {
        if (g.kind === 'ORDER') {
          const o = own.get(g.id);
          if (!o) { s.leaks++; problems.push(`order ${g.id} is not this user's`); continue; }
          const total = Math.round(o.items.reduce((a, x) => a + x.quantity * x.price, 0) * 100) / 100;
          if (g.fields.total !== total || g.fields.placedOn !== o.placedAt.toISOString().slice(0, 10)) problems.push(`order ${g.id} fields differ`);
          if (JSON.stringify(g.fields.productIds) !== JSON.stringify(o.items.map((x) => x.productId))) problems.push(`order ${g.id} items differ`);
        } else if (g.kind === 'PRODUCT' || g.kind === 'RECOMMENDATION') {
          const p = products.get(g.id);
          if (!p || g.fields.name !== p.name) problems.push(`product ${g.id} name differs`);
          if (p && g.fields.price !== undefined && Number(g.fields.price) !== Number(p.price)) problems.push(`product ${g.id} price differs`);
          if (p && g.fields.stock !== undefined && g.fields.stock !== p.stock) problems.push(`product ${g.id} stock differs`);
        } else if (g.kind === 'POLICY' && policies.get(g.id) !== g.fields.answer) problems.push(`policy ${g.id} differs`);
      }
      if (problems.length === 0) s.grounded++;
      else fail(sc, i, `grounding: ${problems.join('; ')}`, t);
    }
  }
  return {
    conversations: scripts.length, turns: s.turns, intentAccuracy: s.intentOk / s.intentN, referenceAccuracy: s.refOk / s.refN, referenceTurns: s.refN,
    groundingCorrect: s.grounded / s.turns, handoffPrecision: s.tp / Math.max(1, s.tp + s.fp), handoffRecall: s.tp / Math.max(1, s.tp + s.fn),
    policyAccuracy: s.polOk / Math.max(1, s.polN), leaks: s.leaks, failures,
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
