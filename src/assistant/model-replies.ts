/**
 * Replies written by the optional reply language model (docs/assistant-lm.md). The model sees the
 * grounding as facts, the recent turns and the template reply as a suggestion; what it writes is
 * streamed to the subscriber and then checked: a reply that states a number, date, id or product
 * name the grounding does not hold (or is empty, cut off, late or cancelled) is replaced by the
 * template. Outcomes are counted for /metrics.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../common/logger';
import type { AssistantConfig } from '../config/config';
import type { TurnData } from './conversation.repository';
import { type GroundingData, unsupportedFacts } from './grounding';
import { type ChatMessage, ReplyLm, type ReplyResult } from './lm';

export type ModelOutcome = 'model' | 'ungrounded' | 'empty' | 'timeout' | 'cancelled' | 'error';

export interface ReplyEvent {
  /** Text added since the previous event ('' on the final event). */
  readonly delta: string;
  /** The reply so far; on the final event, the reply that stands. */
  readonly text: string;
  readonly done: boolean;
  /** template or model (final event); model while streaming. */
  readonly replySource: string;
  /** Final event: model, or why the template stands (ungrounded, empty, timeout, cancelled, error). */
  readonly outcome: ModelOutcome | null;
}

const HISTORY_TURNS = 4;
/** How the decoder refuses a prompt longer than the model's context. */
const TOO_LONG = /^the prompt has \d+ tokens/;

export class ModelReplies {
  readonly counts: Record<ModelOutcome, number> = { model: 0, ungrounded: 0, empty: 0, timeout: 0, cancelled: 0, error: 0 };

  private constructor(
    private readonly lm: ReplyLm,
    private readonly ds: DataSource,
    private readonly cfg: AssistantConfig,
  ) {}

  static async load(ds: DataSource, cfg: AssistantConfig, logger: Logger): Promise<ModelReplies | null> {
    if (!cfg.lmDir) return null;
    let lm: ReplyLm;
    try {
      lm = await ReplyLm.load(cfg.lmDir, { concurrency: cfg.lmConcurrency });
    } catch (err) {
      // A reply model is optional: the grounded templates answer without it.
      logger.error({ dir: cfg.lmDir, err: err instanceof Error ? err.message : String(err) }, 'reply language model failed to load; replies stay templates');
      return null;
    }
    logger.info({ dir: cfg.lmDir, architecture: lm.manifest.lm.architecture, version: lm.manifest.version }, 'reply language model loaded');
    return new ModelReplies(lm, ds, cfg);
  }

  get timeoutMs(): number {
    return this.cfg.lmTimeoutMs;
  }

  close(): Promise<void> {
    return this.lm.close();
  }

  /**
   * Streams the model's reply to `turn`, then the reply that stands. `signal` cancels (the
   * subscriber left). Never throws: a failure ends with the template.
   */
  async *write(turn: TurnData, history: readonly TurnData[], locale: string, signal: AbortSignal): AsyncGenerator<ReplyEvent> {
    let text = '';
    let result: ReplyResult | null = null;
    // The richest prompt the model's context takes: with history, without, facts only, the message only.
    for (const prompt of this.prompts(turn, history, locale)) {
      const gen = this.lm.generate(prompt, {
        maxNewTokens: this.cfg.lmMaxTokens, temperature: this.cfg.lmTemperature, topP: this.cfg.lmTopP, timeoutMs: this.cfg.lmTimeoutMs, signal,
      });
      for await (const chunk of gen) {
        if (!chunk.text) continue;
        text += chunk.text;
        yield { delta: chunk.text, text, done: false, replySource: 'model', outcome: null };
      }
      result = await gen.result;
      if (!(result.reason === 'error' && text === '' && TOO_LONG.test(result.error ?? ''))) break;
    }
    const reply = (result?.text ?? '').trim();
    let outcome: ModelOutcome;
    if (result?.reason === 'timeout') outcome = 'timeout';
    else if (result?.reason === 'cancelled') outcome = 'cancelled';
    else if (!result || result.reason === 'error') outcome = 'error';
    else if (reply === '') outcome = 'empty';
    else if (unsupportedFacts(reply, turn.grounding, await this.namesIn(reply)).length) outcome = 'ungrounded';
    else outcome = 'model';
    this.counts[outcome]++;
    const final = outcome === 'model' ? reply : turn.templateReply ?? turn.reply;
    yield { delta: '', text: final, done: true, replySource: outcome === 'model' ? 'model' : 'template', outcome };
  }

  /** Prompts from the richest to the leanest. Customer text stays literal (no control tokens). */
  private prompts(turn: TurnData, history: readonly TurnData[], locale: string): ChatMessage[][] {
    const facts = turn.grounding.map(factLine).join('\n') || '(none)';
    const system = [
      `You are the customer-service assistant of an online shop. Reply in one or two short sentences, in the customer's language (${locale}).`,
      'State only facts listed under FACTS. Never invent numbers, dates, order numbers or product names.',
      `FACTS:\n${facts}`,
      `A correct reply would be: ${turn.templateReply ?? turn.reply}`,
    ].join('\n\n');
    const past = history.filter((h) => h.seq < turn.seq).slice(-HISTORY_TURNS)
      .flatMap((h): ChatMessage[] => [{ role: 'user', content: h.text }, { role: 'assistant', content: h.reply }]);
    const user: ChatMessage = { role: 'user', content: turn.text };
    return [
      ...(past.length ? [[{ role: 'system' as const, content: system }, ...past, user]] : []),
      [{ role: 'system', content: system }, user],
      [{ role: 'system', content: `FACTS:\n${facts}` }, user],
      [user],
    ];
  }

  /** Catalog product names the text mentions (case-insensitive), for the grounding check. */
  private async namesIn(text: string): Promise<string[]> {
    const rows = await this.ds.query<{ name: string }[]>(
      `SELECT name FROM products WHERE length(name) >= 4 AND strpos(lower($1), lower(name)) > 0 LIMIT 50`, [text],
    );
    return rows.map((r) => r.name);
  }
}

function factLine(g: GroundingData): string {
  return `- ${g.kind} ${g.id}: ${Object.entries(g.fields).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('; ') : String(v)}`).join(', ')}`;
}
