/**
 * manifest.json of a reply-lm artifact (written by `python -m meridian_trainer export-lm`):
 * parsed and validated here, every error naming the field; files checked against their sha256.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PromptSegment } from './bpe-tokenizer';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

export interface PromptFormat {
  /** 'chat_template': derived from the checkpoint's template; 'plain': System:/User:/Assistant: lines. */
  readonly source: 'chat_template' | 'plain';
  /** Text before the first message (e.g. a BOS token). */
  readonly begin: string;
  readonly roles: Readonly<Record<ChatRole, { readonly prefix: string; readonly suffix: string }>>;
  /** Appended after the last message so that the model writes the assistant's turn. */
  readonly generationPrompt: string;
  /** Texts that end the reply (e.g. '<|im_end|>' or '\nUser:'); not part of the reply. */
  readonly stop: readonly string[];
  /** The template trims each message's content (Llama 3 style). */
  readonly trimContent: boolean;
}

export interface LmShape {
  readonly architecture: 'gpt2' | 'llama';
  readonly modelType: string;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Width of the logits. */
  readonly vocabSize: number;
  /** Prompt plus reply tokens at most. */
  readonly maxPositions: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
}

export interface LmManifest {
  readonly kind: 'reply-lm';
  readonly version: string;
  readonly dir: string;
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly tokenizerPath: string;
  readonly tokenizerSha256: string;
  /** Graph input names, in order (position_ids may be absent). */
  readonly inputs: readonly string[];
  readonly lm: LmShape;
  readonly promptFormat: PromptFormat;
}

export class LmManifestError extends Error {
  override readonly name = 'LmManifestError';
}

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LmManifestError(`manifest.json: ${field} must be an object`);
  return v as Json;
}

function str(o: Json, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new LmManifestError(`manifest.json: ${field}.${key} must be a string`);
  return v;
}

function int(o: Json, key: string, field: string, min = 1): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new LmManifestError(`manifest.json: ${field}.${key} must be an integer >= ${min}`);
  return v;
}

function optInt(o: Json, key: string, field: string): number | null {
  return o[key] === null || o[key] === undefined ? null : int(o, key, field, 0);
}

function bool(o: Json, key: string, field: string): boolean {
  const v = o[key] ?? false;
  if (typeof v !== 'boolean') throw new LmManifestError(`manifest.json: ${field}.${key} must be true or false`);
  return v;
}

function strings(o: Json, key: string, field: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new LmManifestError(`manifest.json: ${field}.${key} must be a list of strings`);
  return v as string[];
}

function parseFormat(v: unknown): PromptFormat {
  const f = obj(v, 'prompt_format');
  const source = str(f, 'source', 'prompt_format');
  if (source !== 'chat_template' && source !== 'plain') throw new LmManifestError(`manifest.json: prompt_format.source ${source} is not chat_template or plain`);
  const roles = obj(f.roles, 'prompt_format.roles');
  const role = (r: ChatRole) => {
    const o = obj(roles[r], `prompt_format.roles.${r}`);
    return { prefix: str(o, 'prefix', `prompt_format.roles.${r}`), suffix: str(o, 'suffix', `prompt_format.roles.${r}`) };
  };
  return {
    source,
    begin: str(f, 'begin', 'prompt_format'),
    roles: { system: role('system'), user: role('user'), assistant: role('assistant') },
    generationPrompt: str(f, 'generation_prompt', 'prompt_format'),
    stop: strings(f, 'stop', 'prompt_format'),
    trimContent: bool(f, 'trim_content', 'prompt_format'),
  };
}

