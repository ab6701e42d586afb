/**
 * One assistant turn: understand the message (intent model with out-of-scope detection, catalog and
 * small-talk skills, references to orders and products), resolve what it is about against the
 * conversation's state and the user's own data, and answer from facts only, with the grounding and
 * the actions that fit, or hand the conversation to a person. Reads only the conversation's user's
 * orders: no path here can reach another user's data.
 */
import type { LabelScoreData, TextClassificationData, TextClassifierService } from '../nlp/text-classifier.service';
import type { DialogueState, Listed } from './dialogue-state';
import { FactReader, type Listing, listingGrounding, orderGrounding } from './facts';
import type { ActionData, AnswerData, GroundingData } from './grounding';
import type { OrderData, OrderReader } from './order.reader';
import type { PolicyAnswerService } from './policy-answer.service';
import { maskEntities, mentioned, mentionedWithHits, type References, readReferences } from './references';
import { type HandoffReason, type Templates, templatesFor } from './replies';
import { type Skill, type SkillMatch, SkillMatcher } from './skills';

export interface TurnResult extends AnswerData {
  readonly state: DialogueState;
  readonly modelVersion: string;
}

export interface TurnInput {
  readonly userId: string;
  readonly text: string;
  readonly state: DialogueState;
  readonly locale: string;
  readonly now: Date;
}

/** Operating points (tuned on the development phrasings in test/assistant, never on the evaluation set). */
export const THRESHOLDS = {
  /** Below this intent probability the message is not understood (handoff). */
  lowConfidence: 0.3,
  /** With an exemplar bank: a message this close (cosine) to a training message is in scope. */
  knownMin: 0.45,
  /** With an exemplar bank: the neighbours' vote's share in the intent reading (the head's is the rest). */
  neighborWeight: 0.5,
  /** A skill needs this similarity to its nearest example… */
  skillMin: 0.6,
  /** …and wins over a confident intent only above this one. */
  skillStrong: 0.75,
  /** Intent confidence under which a short follow-up ("and the other one?") continues the last intent. */
  followUp: 0.8,
  /** Policy answers this similar to the message are used. */
  policyMin: 0.4,
  /** A policy answer this similar answers even a message the intent model calls out of scope (the shop's own knowledge). */
  policyStrong: 0.5,
  /** Consecutive failures that hand the conversation off. */
  failures: 2,
};

const ORDER_ACTIONS: Readonly<Record<string, { kind: string; label: string }>> = {
  track_order: { kind: 'TRACK_ORDER', label: 'Track order' },
  delivery_period: { kind: 'TRACK_ORDER', label: 'Track order' },
  cancel_order: { kind: 'CANCEL_ORDER', label: 'Request cancellation' },
  change_order: { kind: 'CHANGE_ORDER', label: 'Change order' },
  change_shipping_address: { kind: 'CHANGE_SHIPPING_ADDRESS', label: 'Change delivery address' },
  get_refund: { kind: 'START_RETURN', label: 'Start a return' },
  check_refund_policy: { kind: 'START_RETURN', label: 'Start a return' },
  track_refund: { kind: 'TRACK_REFUND', label: 'Follow refund' },
  get_invoice: { kind: 'DOWNLOAD_INVOICE', label: 'Download invoice' },
  check_invoice: { kind: 'DOWNLOAD_INVOICE', label: 'Download invoice' },
  review: { kind: 'WRITE_REVIEW', label: 'Write a review' },
};
/** Intents always about one order: without one in the message or the state, the assistant asks which. */
const ORDER_INTENTS = new Set(['track_order', 'track_refund']);
/** Intents about an order when the message speaks of one ("cancel my order", "when will it arrive?"), else a policy question. */
const ORDER_IF_REFERRED = new Set(['delivery_period', 'cancel_order', 'change_order', 'change_shipping_address', 'get_refund', 'get_invoice',
  'check_invoice', 'check_refund_policy', 'review']);
