/**
 * The reply model slot: an exported causal LM (reply-lm artifact) decoding in worker threads.
 * Each worker owns one ONNX Runtime session and runs one generation at a time, so `concurrency`
 * workers bound the generations running at once; others wait in a bounded queue. Tokens stream
 * back over postMessage; a timeout or an AbortSignal ends the stream at once on this side and
 * tells the worker, which stops at its next step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ChatMessage, chatSegments, formatChat, type LmManifest, readLmManifest } from './lm-manifest';
import type { FromWorker, GenerateRequest, ToWorker, WorkerInit } from './lm-worker.protocol';
import { type ReplyGeneration, ReplyStream } from './reply-stream';

export interface ReplyLmOptions {
  /** Worker threads, each holding a session: generations running at once (default 1). */
  readonly concurrency?: number;
  /** ORT intra-op threads per worker (default 1). */
  readonly threads?: number;
  /** Generations that may wait for a worker; beyond that generate() ends at once with 'error' (default 16). */
  readonly maxQueue?: number;
  /** Check model.onnx and tokenizer.json against the manifest's sha256 at load (default true). */
  readonly verifyFiles?: boolean;
}

export interface GenerateOptions {
  /** Default 256; also capped by the model's max positions. */
  readonly maxNewTokens?: number;
  /** 0 (default): greedy. */
  readonly temperature?: number;
  /** Nucleus sampling mass, 0 < topP <= 1 (default 1). */
  readonly topP?: number;
  /** PRNG seed for sampling (default: random; the result reports it). */
  readonly seed?: number;
  /** Extra stop strings (the prompt format's own always apply). */
  readonly stop?: readonly string[];
  /** Ends the generation with 'timeout', counted from the call, queueing included (default 30000). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

interface Job {
  readonly stream: ReplyStream;
  readonly request: GenerateRequest;
  slot: Slot | null;
  trace?: (logits: Float32Array | undefined) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job: Job | null;
}

function workerScript(): string {
  const beside = path.join(__dirname, 'lm-worker.js');
  if (fs.existsSync(beside)) return beside;
  const built = path.resolve(__dirname, '../../../dist/src/assistant/lm/lm-worker.js');
  if (!fs.existsSync(built)) throw new Error(`the LM worker script is not built (${built}): run npm run build`);
  for (const f of fs.readdirSync(__dirname).filter((n) => n.endsWith('.ts'))) {
    if (fs.statSync(path.join(__dirname, f)).mtimeMs > fs.statSync(built).mtimeMs) throw new Error(`${built} is older than ${f}: run npm run build`);
  }
  return built;
}

export class ReplyLm {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly manifest: LmManifest,
    private readonly opts: Required<Omit<ReplyLmOptions, 'verifyFiles'>>,
  ) {}

  /** Loads an export-lm artifact directory; resolves once every worker has its session. */
  static async load(dir: string, options: ReplyLmOptions = {}): Promise<ReplyLm> {
    const manifest = await readLmManifest(dir, options.verifyFiles ?? true);
    const lm = new ReplyLm(manifest, {
      concurrency: Math.max(1, Math.floor(options.concurrency ?? 1)),
      threads: Math.max(1, Math.floor(options.threads ?? 1)),
      maxQueue: Math.max(0, Math.floor(options.maxQueue ?? 16)),
    });
    for (let i = 0; i < lm.opts.concurrency; i++) lm.slots.push(lm.spawn());
    try {
      await Promise.all(lm.slots.map((s) => s.ready));
    } catch (err) {
      await lm.close();
      throw err;
    }
    return lm;
  }

  /** The prompt for a conversation in this model's format (ends with the assistant's generation prompt). */
  formatChat(messages: readonly ChatMessage[]): string {
    return formatChat(this.manifest.promptFormat, messages);
  }

