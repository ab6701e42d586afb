/**
 * Probes for /readyz: each dependency answers within a bound, or counts as down with the reason.
 * A check that answers a string describes the dependency; the detail then says it and the time.
 */
import type { DependencyState } from './http-server';

export async function probe(check: () => Promise<unknown>, required: boolean, timeoutMs = 2_000): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  try {
    const answer = await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const ms = `${Math.round(performance.now() - started)} ms`;
    return { ok: true, required, detail: typeof answer === 'string' ? `${answer} (${ms})` : ms };
  } catch (err) {
    return { ok: false, required, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