const ABOUT_AN_ORDER = /\b(?:my|mine|order|orders|package|parcel|purchase|bought|it|this|that|them)\b/i;
const HANDOFF_INTENTS: Readonly<Record<string, HandoffReason>> = { contact_human_agent: 'REQUESTED', complaint: 'COMPLAINT' };
const PRODUCT_SKILLS: ReadonlySet<Skill> = new Set(['product_info', 'similar_products']);
const RECENT_DAYS = 30;
const RECENT_MAX = 3;
const LIST_K = 3;

/** The intent reading the dialogue acts on. */
interface Reading {
  readonly label: string;
  readonly confidence: number;
  readonly outOfScope: boolean;
}

interface Understood {
  readonly cls: Reading;
  readonly vector: Float32Array;
  readonly modelVersion: string;
  readonly refs: References;
  readonly skill: SkillMatch;
  /** A catalog product the message names, if any. */
  readonly named: boolean;
  /** Catalog products whose names the message shares words with, best first (read once per turn). */
  readonly byName: readonly (Listing & { hits: number })[];
}

export class Assistant {
  private readonly skills: SkillMatcher;

  constructor(
    private readonly text: TextClassifierService,
    private readonly orders: OrderReader,
    private readonly policies: PolicyAnswerService,
    private readonly facts: FactReader,
  ) {
    this.skills = new SkillMatcher(text);
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    const byName = await this.facts.byName(input.text);
    const named = byName[0];
    const { classes, embeddings, neighbors, modelVersion } = await this.text.intentsWithEmbeddings([maskEntities(input.text, named?.name ?? null)]);
    const u: Understood = {
      cls: reading(classes[0]!, neighbors[0] ?? null), vector: embeddings[0]!, modelVersion, refs: readReferences(input.text),
      skill: await this.skills.match(embeddings[0]!, modelVersion), named: named !== undefined, byName,
    };
    return new Turn(this, input, u, templatesFor(input.locale).t).run();
  }

  /** @internal used by Turn */
  get deps() {
    return { orders: this.orders, policies: this.policies, facts: this.facts };
  }
}

/** The decision for one message; every branch ends in `answer`, `ask` or `handoff`. */
class Turn {
  private allOrders: OrderData[] | null = null;
  private confidence: number;

  constructor(
    private readonly a: Assistant,
    private readonly input: TurnInput,
    private readonly u: Understood,
    private readonly t: Templates,
  ) {
    this.confidence = u.cls.confidence;
  }

  async run(): Promise<TurnResult> {
    const { cls, refs, skill } = this.u;
    const s = this.input.state;
    if (s.pending) {
      const chosen = await this.resolvePending(s.pending.orderIds);
      if (chosen) {
        // the answer to "which order?" continues the question's intent, with the confidence it was asked with
        this.confidence = s.pending.confidence ?? this.confidence;
        return this.orderAnswer(s.pending.intent, chosen);
      }
    }
    // A skill wins over an unsure reading (for the shop's own tracking phrasings: any reading short of sure).
    const unsure = cls.outOfScope || cls.confidence < (skill.skill === 'track_order' ? THRESHOLDS.followUp : THRESHOLDS.lowConfidence);
    const skillWins = skill.similarity >= THRESHOLDS.skillMin && (unsure || skill.similarity >= THRESHOLDS.skillStrong);
    if (skillWins) return this.skillAnswer(skill.skill);
    // A message naming a catalog product that says nothing else the model understands asks about it.
    if (this.u.named && (cls.outOfScope || cls.confidence < THRESHOLDS.lowConfidence)) return this.skillAnswer(PRODUCT_SKILLS.has(skill.skill) ? skill.skill : 'product_info');
    const continues = s.lastIntent !== null && (refs.followUp || refs.ordinal !== null || refs.orderNumbers.length > 0)
      && (cls.outOfScope || cls.confidence < THRESHOLDS.followUp);
    if (continues) return this.byIntent(s.lastIntent, true);
    if (s.pending && (cls.outOfScope || cls.confidence < THRESHOLDS.followUp || cls.label === s.pending.intent)) {
      return this.fail(s.pending.intent, () => this.askOrder(s.pending!.intent, this.pool(s.pending!.orderIds), true));
    }
    if (cls.outOfScope || cls.confidence < THRESHOLDS.lowConfidence) {
      // The shop's own answers extend what the intent model knows: a close policy answer stands in
      // for the intent it serves ("can I return it?" → the returns policy → a return of the order in focus).
      const p = await this.policy(null);
      if (p && p.similarity >= THRESHOLDS.policyStrong) {
        return p.intent ? this.byIntent(p.intent, false, p.similarity) : this.answer(cls.label, p.answer, [p.grounding], [], { pending: null });
      }
      return this.handoff(cls.outOfScope ? 'OUT_OF_SCOPE' : 'LOW_CONFIDENCE');
    }
    return this.byIntent(cls.label, false);
  }

