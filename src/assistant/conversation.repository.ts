/**
 * Conversations and turns in Postgres. A turn is stored with the state it leads to in one short
 * transaction that advances the conversation's version only if nobody else did first (optimistic:
 * the reply is computed outside any transaction, which the embedded database needs); a client
 * message id makes a retried send return the stored turn.
 */
import type { DataSource } from 'typeorm';
import { updatedRows } from '../db/queryable';
import { decodeTimeIdCursor, type Page, toPage } from '../common/pagination';
import type { DialogueState } from './dialogue-state';
import type { AnswerData } from './grounding';
import type { HandoffReason } from './replies';

export type ConversationStatus = 'open' | 'handoff' | 'closed';

export interface ConversationData {
  readonly id: string;
  readonly userId: string;
  readonly locale: string;
  readonly status: ConversationStatus;
  readonly handoffReason: HandoffReason | null;
  readonly handoffAt: Date | null;
  readonly state: unknown;
  readonly version: number;
  readonly turnCount: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface TurnData extends AnswerData {
  readonly id: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly clientMessageId: string | null;
  readonly text: string;
  readonly replySource: string;
  readonly modelVersion: string | null;
  /** The template reply, when a model reply replaced it. */
  readonly templateReply: string | null;
  /** The reply model's part: null (no model), pending, generating, done (model reply) or fallback (template stands). */
  readonly lmStatus: 'pending' | 'generating' | 'done' | 'fallback' | null;
  readonly lmFinish: string | null;
  readonly label: string | null;
  readonly createdAt: Date;
}

export type NewTurn = Omit<TurnData, 'id' | 'seq' | 'createdAt' | 'label' | 'conversationId' | 'templateReply' | 'lmFinish'>;

/** A claim on writing a turn's model reply expires after this long (its server died mid-generation): longer than any generation may run (MERIDIAN_ASSISTANT_LM_TIMEOUT_MS ≤ 600 s). */
const CLAIM_TTL_S = 650;

const CONV = `id::text, user_id::text AS "userId", locale, status, handoff_reason AS "handoffReason", handoff_at AS "handoffAt",
  state, version, turn_count AS "turnCount", created_at AS "createdAt", updated_at AS "updatedAt"`;
const TURN = `id::text, conversation_id::text AS "conversationId", seq, client_message_id AS "clientMessageId", text, reply,
  reply_source AS "replySource", intent, confidence, grounding, actions, handoff, handoff_reason AS "handoffReason",
  model_version AS "modelVersion", template_reply AS "templateReply", lm_status AS "lmStatus", lm_finish AS "lmFinish", label, created_at AS "createdAt"`;

export class ConversationRepository {
  constructor(private readonly ds: DataSource) {}

  async create(userId: string, locale: string): Promise<ConversationData> {
    const [c] = await this.ds.query<ConversationData[]>(`INSERT INTO conversations (user_id, locale) VALUES ($1, $2) RETURNING ${CONV}`, [userId, locale]);
    return c!;
  }

  async get(id: string): Promise<ConversationData | null> {
    const [c] = await this.ds.query<ConversationData[]>(`SELECT ${CONV} FROM conversations WHERE id = $1`, [id]);
    return c ?? null;
  }

  async turnByClientId(conversationId: string, clientMessageId: string): Promise<TurnData | null> {
    const [t] = await this.ds.query<TurnData[]>(`SELECT ${TURN} FROM conversation_turns WHERE conversation_id = $1 AND client_message_id = $2`, [conversationId, clientMessageId]);
    return t ?? null;
  }

  async turn(id: string): Promise<TurnData | null> {
    const [t] = await this.ds.query<TurnData[]>(`SELECT ${TURN} FROM conversation_turns WHERE id = $1`, [id]);
    return t ?? null;
  }

  /** Turns of several conversations, in key order, oldest first (the newest `limit` of each). */
  async turnsOf(conversationIds: readonly string[], limit: number): Promise<TurnData[][]> {
    const rows = await this.ds.query<TurnData[]>(
      `SELECT ${TURN} FROM (SELECT t.*, row_number() OVER (PARTITION BY conversation_id ORDER BY seq DESC) AS rn
         FROM conversation_turns t WHERE conversation_id = ANY($1::bigint[])) x WHERE rn <= $2 ORDER BY conversation_id, seq`,
      [conversationIds, limit],
    );
    return conversationIds.map((id) => rows.filter((r) => r.conversationId === id));
  }

