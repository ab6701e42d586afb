/** Shared helpers for the benchmarks: databases, percentiles, child servers, tables. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';

export const ROOT = path.resolve(__dirname, '../..');

export function adminUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function databaseUrl(name: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops and recreates a database on the real Postgres. */
export async function freshDatabase(name: string): Promise<string> {
  const c = new Client({ connectionString: adminUrl() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  return databaseUrl(name);
}

/** Drops a benchmark's database when it is done (errors ignored: it may be gone already). */
export async function dropDatabase(name: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  await c.end();
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function summarize(ms: number[]): { p50: number; p99: number; mean: number; n: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), n: s.length };
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/** The admin key the benchmark servers accept (MERIDIAN_ADMIN_KEY), unless a bench passes its own. */
export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

/**
 * Starts the built server (dist/src/main.js) as a child process on a free port and waits until it
 * is ready. BENCH_SERVER_NODE_ARGS adds Node flags to the server process only (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile it under the benchmark's load).
 */
/** The /graphql URL a starting server logs with "meridian ready" (its stdout must be piped). */
export function readyUrl(child: ChildProcess): Promise<string> {
  const out = child.stdout;
  if (!out) return Promise.reject(new Error('the server stdout is not piped'));
  return new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:[^"]+)"[^\n]*"msg":"meridian ready"/.exec(buf);
      if (m) {
        out.off('data', onData);
        out.resume();
        resolve(m[1]!);
      }
    };
    out.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${buf.slice(-2000)}`)));
  });
}

export async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/src/main.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MERIDIAN_SEED_DEMO: 'false', MERIDIAN_ADMIN_KEY: BENCH_ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await readyUrl(child);
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function hr(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** A bench run as a script (`node dist/bench/<name>.js`): prints its report, or the error and exit code 1. */
export function printReport(run: Promise<string>): void {
  run
    .then((report) => process.stdout.write(`${report}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