  /** `confidence`: when the intent comes from a policy answer's similarity rather than the model. */
  private async byIntent(intent: string, followUp: boolean, confidence?: number): Promise<TurnResult> {
    if (confidence !== undefined) this.confidence = confidence;
    if (isSkill(intent)) return this.skillAnswer(intent);
    const reason = HANDOFF_INTENTS[intent];
    if (reason) return this.handoff(reason, intent);
    const { refs } = this.u;
    const referred = followUp || refs.ordinal !== null || refs.orderNumbers.length > 0 || ABOUT_AN_ORDER.test(this.input.text);
    if (ORDER_INTENTS.has(intent) || (ORDER_IF_REFERRED.has(intent) && referred)) return this.orderFlow(intent);
    return this.policyAnswer(intent);
  }

  // ------------------------------------------------------------------ orders

  private async orderList(): Promise<OrderData[]> {
    this.allOrders ??= await this.a.deps.orders.recent(this.input.userId, this.input.now);
    return this.allOrders;
  }

  private pool(ids: readonly string[]): OrderData[] {
    return ids.map((id) => this.allOrders?.find((o) => o.id === id)).filter((o): o is OrderData => o !== undefined);
  }

  /** The orders "my order" may mean: the newest and those placed within RECENT_DAYS before it (at most RECENT_MAX). */
  private recent(all: readonly OrderData[]): OrderData[] {
    if (!all.length) return [];
    const since = all[0]!.placedAt.getTime() - RECENT_DAYS * 86_400_000;
    return all.filter((o) => o.placedAt.getTime() >= since).slice(0, RECENT_MAX);
  }

  /** The order a reply to "which one?" picks among `ids`, or null. */
  private async resolvePending(ids: readonly string[]): Promise<OrderData | null> {
    const all = await this.orderList();
    const options = this.pool(ids);
    return pick(this.input.text, this.u.refs, options, all, this.input.state.orderId);
  }

  private async orderFlow(intent: string): Promise<TurnResult> {
    const all = await this.orderList();
    const { refs } = this.u;
    const s = this.input.state;
    if (refs.orderNumbers.length) {
      const o = all.find((x) => refs.orderNumbers.includes(x.id));
      if (o) return this.orderAnswer(intent, o);
      return this.fail(intent, () => this.ask(this.t.unknownOrderNumber(), intent, this.recent(all), true));
    }
    const listed = s.listed?.kind === 'order' ? this.pool(s.listed.ids) : [];
    const pool = listed.length > 1 ? listed : this.recent(all);
    const chosen = pick(this.input.text, refs, pool, all, s.orderId);
    if (chosen) return this.orderAnswer(intent, chosen, pool);
    const current = s.orderId ? all.find((o) => o.id === s.orderId) : undefined;
    if (current) return this.orderAnswer(intent, current, pool);
    if (all.length === 0) {
      const p = ORDER_INTENTS.has(intent) ? null : await this.policy(intent);
      return p ? this.answer(intent, p.answer, [p.grounding], [], { pending: null }) : this.answer(intent, this.t.noOrders(), [], [], { orderId: null, pending: null });
    }
    const recent = this.recent(all);
    if (recent.length === 1) return this.orderAnswer(intent, recent[0]!, recent);
    return this.askOrder(intent, recent);
  }