  /**
   * Stores a turn and the conversation's new state if the conversation is still at `version`; null
   * when another message got there first (or the client id was stored meanwhile).
   */
  async append(c: ConversationData, turn: NewTurn, state: DialogueState): Promise<TurnData | null> {
    return this.ds.transaction(async (em) => {
      const moved = updatedRows<{ id: string }>(await em.query(
        `UPDATE conversations SET version = version + 1, turn_count = turn_count + 1, state = $3, updated_at = now(),
           status = CASE WHEN $4 THEN 'handoff' ELSE status END,
           handoff_reason = CASE WHEN $4 THEN $5 ELSE handoff_reason END,
           handoff_at = CASE WHEN $4 AND status <> 'handoff' THEN now() ELSE handoff_at END
         WHERE id = $1 AND version = $2 AND status <> 'closed' RETURNING id`,
        [c.id, c.version, JSON.stringify(state), turn.handoff, turn.handoffReason],
      ));
      if (moved.length === 0) return null;
      const [t] = await em.query<TurnData[]>(
        `INSERT INTO conversation_turns (conversation_id, seq, client_message_id, text, reply, reply_source, intent, confidence,
           grounding, actions, handoff, handoff_reason, model_version, lm_status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (conversation_id, client_message_id) DO NOTHING RETURNING ${TURN}`,
        [c.id, c.turnCount + 1, turn.clientMessageId, turn.text, turn.reply, turn.replySource, turn.intent, turn.confidence,
          JSON.stringify(turn.grounding), JSON.stringify(turn.actions), turn.handoff, turn.handoffReason, turn.modelVersion, turn.lmStatus],
      );
      if (!t) throw new RetryTurn(); // the same client id landed meanwhile: roll the state back
      return t;
    }).catch((e: unknown) => {
      if (e instanceof RetryTurn) return null;
      throw e;
    });
  }

  /** Claims writing the model reply of a pending turn (or one whose claim expired); null when another holder has it or it is written. */
  async claimModelReply(turnId: string): Promise<TurnData | null> {
    const [t] = updatedRows<TurnData>(await this.ds.query(
      `UPDATE conversation_turns SET lm_status = 'generating', lm_claimed_at = now()
        WHERE id = $1 AND (lm_status = 'pending' OR (lm_status = 'generating' AND lm_claimed_at < now() - make_interval(secs => $2)))
        RETURNING ${TURN}`,
      [turnId, CLAIM_TTL_S],
    ));
    return t ?? null;
  }

  /** Ends a claimed model reply: the model's text replaces the reply (the template is kept aside), or the template stands. */
  async finishModelReply(turnId: string, modelReply: string | null, finish: string): Promise<void> {
    await this.ds.query(
      `UPDATE conversation_turns SET lm_finish = $3, lm_status = CASE WHEN $2::text IS NULL THEN 'fallback' ELSE 'done' END,
         template_reply = CASE WHEN $2::text IS NULL THEN template_reply ELSE reply END,
         reply = coalesce($2::text, reply), reply_source = CASE WHEN $2::text IS NULL THEN reply_source ELSE 'model' END
       WHERE id = $1 AND lm_status = 'generating'`,
      [turnId, modelReply, finish],
    );
  }

  /** Conversations, newest activity first (`handoff`: the handoff queue, oldest handoff first). */
  async list(filter: { status?: ConversationStatus | null; userId?: string | null }, limit: number, after: string | null): Promise<Page<ConversationData>> {
    const queue = filter.status === 'handoff';
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.userId) where.push(`user_id = $${params.push(filter.userId)}`);
    if (after) {
      // the cursor carries the sort time to the microsecond (as Postgres stores it), not a JS Date's millisecond
      const [t, id] = decodeTimeIdCursor(after);
      where.push(queue ? `(handoff_at, id) > ($${params.push(t)}::timestamptz, $${params.push(id)}::bigint)`
        : `(updated_at, id) < ($${params.push(t)}::timestamptz, $${params.push(id)}::bigint)`);
    }
    const rows = await this.ds.query<(ConversationData & { sortKey: string })[]>(
      `SELECT ${CONV}, to_char(${queue ? 'handoff_at' : 'updated_at'} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "sortKey"
         FROM conversations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ${queue ? 'handoff_at, id' : 'updated_at DESC, id DESC'} LIMIT $1`,
      params,
    );
    return toPage(rows.map(({ sortKey: _k, ...c }) => c), limit, (r) => [rows.find((x) => x.id === r.id)!.sortKey, r.id]);
  }

  async setStatus(id: string, status: ConversationStatus): Promise<ConversationData | null> {
    const [c] = updatedRows<ConversationData>(await this.ds.query(
      `UPDATE conversations SET status = $2, updated_at = now(), handoff_reason = CASE WHEN $2 = 'handoff' THEN handoff_reason END,
         handoff_at = CASE WHEN $2 = 'handoff' THEN handoff_at END WHERE id = $1 RETURNING ${CONV}`,
      [id, status],
    ));
    return c ?? null;
  }

  /** Labels a turn and stores its text as INTENT training data (labeled_messages), linked to the turn. */
  async label(turnId: string, intent: string, textSha256: Buffer): Promise<TurnData | null> {
    return this.ds.transaction(async (em) => {
      const [t] = updatedRows<TurnData>(await em.query(`UPDATE conversation_turns SET label = $2, labeled_at = now() WHERE id = $1 RETURNING ${TURN}`, [turnId, intent]));
      if (!t) return null;
      await em.query(
        `INSERT INTO labeled_messages (text_sha256, text, intent, source_turn_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (text_sha256) DO UPDATE SET intent = EXCLUDED.intent, updated_at = now()`,
        [textSha256, t.text.trim(), intent, t.id],
      );
      return t;
    });
  }
}

class RetryTurn extends Error {}
