/** The reply-model slot: an exported causal LM (python -m meridian_trainer export-lm) writing assistant replies. */
export { BpeTokenizer, IncrementalDecoder, type PromptSegment } from './bpe-tokenizer';
export { type GenerateOptions, ReplyLm, type ReplyLmOptions } from './lm-decoder';
export { type ChatMessage, type ChatRole, chatSegments, formatChat, type LmManifest, LmManifestError, type LmShape, type PromptFormat, parseLmManifest, readLmManifest } from './lm-manifest';
export type { FinishReason } from './lm-worker.protocol';
export type { ReplyChunk, ReplyGeneration, ReplyResult } from './reply-stream';