  /** Asks which order; `failed` when it asks again because the last answer did not say. */
  private askOrder(intent: string, options: readonly OrderData[], failed = false): TurnResult {
    return this.ask(this.t.chooseOrder(options), intent, options, failed);
  }

  private ask(reply: string, intent: string, options: readonly OrderData[], failed: boolean): TurnResult {
    return this.answer(intent, reply, options.map(orderGrounding),
      options.map((o) => ({ kind: 'CHOOSE_ORDER', label: `Order #${o.id}`, payload: { orderId: o.id } })),
      { pending: { intent, confidence: this.confidence, orderIds: options.map((o) => o.id) }, listed: { kind: 'order', ids: options.map((o) => o.id) } }, failed);
  }

  private async orderAnswer(intent: string, o: OrderData, pool: readonly OrderData[] = []): Promise<TurnResult> {
    const grounding: GroundingData[] = [orderGrounding(o)];
    let reply = intent === 'track_order' ? this.t.orderStatus(o) : intent === 'delivery_period' ? this.t.orderSummary(o) : this.t.orderAction(intent, o);
    if (intent === 'delivery_period' && o.shipment) reply += ` ${this.t.delivery(o)}`;
    // the shop's general answer, unless the order's own delivery data already answers "where / when"
    const policy = (intent === 'track_order' || intent === 'delivery_period') && o.shipment ? null : await this.policy(intent);
    if (policy) {
      reply += ` ${policy.answer}`;
      grounding.push(policy.grounding);
    } else if (intent === 'delivery_period' && !o.shipment) reply += ` ${this.t.noDeliveryData()}`;
    const item = o.items.length === 1 ? o.items[0]! : mentioned(this.input.text, o.items, (i) => i.name)[0];
    const act = ORDER_ACTIONS[intent];
    const payload: Record<string, string> = { orderId: o.id, ...(item ? { productId: item.productId } : {}) };
    const actions = act ? [{ kind: act.kind, label: `${act.label} #${o.id}`, payload }] : [];
    const ids = new Set(pool.map((p) => p.id));
    const listed: Listed | null = ids.has(o.id) && pool.length > 1 ? { kind: 'order', ids: pool.map((p) => p.id) } : this.input.state.listed;
    return this.answer(intent, reply, grounding, actions, { orderId: o.id, productId: item?.productId ?? o.items[0]?.productId ?? null, pending: null, listed });
  }

  // ------------------------------------------------------------------ policies

  private async policy(intent: string | null): Promise<{ answer: string; similarity: number; intent: string | null; grounding: GroundingData } | null> {
    const [best] = await this.a.deps.policies.match(this.u.vector, this.u.modelVersion, intent, 1);
    // an answer the admins tagged with the message's intent serves it however it is worded
    if (!best || (best.similarity < THRESHOLDS.policyMin && !(intent && best.policy.intent === intent))) return null;
    const p = best.policy;
    return {
      answer: p.answer, similarity: best.similarity, intent: p.intent,
      grounding: { kind: 'POLICY', id: p.key, fields: { question: p.question, answer: p.answer, similarity: Math.round(best.similarity * 1000) / 1000 } },
    };
  }

  private async policyAnswer(intent: string): Promise<TurnResult> {
    const p = await this.policy(intent);
    if (!p) return this.handoff('NO_ANSWER', intent);
    return this.answer(intent, p.answer, [p.grounding], [], { pending: null });
  }

  // ------------------------------------------------------------------ catalog skills

