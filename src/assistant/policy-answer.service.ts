/**
 * The shop's policy answers: question/answer pairs that admins maintain (returns, delivery times,
 * payment methods, …), retrieved for a customer message by sentence-embedding similarity (the intent
 * model's `embedding` output: MiniLM), not by keywords. An answer is embedded twice, from its
 * question alone and from question and answer together (stored side by side), and a message's
 * similarity is the larger of the two cosines: the question matches how customers ask, the answer
 * adds what it covers ("ship internationally" ↔ "deliver only to Brazil"). Rows embedded by another intent model version are embedded again on first use, so a
 * retrained encoder never compares vectors from two spaces.
 */
import type { DataSource } from 'typeorm';
import { IssueCollector } from '../common/errors';
import { updatedRows } from '../db/queryable';
import type { TextClassifierService } from '../nlp/text-classifier.service';

export interface PolicyAnswerInputData {
  readonly key: string;
  readonly question: string;
  readonly answer: string;
  /** The intent the answer serves (optional): retrieval prefers answers of the message's intent. */
  readonly intent?: string | null;
}

export interface PolicyAnswerData {
  readonly id: string;
  readonly key: string;
  readonly question: string;
  readonly answer: string;
  readonly intent: string | null;
  readonly updatedAt: Date;
}

export interface PolicyMatch {
  readonly policy: PolicyAnswerData;
  readonly similarity: number;
}

export const MAX_POLICY_ANSWERS = 500;
const KEY_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,99}$/;

interface Embedded {
  readonly policy: PolicyAnswerData;
  readonly vector: Float32Array;
}

interface PolicyRow {
  id: string;
  key: string;
  question: string;
  answer: string;
  intent: string | null;
  updated_at: Date;
  embedding: number[] | null;
  embedding_model: string | null;
}

export class PolicyAnswerService {
  /**
   * Embedded answers of one model version and table stamp (count and newest update, read on each
   * match: another server's write invalidates this copy too).
   */
  private cache: { model: string; stamp: string; rows: Embedded[] } | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly text: TextClassifierService,
  ) {}

  /** Inserts or replaces answers by key, all or nothing. */
  async upsert(inputs: readonly PolicyAnswerInputData[]): Promise<PolicyAnswerData[]> {
    const issues = new IssueCollector();
    if (inputs.length === 0) issues.add('answers', 'must hold at least one answer');
    if (inputs.length > MAX_POLICY_ANSWERS) issues.add('answers', `at most ${MAX_POLICY_ANSWERS} answers per call`);
    const keys = new Set<string>();
    inputs.forEach((a, i) => {
      if (!KEY_PATTERN.test(a.key)) issues.add(`answers[${i}].key`, 'must be 1–100 characters: lowercase letters, digits and _ . : -, starting with a letter or digit');
      else if (keys.has(a.key)) issues.add(`answers[${i}].key`, `repeats "${a.key}"`);
      keys.add(a.key);
      if (a.question.trim() === '' || a.question.length > 500) issues.add(`answers[${i}].question`, 'must have 1–500 characters');
      if (a.answer.trim() === '' || a.answer.length > 2000) issues.add(`answers[${i}].answer`, 'must have 1–2000 characters');
      if (a.intent != null && !/^[a-z0-9_]{1,100}$/.test(a.intent)) issues.add(`answers[${i}].intent`, 'must be an intent label (lowercase letters, digits and _)');
    });
    issues.throwIfAny();
    const rows = await this.ds.query<PolicyRow[]>(
      `INSERT INTO policy_answers (key, question, answer, intent)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (key) DO UPDATE SET question = EXCLUDED.question, answer = EXCLUDED.answer, intent = EXCLUDED.intent,
         embedding = CASE WHEN (policy_answers.question, policy_answers.answer) = (EXCLUDED.question, EXCLUDED.answer)
                          THEN policy_answers.embedding END,
         updated_at = now()
       RETURNING id::text, key, question, answer, intent, updated_at`,
      [inputs.map((a) => a.key), inputs.map((a) => a.question.trim()), inputs.map((a) => a.answer.trim()), inputs.map((a) => a.intent ?? null)],
    );
    this.cache = null;
    return rows.map(toPolicy);
  }

  async remove(keys: readonly string[]): Promise<number> {
    const rows = updatedRows<{ id: string }>(await this.ds.query(`DELETE FROM policy_answers WHERE key = ANY($1::text[]) RETURNING id::text`, [keys]));
    this.cache = null;
    return rows.length;
  }

  async list(): Promise<PolicyAnswerData[]> {
    const rows = await this.ds.query<PolicyRow[]>(`SELECT id::text, key, question, answer, intent, updated_at FROM policy_answers ORDER BY key`);
    return rows.map(toPolicy);
  }

  /**
   * Answers most similar to a message embedding (cosine; vectors are L2-normalised), best first.
   * `intent` adds `intentBonus` to answers tagged with that intent.
   */
  async match(vector: Float32Array, modelVersion: string, intent: string | null, k = 3, intentBonus = 0.1): Promise<PolicyMatch[]> {
    const rows = await this.embedded(modelVersion);
    return rows
      .map((r) => ({ policy: r.policy, similarity: similarity(vector, r.vector) + (intent && r.policy.intent === intent ? intentBonus : 0) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }

  /** Every answer with a vector of `modelVersion`, embedding (and storing) the ones that lack it. */
  private async embedded(modelVersion: string): Promise<Embedded[]> {
    // vector = [question; question + answer], each L2-normalised
    const [s] = await this.ds.query<{ stamp: string }[]>(`SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') AS stamp FROM policy_answers`);
    if (this.cache?.model === modelVersion && this.cache.stamp === s!.stamp) return this.cache.rows;
    const rows = await this.ds.query<PolicyRow[]>(
      `SELECT id::text, key, question, answer, intent, updated_at, embedding, embedding_model FROM policy_answers ORDER BY key`,
    );
    const stale = rows.filter((r) => r.embedding === null || r.embedding_model !== modelVersion);
    if (stale.length) {
      const texts = stale.flatMap((r) => [r.question, `${r.question} ${r.answer}`]);
      const { embeddings, modelVersion: used } = await this.text.intentsWithEmbeddings(texts);
      if (used !== modelVersion) return this.embedded(used); // the model was swapped meanwhile
      stale.forEach((r, i) => {
        r.embedding = [...embeddings[2 * i]!, ...embeddings[2 * i + 1]!];
        r.embedding_model = used;
      });
      await this.ds.query(
        `UPDATE policy_answers p SET embedding = u.e::real[], embedding_model = $3
           FROM unnest($1::bigint[], $2::text[]) AS u(id, e) WHERE p.id = u.id`,
        [stale.map((r) => r.id), stale.map((r) => `{${r.embedding!.join(',')}}`), used],
      );
    }
    const out = rows.map((r) => ({ policy: toPolicy(r), vector: Float32Array.from(r.embedding!) }));
    this.cache = { model: modelVersion, stamp: s!.stamp, rows: out };
    return out;
  }
}

function toPolicy(r: PolicyRow): PolicyAnswerData {
  return { id: r.id, key: r.key, question: r.question, answer: r.answer, intent: r.intent, updatedAt: new Date(r.updated_at) };
}

/** max(cos(v, question), cos(v, question + answer)); `pair` holds both vectors side by side. */
function similarity(v: Float32Array, pair: Float32Array): number {
  const d = v.length;
  let q = 0;
  let qa = 0;
  for (let i = 0; i < d; i++) {
    q += v[i]! * pair[i]!;
    qa += v[i]! * pair[d + i]!;
  }
  return Math.max(q, qa);
}