  /** Generations running and waiting. */
  stats(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.job).length, queued: this.queue.length };
  }

  /**
   * Streams a reply to `prompt`: messages (formatted with the model's prompt format; special tokens
   * typed inside a message's content stay plain text), or a prompt string the caller formatted and
   * trusts (special tokens in it are recognised).
   * Throws RangeError on invalid options; every other failure ends the stream with reason 'error'.
   */
  generate(prompt: string | readonly ChatMessage[], options: GenerateOptions = {}): ReplyGeneration {
    return this.start(prompt, options, false).stream;
  }

  /**
   * Greedy decoding of `steps` tokens with the last step's logits (parity checks against PyTorch).
   * Stops early at an end-of-sequence token.
   */
  async greedyTrace(prompt: string | readonly ChatMessage[], steps: number): Promise<{ tokenIds: number[]; lastLogits: Float32Array | null }> {
    const job = this.start(prompt, { maxNewTokens: steps, temperature: 0, timeoutMs: 600_000 }, true);
    let lastLogits: Float32Array | null = null;
    job.trace = (logits) => (lastLogits = logits ?? null); // called before the stream ends
    const tokenIds: number[] = [];
    for await (const c of job.stream) if (c.tokenId >= 0) tokenIds.push(c.tokenId);
    const result = await job.stream.result;
    if (result.reason === 'error') throw new Error(result.error);
    return { tokenIds, lastLogits };
  }

  private start(prompt: string | readonly ChatMessage[], o: GenerateOptions, traceLogits: boolean): Job {
    const maxNewTokens = o.maxNewTokens ?? 256;
    const temperature = o.temperature ?? 0;
    const topP = o.topP ?? 1;
    const timeoutMs = o.timeoutMs ?? 30_000;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new RangeError(`maxNewTokens ${maxNewTokens}: must be an integer >= 1`);
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature ${temperature}: must be >= 0`);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP ${topP}: must be in (0, 1]`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs ${timeoutMs}: must be > 0`);
    const seed = (o.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
    const segments = typeof prompt === 'string' ? [{ text: prompt, literal: false }] : chatSegments(this.manifest.promptFormat, prompt);
    const id = this.nextId++;
    const stream = new ReplyStream(seed, () => this.abandon(job));
    const request: GenerateRequest = { op: 'generate', id, prompt: segments, maxNewTokens, temperature, topP, seed, stop: o.stop ?? [], deadline: Date.now() + timeoutMs, traceLogits };
    const job: Job = { stream, request, slot: null };
    if (this.closed || !this.slots.length) {
      stream.end('error', this.closed ? 'the reply model is closed' : 'the reply model has no worker (its model failed to load)');
      return job;
    }
    if (o.signal?.aborted) {
      stream.end('cancelled');
      return job;
    }
    if (this.queue.length >= this.opts.maxQueue && this.slots.every((s) => s.job)) {
      stream.end('error', `busy: ${this.queue.length} generations are waiting`);
      return job;
    }
    const timer = setTimeout(() => this.endEarly(job, 'timeout'), timeoutMs);
    const onAbort = () => this.endEarly(job, 'cancelled');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    void stream.result.then(() => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    });
    this.queue.push(job);
    this.pump();
    return job;
  }

  private endEarly(job: Job, reason: 'timeout' | 'cancelled'): void {
    if (!job.stream.open) return;
    job.stream.end(reason);
    this.abandon(job);
  }

  /** The stream has ended on this side: drop it from the queue or tell its worker to stop. */
  private abandon(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (job.slot) this.post(job.slot, { op: 'cancel', id: job.request.id });
  }

  private post(slot: Slot, msg: ToWorker): void {
    try {
      slot.worker.postMessage(msg);
    } catch {
      // a dead worker: its exit handler ends the job
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.closed) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      job.slot = slot;
      slot.worker.ref();
      slot.ready.then(
        () => this.post(slot, job.request),
        (err: unknown) => this.finishSlot(slot, 'error', err instanceof Error ? err.message : String(err)),
      );
    }
  }

  private finishSlot(slot: Slot, reason: 'error' | 'cancelled', error?: string, msg?: Extract<FromWorker, { op: 'done' }>): void {
    const job = slot.job;
    slot.job = null;
    slot.worker.unref();
    if (job) {
      if (msg) {
        job.stream.promptTokens = msg.promptTokens;
        job.stream.generatedTokens = msg.generatedTokens;
        job.trace?.(msg.lastLogits);
        job.stream.end(msg.reason, msg.error);
      } else {
        job.stream.end(reason, error);
      }
    }
    this.pump();
  }

  private spawn(): Slot {
    const m = this.manifest;
    const init: WorkerInit = { modelPath: m.modelPath, tokenizerPath: m.tokenizerPath, inputs: m.inputs, lm: m.lm, stop: m.promptFormat.stop, threads: this.opts.threads };
    const worker = new Worker(workerScript(), { workerData: init });
    worker.unref();
    let loaded = false;
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const slot: Slot = { worker, job: null, ready: new Promise<void>((res, rej) => ((ready = res), (failed = rej))) };
    slot.ready.catch(() => undefined); // observed by load() and pump()
    worker.on('message', (msg: FromWorker) => {
      if (msg.op === 'ready') {
        loaded = true;
        return ready();
      }
      if (msg.op === 'init-error') return failed(new Error(`reply model ${m.dir}: ${msg.message}`));
      const job = slot.job;
      if (!job || job.request.id !== msg.id) return;
      if (msg.op === 'chunk') {
        job.stream.generatedTokens += msg.tokenId >= 0 ? 1 : 0;
        job.stream.push({ text: msg.text, tokenId: msg.tokenId });
      } else {
        this.finishSlot(slot, 'error', undefined, msg);
      }
    });
    const lost = (why: string) => {
      failed(new Error(`reply model worker stopped: ${why}`));
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      if (this.closed) {
        slot.job?.stream.end('cancelled');
        return;
      }
      // A worker that had loaded its model is replaced; one that could not load it is not (the next would fail too).
      if (loaded) this.slots[i] = this.spawn();
      else this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = null;
      job?.stream.end('error', `reply model worker stopped: ${why}`);
      if (!this.slots.length) for (const waiting of this.queue.splice(0)) waiting.stream.end('error', `reply model worker stopped: ${why}`);
      this.pump();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return slot;
  }

  /** Ends running and waiting generations ('cancelled') and stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.stream.end('cancelled');
    const slots = this.slots.splice(0);
    for (const s of slots) s.job?.stream.end('cancelled');
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