/** Validates a parsed manifest.json of the artifact directory `dir`. */
export function parseLmManifest(json: unknown, dir: string): LmManifest {
  const m = obj(json, '(root)');
  if (m.kind !== 'reply-lm') throw new LmManifestError(`manifest.json: kind ${JSON.stringify(m.kind)} is not reply-lm`);
  const model = obj(m.model, 'model');
  const tokenizer = obj(obj(m.files, 'files').tokenizer, 'files.tokenizer');
  const l = obj(m.lm, 'lm');
  const arch = str(l, 'architecture', 'lm');
  if (arch !== 'gpt2' && arch !== 'llama') throw new LmManifestError(`manifest.json: lm.architecture ${arch} is not gpt2 or llama`);
  const eos = l.eos_token_ids;
  if (!Array.isArray(eos) || eos.some((e) => !Number.isInteger(e))) throw new LmManifestError('manifest.json: lm.eos_token_ids must be a list of integers');
  const inputs = m.inputs;
  if (!Array.isArray(inputs)) throw new LmManifestError('manifest.json: inputs must be a list');
  const lm: LmShape = {
    architecture: arch,
    modelType: str(l, 'model_type', 'lm'),
    layers: int(l, 'layers', 'lm'),
    heads: int(l, 'heads', 'lm'),
    kvHeads: int(l, 'kv_heads', 'lm'),
    headDim: int(l, 'head_dim', 'lm'),
    vocabSize: int(l, 'vocab_size', 'lm'),
    maxPositions: int(l, 'max_positions', 'lm', 2),
    bosTokenId: optInt(l, 'bos_token_id', 'lm'),
    eosTokenIds: eos as number[],
    padTokenId: optInt(l, 'pad_token_id', 'lm'),
  };
  const names = inputs.map((x, i) => str(obj(x, `inputs[${i}]`), 'name', `inputs[${i}]`));
  for (const need of ['input_ids', 'attention_mask', 'past_key_values.0.key', `past_key_values.${lm.layers - 1}.value`]) {
    if (!names.includes(need)) throw new LmManifestError(`manifest.json: inputs lack ${need}`);
  }
  const file = (o: Json, field: string) => {
    const name = str(o, 'file', field);
    if (path.basename(name) !== name) throw new LmManifestError(`manifest.json: ${field}.file must be a file name in the artifact directory`);
    return path.join(dir, name);
  };
  return {
    kind: 'reply-lm',
    version: str(m, 'version', '(root)'),
    dir,
    modelPath: file(model, 'model'),
    modelSha256: str(model, 'sha256', 'model'),
    tokenizerPath: file(tokenizer, 'files.tokenizer'),
    tokenizerSha256: str(tokenizer, 'sha256', 'files.tokenizer'),
    inputs: names,
    lm,
    promptFormat: parseFormat(m.prompt_format),
  };
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads `dir`/manifest.json; with `verifyFiles` (default) the model and tokenizer must match their sha256. */
export async function readLmManifest(dir: string, verifyFiles = true): Promise<LmManifest> {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new LmManifestError(`${file}: cannot read (${err instanceof Error ? err.message : String(err)}); is ${dir} an export-lm artifact?`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LmManifestError(`${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const m = parseLmManifest(json, dir);
  if (verifyFiles) {
    for (const [p, want] of [[m.modelPath, m.modelSha256], [m.tokenizerPath, m.tokenizerSha256]] as const) {
      if (!fs.existsSync(p)) throw new LmManifestError(`${p}: missing (listed in manifest.json)`);
      if ((await sha256(p)) !== want) throw new LmManifestError(`${p}: sha256 differs from manifest.json`);
    }
  }
  return m;
}

/**
 * The prompt for `messages` in the model's format, ending with the generation prompt, as pieces:
 * the format's own text, and the messages' contents as literal pieces (see BpeTokenizer.encodeSegments).
 */
export function chatSegments(format: PromptFormat, messages: readonly ChatMessage[]): PromptSegment[] {
  const segments: PromptSegment[] = [{ text: format.begin, literal: false }];
  for (const m of messages) {
    const r = format.roles[m.role];
    if (!r) throw new Error(`chat message role ${String(m.role)} is not system, user or assistant`);
    const content = format.trimContent ? m.content.trim() : m.content;
    segments.push({ text: r.prefix, literal: false }, { text: content, literal: true }, { text: r.suffix, literal: false });
  }
  segments.push({ text: format.generationPrompt, literal: false });
  return segments;
}

/** The prompt for `messages` as one string (what chatSegments spells). */
export function formatChat(format: PromptFormat, messages: readonly ChatMessage[]): string {
  return chatSegments(format, messages)
    .map((s) => s.text)
    .join('');
}
