/**
 * Conversations with the customer-service assistant: who may converse as whom (admins as anyone,
 * a frontend key only as its own user; the resolvers keep partners out), message validation,
 * idempotent sends, optimistic storage of each turn with the state it leads to, the admins'
 * conversation list and handoff queue, and turn labels that become INTENT training data.
 */
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { isNumericId } from '../db/query-filters';
import { DomainError, ErrorCode, IssueCollector, NotFoundError, ValidationError } from '../common/errors';
import { type Page, pageSize } from '../common/pagination';
import type { Logger } from '../common/logger';
import type { Assistant } from './assistant';
import type { ModelReplies, ReplyEvent } from './model-replies';
import { readState } from './dialogue-state';
import { type ConversationData, ConversationRepository, type ConversationStatus, type TurnData } from './conversation.repository';

/** Who is calling, as far as conversations care. */
export interface Caller {
  readonly role: 'admin' | 'frontend' | 'partner';
  readonly userId: string | null;
}

export const MAX_CLIENT_MESSAGE_ID = 100;
/** Longest message, characters (as classifyMessage). */
export const MAX_MESSAGE_LENGTH = 2000;
const LOCALE = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;
const INTENT = /^[a-z0-9_]{1,100}$/;
const ATTEMPTS = 3;
/** How often a subscriber waiting on another server's generation reads the turn again, ms. */
const WAIT_MS = 250;
/** How long a claim on writing a model reply holds (a generation's longest time, with room) and a waiter waits, ms. */
export const CLAIM_TTL_MS = 650_000;

