/**
 * Cooperative time slicing for long synchronous loops on the main thread (hot-spot statistics,
 * noise on thousands of rows): `if (slice.due()) await slice.pause()` inside the loop gives other
 * requests the event loop once about `budgetMs` of work has passed. A single analytics answer
 * used to hold the loop for 300–700 ms, and every other request, /healthz included, waited.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface TimeSlicer {
  /** True once the current slice has used its budget (cheap: reads the clock every 256 calls). */
  due(): boolean;
  /** Yields to the event loop and starts a new slice. */
  pause(): Promise<void>;
}

/** A slicer with `budgetMs` of work per slice. Defaults to 5. */
export function timeSlicer(budgetMs = 5): TimeSlicer {
  let started = performance.now();
  let calls = 0;
  return {
    due() {
      if ((++calls & 255) !== 0) return false;
      return performance.now() - started >= budgetMs;
    },
    async pause() {
      await nextTurn();
      started = performance.now();
    },
  };
}
