/**
 * A small pool of inference worker threads. Each ONNX session is created once, in one worker
 * (the one holding the fewest model bytes), and every run of that session goes there. Execution
 * providers come from config; when an accelerator cannot load, the worker falls back to CPU
 * explicitly, the pool logs it once and asks for CPU directly from then on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger';
import type { ValueMeta, WorkerReply, WorkerRequest } from './session-worker.protocol';
import type { Feeds } from './tensor';

export interface PoolOptions {
  /** Worker threads. */
  readonly size: number;
  /** ORT intra-op threads per session. */
  readonly threads: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu']. */
  readonly providers: readonly string[];
  /** ORT's CPU memory arena (default false: memory goes back to the allocator when a session is released). */
  readonly cpuMemArena?: boolean;
}

export interface SessionInfo {
  readonly id: number;
  readonly provider: string;
  readonly inputs: readonly ValueMeta[];
  readonly outputs: readonly ValueMeta[];
}

interface Slot {
  worker: Worker;
  bytes: number;
  sessions: Set<number>;
  pending: Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>;
}

/**
 * The compiled worker script: beside this file in the build, and from the build when this file runs
 * as TypeScript (ts-jest), so the tests run the same script as the server (`npm test` builds first).
 */
function workerScript(): string {
  const beside = path.join(__dirname, 'session-worker.js');
  if (fs.existsSync(beside)) return beside;
  const built = path.resolve(__dirname, '../../dist/src/inference/session-worker.js');
  const source = path.join(__dirname, 'session-worker.ts');
  if (!fs.existsSync(built)) throw new Error(`the inference worker script is not built (${built}): run npm run build`);
  if (fs.existsSync(source) && fs.statSync(source).mtimeMs > fs.statSync(built).mtimeMs) {
    throw new Error(`${built} is older than ${source}: run npm run build`);
  }
  return built;
}

export class WorkerPool {
  private slots: Slot[] = [];
  private readonly placement = new Map<number, { slot: Slot; bytes: number }>();
  private nextReq = 1;
  private nextSession = 1;
  private providers: readonly string[];
  private fallbackLogged = false;
  private stopped = false;

  constructor(
    private readonly opts: PoolOptions,
    private readonly logger: Logger,
    /** Called with the session ids a crashed worker held. */
    private readonly onSessionsLost: (ids: number[]) => void = () => undefined,
  ) {
    this.providers = opts.providers.length ? opts.providers : ['cpu'];
  }

  /** Providers new sessions ask for (CPU only once an accelerator has failed). */
  get effectiveProviders(): readonly string[] {
    return this.providers;
  }

  private ensureStarted(): void {
    if (this.stopped) throw new Error('the inference worker pool is stopped');
    while (this.slots.length < Math.max(1, this.opts.size)) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerScript());
    // Referenced only while it owes a reply: an idle pool never keeps the process alive, but a
    // script awaiting a run or a load is not left hanging by an exiting event loop.
    worker.unref();
    const slot: Slot = { worker, bytes: 0, sessions: new Set(), pending: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      const p = slot.pending.get(reply.req);
      if (!p) return;
      slot.pending.delete(reply.req);
      if (slot.pending.size === 0) worker.unref();
      if (reply.op === 'error') p.reject(new Error(reply.message));
      else p.resolve(reply);
    });
    const lost = (why: string) => {
      const err = new Error(`inference worker stopped: ${why}`);
      slot.pending.forEach((p) => p.reject(err));
      slot.pending.clear();
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const ids = [...slot.sessions];
      ids.forEach((id) => this.placement.delete(id));
      if (this.stopped) return;
      this.logger.error({ why, sessions: ids.length }, 'inference worker died; its sessions are reloaded');
      this.onSessionsLost(ids);
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return slot;
  }

  private send(slot: Slot, msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(msg.req, { resolve, reject });
      try {
        slot.worker.postMessage(msg, transfer);
      } catch (err) {
        slot.pending.delete(msg.req);
        if (slot.pending.size === 0) slot.worker.unref();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Creates a session from model bytes (transferred to the worker: do not reuse them). */
  async load(bytes: Uint8Array): Promise<SessionInfo> {
    this.ensureStarted();
    const slot = this.slots.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    const id = this.nextSession++;
    const size = bytes.byteLength;
    // Counted before the load finishes, so loads started together spread over the workers.
    slot.bytes += size;
    const transferable = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    let reply: WorkerReply;
    try {
      reply = await this.send(
        slot,
        { op: 'load', req: this.nextReq++, session: id, bytes, providers: this.providers, threads: this.opts.threads, cpuMemArena: this.opts.cpuMemArena ?? false },
        transferable ? [bytes.buffer] : [],
      );
    } catch (err) {
      slot.bytes -= size;
      throw err;
    }
    if (reply.op !== 'loaded') throw new Error(`unexpected reply ${reply.op}`);
    if (reply.fallbackReason !== null) {
      if (!this.fallbackLogged) {
        this.fallbackLogged = true;
        this.logger.warn(
          { requested: this.providers, reason: reply.fallbackReason },
          'execution provider unavailable; falling back to CPU for all models',
        );
      }
      this.providers = ['cpu'];
    }
    slot.sessions.add(id);
    this.placement.set(id, { slot, bytes: size });
    return { id, provider: reply.provider, inputs: reply.inputs, outputs: reply.outputs };
  }

  async run(session: number, feeds: Feeds, fetches: readonly string[] | null = null): Promise<{ outputs: Feeds; runMs: number }> {
    const place = this.placement.get(session);
    if (!place) throw new Error(`session ${session} is not loaded`);
    const transfer = [...new Set(Object.values(feeds).map((t) => t.data.buffer))].filter(
      (b): b is ArrayBuffer => b instanceof ArrayBuffer,
    );
    // Feeds built for this call are transferred, not copied; callers never reuse them.
    const reply = await this.send(place.slot, { op: 'run', req: this.nextReq++, session, feeds, fetches }, transfer);
    if (reply.op !== 'result') throw new Error(`unexpected reply ${reply.op}`);
    return { outputs: reply.outputs, runMs: reply.runMs };
  }

  /** Whether `session` is loaded (a crashed worker's sessions are not). */
  holds(session: number): boolean {
    return this.placement.has(session);
  }

  async unload(session: number): Promise<void> {
    const place = this.placement.get(session);
    if (!place) return;
    this.placement.delete(session);
    place.slot.sessions.delete(session);
    place.slot.bytes -= place.bytes;
    await this.send(place.slot, { op: 'unload', req: this.nextReq++, session });
  }

  /** Live sessions per worker (tests and metrics). */
  sessionsPerWorker(): number[] {
    return this.slots.map((s) => s.sessions.size);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const slots = this.slots;
    this.slots = [];
    this.placement.clear();
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
