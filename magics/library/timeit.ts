// timeit(fn, options): %timeit for a plain function, from a script or a test runner. The same engine
// (engines/timing.ts) and the same TimeitResult as `%timeit -o`.
import { timeFunction, type Clock, type TimeitResult } from '../engines/timing.js';

export interface TimeitOptions {
  /** Calls per run; omit for autorange (1, 10, 100, … until a run takes ≥ 0.2 s). */
  loops?: number;
  /** Runs (default 7). */
  repeat?: number;
  /** `perf` (performance.now, default), `wall` (Date.now) or `cpu` (process CPU time). */
  clock?: Clock;
  /** Significant digits when the result prints (default 3). */
  precision?: number;
  /** Await what the function returns (default: when it is an async function, or its first call returns a promise). */
  async?: boolean;
}

/**
 * Time `fn` as IPython's %timeit times a statement: R runs of N calls, a GC before each run, the
 * mean ± std. dev. per call, and the warnings (`result.warnings`). `String(result)` is IPython's line.
 *
 *     const r = await timeit(() => primes(2000), { repeat: 7 })
 *     console.log(String(r))   // 312 μs ± 4.1 μs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)
 */
export function timeit(fn: () => unknown, options: TimeitOptions = {}): Promise<TimeitResult> {
  return timeFunction(fn, options);
}