  private async skillAnswer(skill: Skill): Promise<TurnResult> {
    switch (skill) {
      case 'greeting': return this.answer(skill, this.t.greeting(), [], [], { pending: null }, false, skillConfidence(this.u.skill));
      case 'thanks': return this.answer(skill, this.t.thanks(), [], [], { pending: null }, false, skillConfidence(this.u.skill));
      // "anything like it?" is about the product in focus, however close it reads to "recommend me something"
      case 'recommend': return this.u.refs.pronoun && (this.input.state.productId || this.input.state.orderId) ? this.similar() : this.recommend();
      case 'similar_products': return this.similar();
      case 'product_info': return this.productInfo();
      case 'track_order': return this.byIntent('track_order', false, skillConfidence(this.u.skill));
    }
  }

  /** The product a message is about: listed, in the order under discussion, in the user's orders, in the catalog by name, or the one in focus. */
  private async product(): Promise<string | null> {
    const s = this.input.state;
    const { refs } = this.u;
    const text = this.input.text;
    if (s.listed?.kind === 'product') {
      const names = await this.a.deps.facts.names(s.listed.ids);
      const listed = s.listed.ids.filter((id) => names.has(id)).map((id) => ({ id, name: names.get(id)! }));
      const byName = mentioned(text, listed, (l) => l.name);
      if (byName.length === 1) return byName[0]!.id;
      if (refs.ordinal?.kind === 'index' && listed[refs.ordinal.index]) return listed[refs.ordinal.index]!.id;
    }
    // The user's own items and the catalog by name: the one sharing more name words wins (ties: the user's).
    const all = await this.orderList();
    const own = mentionedWithHits(text, all.flatMap((o) => o.items), (i) => i.name);
    const ownId = new Set(own.items.map((i) => i.productId)).size === 1 ? own.items[0]!.productId : null;
    const [catalog] = this.u.byName;
    if (catalog && (!ownId || catalog.hits > own.hits)) return catalog.id;
    if (ownId) return ownId;
    if (s.productId) return s.productId;
    const current = s.orderId ? all.find((o) => o.id === s.orderId) : undefined;
    return current?.items[0]?.productId ?? null;
  }

  private async productInfo(): Promise<TurnResult> {
    const id = await this.product();
    const found = id ? await this.a.deps.facts.product(id) : null;
    if (!found) return this.fail('product_info', () => this.answer('product_info', this.t.whichProduct(), [], [], {}, true));
    const actions = [{ kind: 'VIEW_PRODUCT', label: `View ${found.facts.name}`, payload: { productId: id! } }];
    return this.answer('product_info', this.t.productFacts(found.facts), found.grounding, actions, { productId: id, pending: null }, false, skillConfidence(this.u.skill));
  }

  private async similar(): Promise<TurnResult> {
    const id = await this.product();
    if (!id) return this.recommend();
    const [base] = (await this.a.deps.facts.names([id])).values();
    const items = await this.a.deps.facts.similar(id, LIST_K);
    const baseName = base ?? '';
    const reply = items.length ? this.t.similar(baseName, items) : this.t.noSimilar(baseName);
    const grounding = [{ kind: 'PRODUCT' as const, id, fields: { name: baseName } }, ...items.map((l) => listingGrounding('PRODUCT', l))];
    return this.answer('similar_products', reply, grounding, viewActions(items), {
      productId: id, pending: null, listed: items.length ? { kind: 'product', ids: items.map((i) => i.id) } : this.input.state.listed,
    }, false, skillConfidence(this.u.skill));
  }

  private async recommend(): Promise<TurnResult> {
    const items = await this.a.deps.facts.recommended(this.input.userId, LIST_K);
    if (!items.length) return this.handoff('NO_ANSWER', 'recommend');
    return this.answer('recommend', this.t.recommended(items), items.map((l) => listingGrounding('RECOMMENDATION', l)), viewActions(items),
      { pending: null, listed: { kind: 'product', ids: items.map((i) => i.id) } }, false, skillConfidence(this.u.skill));
  }

  // ------------------------------------------------------------------ endings

