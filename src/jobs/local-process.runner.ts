/**
 * Runs `python -m meridian_trainer …` as a local process. The trainer is spawned detached, as the
 * leader of its own process group, so stopping it stops everything it started (SIGTERM to the
 * group, SIGKILL after a grace period). If this worker dies, the trainer's stdout pipe breaks and
 * it fails at its next progress line; the reaper also kills the group by the pid in the job row.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../common/logger';
import type { JobRunner, RunHooks, RunResult, TrainerTask } from './job-runner';
import { LineSplitter, parseTrainerLine, type TrainerEvent, TailBuffer } from './trainer-output';

export interface LocalRunnerOptions {
  readonly python: string;
  /** Working directory: the trainer package's parent (so `-m meridian_trainer` resolves). */
  readonly trainerDir: string;
  /** SIGTERM → SIGKILL delay. Defaults to 2000 ms (the trainer exits promptly on SIGTERM). */
  readonly killGraceMs?: number;
  /** Extra environment for the trainer (e.g. MERIDIAN_TRAINER_THREADS). */
  readonly env?: Readonly<Record<string, string>>;
}

/** The trainer's argv for a task (exported for the docs and tests). */
export function trainerArgs(task: TrainerTask): string[] {
  const common = ['--kind', task.kind, '--data', task.data, '--seed', String(task.seed), '--config', JSON.stringify(task.config)];
  if (task.command === 'train') {
    return ['-m', 'meridian_trainer', 'train', ...common, '--out', task.out, ...(task.base ? ['--base', task.base] : [])];
  }
  return ['-m', 'meridian_trainer', 'evaluate', ...common, '--model', task.model];
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

export class LocalProcessRunner implements JobRunner {
  readonly name = 'local';
  private readonly host = os.hostname();

  constructor(
    private readonly opts: LocalRunnerOptions,
    private readonly logger: Logger,
  ) {}

  run(task: TrainerTask, workDir: string, hooks: RunHooks, signal: AbortSignal): Promise<RunResult> {
    fs.mkdirSync(workDir, { recursive: true });
    const logFile = fs.createWriteStream(path.join(workDir, `trainer-${task.command}.stderr.log`), { flags: 'a' });
    const child = spawn(this.opts.python, trainerArgs(task), {
      cwd: this.opts.trainerDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...this.opts.env },
    });
    const pid = child.pid ?? null;
    const tail = new TailBuffer();
    const lines = new LineSplitter();
    let done: Extract<TrainerEvent, { event: 'done' }> | null = null;
    let errorMessage: string | null = null;
    let spawnError: Error | null = null as Error | null;
    const grace = this.opts.killGraceMs ?? 2000;
    let killTimer: NodeJS.Timeout | null = null;

    const handle = (line: string) => {
      const ev = parseTrainerLine(line);
      if (!ev) return;
      if (ev.event === 'done') done = ev;
      if (ev.event === 'error') errorMessage = ev.message;
      try {
        hooks.onEvent?.(ev);
      } catch (err) {
        this.logger.warn({ err }, 'trainer event handler failed');
      }
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk).forEach(handle));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      tail.push(chunk);
      logFile.write(chunk);
      hooks.onLog?.(chunk);
    });
    if (pid !== null) hooks.onStart?.({ ref: String(pid), host: this.host });

    const stop = () => {
      if (pid === null) return;
      this.logger.info({ pid, command: task.command }, 'stopping trainer process group');
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
      killTimer.unref();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });

    return new Promise<RunResult>((resolve) => {
      let settled = false;
      const finish = (code: number | null, sig: string | null) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', stop);
        if (killTimer) clearTimeout(killTimer);
        lines.flush().forEach(handle);
        logFile.end();
        if (spawnError) tail.push(`\nspawn ${this.opts.python} failed: ${spawnError.message}\n`);
        resolve({ exitCode: code, signal: sig, done, errorMessage, stderrTail: tail.text() });
      };
      // Anything the trainer started that outlived it goes with the group (and releases the pipes).
      child.on('exit', () => {
        if (pid !== null) killGroup(pid, 'SIGKILL');
      });
      child.on('close', (code, sig) => finish(code, sig));
      child.on('error', (err) => {
        spawnError = err;
        if (pid === null) finish(null, null); // never started: no 'close' to wait for
      });
    });
  }

  /**
   * Kills the process group a dead worker left behind, after checking on /proc that the process is
   * still a trainer working in `marker` (the job's directory), so a reused pid is never touched.
   * Only on this host, and only for a reference this runner wrote (a process group id).
   */
  stopOrphan(ref: string, host: string, marker: string): boolean {
    if (host !== this.host || !/^[1-9]\d{0,9}$/.test(ref)) return false;
    const pid = Number(ref);
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return false; // gone, or no /proc on this platform
    }
    if (!cmdline.includes('meridian_trainer') || !cmdline.includes(marker)) return false;
    this.logger.warn({ pid, marker }, 'killing a trainer left behind by a dead worker');
    return killGroup(pid, 'SIGKILL');
  }
}
