/**
 * Intent-labelled customer messages: the platform's own training data for INTENT fine-tuning.
 * A batch is validated whole, then written by one statement (all or nothing). A text is stored
 * once (keyed by its sha256): re-sending it changes nothing, sending it with another intent
 * re-labels it.
 */
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { IssueCollector } from '../common/errors';

export interface LabeledMessageInputData {
  readonly text: string;
  readonly intent: string;
}

export interface LabelResultData {
  /** Texts stored for the first time. */
  readonly inserted: number;
  /** Stored texts whose intent changed. */
  readonly relabeled: number;
  /** Texts already stored with the same intent (retries), and repeats within the batch. */
  readonly unchanged: number;
}

export interface IntentCountData {
  readonly intent: string;
  readonly count: number;
}

export const MAX_MESSAGE_LENGTH = 2000;
export const MAX_INTENT_LENGTH = 100;
const INTENT_PATTERN = /^[\p{L}\p{N}_.:/ -]+$/u;

export class LabeledMessageService {
  constructor(
    private readonly ds: DataSource,
    private readonly maxBatch: number,
  ) {}

  async label(messages: readonly LabeledMessageInputData[]): Promise<LabelResultData> {
    const issues = new IssueCollector();
    if (messages.length === 0) issues.add('messages', 'must hold at least one message');
    if (messages.length > this.maxBatch) issues.add('messages', `at most ${this.maxBatch} messages per call`);
    const byHash = new Map<string, { text: string; intent: string }>();
    messages.forEach((m, i) => {
      const text = m.text.trim();
      const intent = m.intent.trim();
      if (text.length === 0) issues.add(`messages[${i}].text`, 'must not be blank');
      else if (text.length > MAX_MESSAGE_LENGTH) issues.add(`messages[${i}].text`, `at most ${MAX_MESSAGE_LENGTH} characters`);
      if (intent.length === 0 || intent.length > MAX_INTENT_LENGTH) issues.add(`messages[${i}].intent`, `must have 1–${MAX_INTENT_LENGTH} characters`);
      else if (!INTENT_PATTERN.test(intent)) issues.add(`messages[${i}].intent`, 'letters, digits, spaces and _ . : / - only');
      // the last label of a text within one batch wins
      byHash.set(createHash('sha256').update(text).digest('hex'), { text, intent });
    });
    issues.throwIfAny();
    const hashes = [...byHash.keys()];
    const rows = await this.ds.query<{ inserted: boolean }[]>(
      `INSERT INTO labeled_messages (text_sha256, text, intent)
       SELECT decode(h, 'hex'), t, i FROM unnest($1::text[], $2::text[], $3::text[]) AS u(h, t, i)
       ON CONFLICT (text_sha256) DO UPDATE SET intent = EXCLUDED.intent, updated_at = now()
         WHERE labeled_messages.intent <> EXCLUDED.intent
       RETURNING (xmax = 0) AS inserted`,
      [hashes, hashes.map((h) => byHash.get(h)!.text), hashes.map((h) => byHash.get(h)!.intent)],
    );
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, relabeled: rows.length - inserted, unchanged: messages.length - rows.length };
  }

  /** Labelled messages per intent, most frequent first. */
  async intentCounts(): Promise<IntentCountData[]> {
    const rows = await this.ds.query<IntentCountData[]>(
      `SELECT intent, count(*)::int AS count FROM labeled_messages GROUP BY intent ORDER BY count DESC, intent`,
    );
    return rows;
  }
}