export class ConversationService {
  readonly repo: ConversationRepository;
  private replies: ModelReplies | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly assistant: Assistant,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.repo = new ConversationRepository(ds);
  }

  async start(caller: Caller, userId: string, locale: string | null | undefined): Promise<ConversationData> {
    const issues = new IssueCollector();
    if (!isNumericId(userId)) issues.add('input.userId', 'must be a user id');
    const loc = locale ?? 'en';
    if (!LOCALE.test(loc)) issues.add('input.locale', 'must be a language tag such as en or pt-BR');
    issues.throwIfAny();
    if (caller.role !== 'admin' && caller.userId !== userId) {
      throw new DomainError(ErrorCode.FORBIDDEN, 'A frontend key may only start conversations as its own user');
    }
    const [u] = await this.ds.query<{ id: string }[]>(`SELECT id::text FROM users WHERE id = $1`, [userId]);
    if (!u) throw new NotFoundError('User', userId);
    return this.repo.create(userId, loc);
  }

  /** The conversation if the caller may see it; otherwise NOT_FOUND (existence is not revealed). */
  async get(caller: Caller, id: string): Promise<ConversationData> {
    const c = isNumericId(id) ? await this.repo.get(id) : null;
    if (!c || (caller.role !== 'admin' && c.userId !== caller.userId)) throw new NotFoundError('Conversation', id);
    return c;
  }

  async send(caller: Caller, conversationId: string, text: string, clientMessageId?: string | null): Promise<TurnData> {
    const issues = new IssueCollector();
    if (text.trim() === '') issues.add('text', 'must not be empty');
    else if (text.length > MAX_MESSAGE_LENGTH) issues.add('text', `must be at most ${MAX_MESSAGE_LENGTH} characters`);
    if (clientMessageId != null && (clientMessageId === '' || clientMessageId.length > MAX_CLIENT_MESSAGE_ID)) {
      issues.add('clientMessageId', `must have 1–${MAX_CLIENT_MESSAGE_ID} characters`);
    }
    issues.throwIfAny();
    let c = await this.get(caller, conversationId);
    if (c.status === 'closed') throw new DomainError(ErrorCode.CONFLICT, `Conversation ${c.id} is closed`);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (clientMessageId) {
        const stored = await this.repo.turnByClientId(c.id, clientMessageId);
        if (stored) return stored;
      }
      const r = await this.assistant.turn({ userId: c.userId, text: text.trim(), state: readState(c.state), locale: c.locale, now: this.clock() });
      const t = await this.repo.append(c, {
        clientMessageId: clientMessageId ?? null, text: text.trim(), reply: r.reply, replySource: 'template', intent: r.intent,
        confidence: r.confidence, grounding: r.grounding, actions: r.actions, handoff: r.handoff, handoffReason: r.handoffReason,
        modelVersion: r.modelVersion, lmStatus: this.replies && !r.handoff ? 'pending' : null,
      }, r.state);
      if (t) {
        if (t.handoff) this.logger.info({ conversationId: c.id, turnId: t.id, reason: t.handoffReason }, 'assistant handoff');
        return t;
      }
      c = await this.get(caller, conversationId); // another message landed first (or it was closed): answer against the new state
      if (c.status === 'closed') throw new DomainError(ErrorCode.CONFLICT, `Conversation ${c.id} is closed`);
    }
    throw new DomainError(ErrorCode.CONFLICT, `Conversation ${conversationId} is busy; send the message again`);
  }

  async list(filter: { status?: ConversationStatus | null; userId?: string | null }, first?: number | null, after?: string | null): Promise<Page<ConversationData>> {
    if (filter.userId != null && !isNumericId(filter.userId)) throw ValidationError.of('userId', 'must be a user id');
    return this.repo.list(filter, pageSize(first), after ?? null);
  }

  async setStatus(id: string, status: ConversationStatus): Promise<ConversationData> {
    // Only the assistant hands a conversation off (with its reason and time); admins take it back or close it.
    if (status === 'handoff') throw ValidationError.of('status', 'must be OPEN or CLOSED (the assistant hands conversations off)');
    const c = isNumericId(id) ? await this.repo.setStatus(id, status) : null;
    if (!c) throw new NotFoundError('Conversation', id);
    return c;
  }

  async label(turnId: string, intent: string): Promise<TurnData> {
    if (!INTENT.test(intent)) throw ValidationError.of('intent', 'must be an intent label: 1–100 lowercase letters, digits and _');
    const t0 = isNumericId(turnId) ? await this.repo.turn(turnId) : null;
    if (!t0) throw new NotFoundError('AssistantTurn', turnId);
    const t = await this.repo.label(turnId, intent, createHash('sha256').update(t0.text.trim()).digest());
    if (!t) throw new NotFoundError('AssistantTurn', turnId);
    return t;
  }

  /** The reply model, when configured (attached at start: it loads worker threads). */
  attachReplies(replies: ModelReplies | null): void {
    this.replies = replies;
  }

  /**
   * The reply of a turn as it is written: with a reply model, the first subscriber generates it
   * (streamed), later ones and other servers' subscribers wait for the reply that stands; without
   * one (or for a handoff), the stored reply at once.
   */
  async reply(caller: Caller, turnId: string, signal: AbortSignal): Promise<AsyncGenerator<ReplyEvent>> {
    // Checked before the stream starts, so a refusal is the subscription's error (NOT_FOUND), not a broken stream.
    const t0 = isNumericId(turnId) ? await this.repo.turn(turnId) : null;
    if (!t0) throw new NotFoundError('AssistantTurn', turnId);
    const c = await this.get(caller, t0.conversationId).catch((err: unknown) => {
      if (err instanceof NotFoundError) throw new NotFoundError('AssistantTurn', turnId);
      throw err;
    });
    return this.replyEvents(t0, c, signal);
  }

  private async *replyEvents(t0: TurnData, c: ConversationData, signal: AbortSignal): AsyncGenerator<ReplyEvent> {
    const turnId = t0.id;
    const replies = this.replies;
    const claimed = replies && t0.lmStatus ? await this.repo.claimModelReply(turnId) : null;
    if (replies && claimed) {
      const [history] = await this.repo.turnsOf([c.id], 8);
      let last: ReplyEvent | null = null;
      try {
        for await (const e of replies.write(claimed, history ?? [], c.locale, signal)) {
          last = e;
          if (e.done) await this.repo.finishModelReply(turnId, e.replySource === 'model' ? e.text : null, e.outcome ?? 'error');
          yield e;
        }
      } finally {
        if (!last?.done) {
          replies.counts.cancelled++;
          await this.repo.finishModelReply(turnId, null, 'cancelled').catch(() => undefined);
        }
      }
      return;
    }
    // Not ours to write (another subscriber or server has it, or it is written): read it as it is now.
    let t = replies && t0.lmStatus ? ((await this.repo.turn(turnId)) ?? t0) : t0;
    for (let waited = 0; t.lmStatus === 'generating'; waited += WAIT_MS) {
      if (signal.aborted || waited > CLAIM_TTL_MS) break;
      await new Promise((r) => setTimeout(r, WAIT_MS));
      t = (await this.repo.turn(turnId)) ?? t;
    }
    yield { delta: '', text: t.reply, done: true, replySource: t.replySource, outcome: null };
  }

  turns(conversationIds: readonly string[], limit: number): Promise<TurnData[][]> {
    return this.repo.turnsOf(conversationIds, limit);
  }
}
