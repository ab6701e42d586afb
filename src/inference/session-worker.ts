/**
 * The body of an inference worker thread: it owns ONNX Runtime sessions and runs them, so
 * `session.run()` (synchronous native work) never blocks the server's event loop.
 *
 * `sessionWorkerMain` is serialised with Function#toString and started with `eval: true`
 * (worker-pool.ts), so the same code runs from the tsc build and under ts-jest without a build
 * step. It must therefore be self-contained: no imports, no references to module scope; it
 * loads onnxruntime-node from the absolute path passed in workerData.
 */
import type * as Ort from 'onnxruntime-node';
import type { TensorData } from './tensor';

export interface WorkerInit {
  /** require.resolve('onnxruntime-node') in the parent. */
  readonly ortPath: string;
}

export interface ValueMeta {
  readonly name: string;
  readonly type: string | null;
  readonly shape: readonly (number | string)[];
}

export type WorkerRequest =
  | {
      readonly op: 'load';
      readonly req: number;
      readonly session: number;
      readonly bytes: Uint8Array;
      readonly providers: readonly string[];
      readonly threads: number;
      readonly cpuMemArena: boolean;
    }
  | {
      readonly op: 'run';
      readonly req: number;
      readonly session: number;
      readonly feeds: Record<string, TensorData>;
      readonly fetches: readonly string[] | null;
    }
  | { readonly op: 'unload'; readonly req: number; readonly session: number };

export type WorkerReply =
  | {
      readonly op: 'loaded';
      readonly req: number;
      readonly provider: string;
      /** Set when the requested providers failed and the session fell back to CPU. */
      readonly fallbackReason: string | null;
      readonly inputs: ValueMeta[];
      readonly outputs: ValueMeta[];
    }
  | { readonly op: 'result'; readonly req: number; readonly outputs: Record<string, TensorData>; readonly runMs: number }
  | { readonly op: 'unloaded'; readonly req: number }
  | { readonly op: 'error'; readonly req: number; readonly message: string };

export function sessionWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- this function runs as a standalone worker script */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const ort = require((workerData as WorkerInit).ortPath) as typeof Ort;
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (!parentPort) throw new Error('sessionWorkerMain must run in a worker thread');
  const port = parentPort;
  const sessions = new Map<number, Ort.InferenceSession>();

  const meta = (list: readonly Ort.InferenceSession.ValueMetadata[]): ValueMeta[] =>
    list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: null, shape: [] }));

  const create = async (bytes: Uint8Array, providers: readonly string[], threads: number, cpuMemArena: boolean) => {
    const options = (eps: readonly string[]): Ort.InferenceSession.SessionOptions => ({
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
        const feeds: Record<string, Ort.Tensor> = {};
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
