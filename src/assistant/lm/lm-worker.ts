/**
 * A decoding thread: owns one ONNX Runtime session of a reply-lm artifact and runs one generation
 * at a time: prefill on the prompt, then one token per step feeding present.* back as
 * past_key_values.*. Between steps it yields to its event loop, so a 'cancel' message (and the
 * deadline) end the loop promptly. lm-decoder.ts starts it from its compiled file.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { BpeTokenizer } from './bpe-tokenizer';
import type { FinishReason, FromWorker, GenerateRequest, ToWorker, WorkerInit } from './lm-worker.protocol';
import { pickToken, seededRandom } from './sampling';
import { StopText } from './stop-text';

const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(port: MessagePort, init: WorkerInit): Promise<void> {
  const session = await ort.InferenceSession.create(init.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const tokenizer = BpeTokenizer.fromFile(init.tokenizerPath);
  const { lm } = init;
  const eos = new Set(lm.eosTokenIds);
  const pastNames = Array.from({ length: lm.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
  const presentNames = pastNames.map((n) => n.replace('past_key_values.', 'present.'));
  const wantsPositions = init.inputs.includes('position_ids');
  const cancelled = new Set<number>();
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

  const int64 = (values: ArrayLike<number>, length: number) => {
    const data = new BigInt64Array(length);
    for (let i = 0; i < length; i++) data[i] = BigInt(values[i]!);
    return new ort.Tensor('int64', data, [1, length]);
  };

  const generate = async (req: GenerateRequest) => {
    let promptTokens = 0;
    let generated = 0;
    let lastLogits: Float32Array | undefined;
    const finish = (reason: FinishReason, error?: string) => {
      cancelled.delete(req.id);
      const transfer = lastLogits ? [lastLogits.buffer as ArrayBuffer] : [];
      send({ op: 'done', id: req.id, reason, promptTokens, generatedTokens: generated, error, lastLogits: req.traceLogits ? lastLogits : undefined }, transfer);
    };
    const prompt = tokenizer.encodeSegments(req.prompt);
    promptTokens = prompt.length;
    if (prompt.length === 0) return finish('error', 'the prompt is empty');
    if (prompt.length >= lm.maxPositions) {
      return finish('error', `the prompt has ${prompt.length} tokens; the model takes at most ${lm.maxPositions - 1} before its reply`);
    }
    const budget = Math.min(req.maxNewTokens, lm.maxPositions - prompt.length);
    const random = seededRandom(req.seed);
    const text = tokenizer.decoder();
    const stops = new StopText([...init.stop, ...req.stop]);
    let past: Record<string, ort.Tensor> = {};
    for (const n of pastNames) past[n] = new ort.Tensor('float32', new Float32Array(0), [1, lm.kvHeads, 0, lm.headDim]);
    let feed = prompt;
    let pos = 0;
    for (;;) {
      await yieldToMessages();
      if (cancelled.has(req.id)) return finish('cancelled');
      if (Date.now() > req.deadline) return finish('timeout');
      if (generated >= budget) {
        const rest = stops.push(text.flush()).emit + stops.flush();
        if (rest) send({ op: 'chunk', id: req.id, text: rest, tokenId: -1 });
        return finish('length');
      }
      const t = feed.length;
      const feeds: Record<string, ort.Tensor> = { ...past, input_ids: int64(feed, t), attention_mask: int64(new Array<number>(pos + t).fill(1), pos + t) };
      if (wantsPositions) feeds.position_ids = int64(Array.from({ length: t }, (_, i) => pos + i), t);
      const out = await session.run(feeds);
      const logits = out.logits!.data as Float32Array;
      const v = lm.vocabSize;
      lastLogits = logits.slice((t - 1) * v, t * v);
      past = {};
      pastNames.forEach((n, i) => (past[n] = out[presentNames[i]!]!));
      pos += t;
      const token = pickToken(lastLogits, req, random);
      generated += 1;
      if (eos.has(token)) {
        const rest = stops.push(text.flush()).emit + stops.flush();
        if (rest) send({ op: 'chunk', id: req.id, text: rest, tokenId: -1 });
        return finish('stop');
      }
      const shown = stops.push(text.push(token));
      send({ op: 'chunk', id: req.id, text: shown.emit, tokenId: token });
      if (shown.stopped) return finish('stop');
      feed = [token];
    }
  };

  const queue: GenerateRequest[] = [];
  let busy = false;
  let current = -1;
  const drain = async () => {
    if (busy) return;
    busy = true;
    for (let req = queue.shift(); req; req = queue.shift()) {
      current = req.id;
      try {
        await generate(req);
      } catch (err) {
        cancelled.delete(req.id);
        send({ op: 'done', id: req.id, reason: 'error', promptTokens: 0, generatedTokens: 0, error: err instanceof Error ? err.message : String(err) });
      }
    }
    busy = false;
    current = -1;
  };
  port.on('message', (msg: ToWorker) => {
    if (msg.op === 'cancel') {
      if (current === msg.id || queue.some((q) => q.id === msg.id)) cancelled.add(msg.id);
      return;
    }
    queue.push(msg);
    void drain();
  });
  send({ op: 'ready' });
}

if (!parentPort) throw new Error('lm-worker.js must run in a worker thread (lm-decoder.ts starts it)');
const port = parentPort;
main(port, workerData as WorkerInit).catch((err: unknown) => port.postMessage({ op: 'init-error', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker));