  /** A failure (unresolved reference, unknown order, unknown product): the fallback reply, or a handoff when failures repeat. */
  private fail(intent: string, reply: () => TurnResult): TurnResult {
    if (this.input.state.failures + 1 >= THRESHOLDS.failures) return this.handoff('REPEATED_FAILURE', intent);
    return reply();
  }

  private handoff(reason: HandoffReason, intent = this.u.cls.label): TurnResult {
    const r = this.answer(intent, this.t.handoff(reason), [], [{ kind: 'CONTACT_AGENT', label: 'Talk to a person', payload: {} }], { pending: null });
    return { ...r, handoff: true, handoffReason: reason, state: { ...r.state, failures: 0 } };
  }

  private answer(intent: string, reply: string, grounding: readonly GroundingData[], actions: readonly ActionData[],
    change: Partial<DialogueState>, failed = false, confidence = this.confidence): TurnResult {
    const s = this.input.state;
    return {
      reply, intent, confidence, grounding, actions, handoff: false, handoffReason: null, modelVersion: this.u.modelVersion,
      state: { ...s, ...change, lastIntent: intent, failures: failed ? s.failures + 1 : 0 },
    };
  }
}

/**
 * The intent model's reading of a message, for a dialogue: with an exemplar bank, a message is in
 * scope when it is close enough to some training message (THRESHOLDS.knownMin, the assistant's own
 * operating point: the trainer's validation threshold is chosen on template-like messages and is
 * strict on natural wording), and its intent is the head's and the neighbours' averaged vote.
 * Without one, the model's own out-of-scope rule.
 */
function reading(cls: TextClassificationData, nb: { knownScore: number; scores: readonly LabelScoreData[] } | null): Reading {
  if (!nb) return { label: cls.label, confidence: cls.confidence, outOfScope: cls.outOfScope };
  const vote = new Map(nb.scores.map((x) => [x.label, x.probability]));
  const best = cls.scores
    .map((x) => ({ label: x.label, p: (1 - THRESHOLDS.neighborWeight) * x.probability + THRESHOLDS.neighborWeight * (vote.get(x.label) ?? 0) }))
    .reduce((a, b) => (b.p > a.p ? b : a));
  const outOfScope = nb.knownScore < THRESHOLDS.knownMin;
  return { label: outOfScope ? (cls.outOfScope ? cls.label : 'out_of_scope') : best.label, confidence: best.p, outOfScope };
}

/** The order among `options` the message picks (number, product name, ordinal, "the other one"), or null. */
function pick(text: string, refs: References, options: readonly OrderData[], all: readonly OrderData[], current: string | null): OrderData | null {
  const byNumber = all.find((o) => refs.orderNumbers.includes(o.id) && options.some((x) => x.id === o.id));
  if (byNumber) return byNumber;
  const named = mentioned(text, options, (o) => o.items.map((i) => i.name).join(' '));
  if (named.length === 1) return named[0]!;
  const ord = refs.ordinal;
  if (!ord) return null;
  if (ord.kind === 'index') return options[ord.index] ?? null;
  const byTime = [...options].sort((a, b) => b.placedAt.getTime() - a.placedAt.getTime());
  if (ord.kind === 'latest') return byTime[0] ?? null;
  if (ord.kind === 'oldest') return byTime[byTime.length - 1] ?? null;
  const others = options.filter((o) => o.id !== current);
  if (others.length) return others[0]!;
  return all.find((o) => o.id !== current) ?? null;
}

function isSkill(intent: string): intent is Skill {
  return ['similar_products', 'recommend', 'product_info', 'greeting', 'thanks'].includes(intent);
}


function skillConfidence(m: SkillMatch): number {
  return Math.max(0, Math.min(1, m.similarity));
}

function viewActions(items: readonly Listing[]): ActionData[] {
  return items.map((i) => ({ kind: 'VIEW_PRODUCT', label: `View ${i.name}`, payload: { productId: i.id } }));
}
