/**
 * An inference worker thread: it owns ONNX Runtime sessions and runs them, so `session.run()`
 * (synchronous native work) never blocks the server's event loop. worker-pool.ts starts it from
 * its compiled file (dist/src/inference/session-worker.js), so stack traces keep file and line.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ValueMeta, WorkerReply, WorkerRequest } from './session-worker.protocol';
import type { TensorData } from './tensor';

function main(port: MessagePort): void {
  const sessions = new Map<number, ort.InferenceSession>();

  const meta = (list: readonly ort.InferenceSession.ValueMetadata[]): ValueMeta[] =>
    list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: null, shape: [] }));

  const create = async (bytes: Uint8Array, providers: readonly string[], threads: number, cpuMemArena: boolean) => {
    const options = (eps: readonly string[]): ort.InferenceSession.SessionOptions => ({
      executionProviders: eps,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableCpuMemArena: cpuMemArena,
    });
    try {
      return { session: await ort.InferenceSession.create(bytes, options(providers)), provider: providers[0] ?? 'cpu', fallbackReason: null };
    } catch (err) {
      // ORT does not fall back by itself: an unloadable CUDA provider makes create() throw.
      // Retry on CPU; if that fails too, the model itself is bad and its error is the one to report.
      if (providers.every((p) => p === 'cpu')) throw err;
      const session = await ort.InferenceSession.create(bytes, options(['cpu']));
      return { session, provider: 'cpu', fallbackReason: err instanceof Error ? err.message : String(err) };
    }
  };

  const handle = async (msg: WorkerRequest): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> => {
    switch (msg.op) {
      case 'load': {
        const { session, provider, fallbackReason } = await create(msg.bytes, msg.providers, msg.threads, msg.cpuMemArena);
        sessions.set(msg.session, session);
        return {
          reply: { op: 'loaded', req: msg.req, provider, fallbackReason, inputs: meta(session.inputMetadata), outputs: meta(session.outputMetadata) },
          transfer: [],
        };
      }
      case 'run': {
        const session = sessions.get(msg.session);
        if (!session) throw new Error(`session ${msg.session} is not loaded in this worker`);
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
        const started = performance.now();
        const result = msg.fetches ? await session.run(feeds, [...msg.fetches]) : await session.run(feeds);
        const runMs = performance.now() - started;
        const outputs: Record<string, TensorData> = {};
        const transfer = new Set<ArrayBuffer>();
        for (const [name, value] of Object.entries(result)) {
          const data = value.data as TensorData['data'];
          outputs[name] = { type: value.type as TensorData['type'], data, dims: [...value.dims] };
          if (data.buffer instanceof ArrayBuffer) transfer.add(data.buffer);
        }
        return { reply: { op: 'result', req: msg.req, outputs, runMs }, transfer: [...transfer] };
      }
      case 'unload': {
        const session = sessions.get(msg.session);
        sessions.delete(msg.session);
        if (session) await session.release();
        return { reply: { op: 'unloaded', req: msg.req }, transfer: [] };
      }
    }
  };

  port.on('message', (msg: WorkerRequest) => {
    handle(msg).then(
      ({ reply, transfer }) => {
        try {
          port.postMessage(reply, transfer);
        } catch {
          port.postMessage(reply); // a buffer that cannot be transferred is copied instead
        }
      },
      (err: unknown) => port.postMessage({ op: 'error', req: msg.req, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

if (!parentPort) throw new Error('session-worker.js must run in a worker thread (worker-pool.ts starts it)');
main(parentPort);
