// Run something under the V8 sampling CPU profiler (and, when asked, precise coverage counts).
import { post, type CpuProfile, type ScriptCoverage } from './inspector.js';

export interface ProfiledRun<T> {
  value: T;
  profile: CpuProfile;
  /** Wall time of the run, in seconds. */
  wall: number;
  /** The run's start and end on the profiler's clock (monotonic, µs): pass as userProfile's window so sampled time stays within the run. */
  startUs: number;
  endUs: number;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Sampling every 100 µs cost 5-20% of a statement's time in this kernel (bench/profilers), every
 * 1000 µs 0-4%; 500 µs keeps the cost low and still gives 100 samples for a 50 ms statement.
 * V8's floor is about 80 µs (`-i` sets it).
 */
export const DEFAULT_INTERVAL_US = 500;

export async function withCpuProfile<T>(intervalUs: number, run: () => Promise<T>): Promise<ProfiledRun<T>> {
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  const startUs = nowUs();
  let value: T;
  try {
    value = await run();
  } catch (e) {
    await post('Profiler.stop').catch(() => undefined);
    throw e;
  }
  const endUs = nowUs();
  const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
  return { value, profile, wall: (endUs - startUs) / 1e6, startUs, endUs };
}

/**
 * Exact counts while `run` runs. Precise coverage keeps functions out of optimized code, so it is a
 * pass of its own, never mixed with timing.
 *
 * `detailed: false` gives exact call counts per function even for functions V8 optimized before
 * coverage started (measured: fib(25) → 242,785). `detailed: true` adds per-block counts, but only
 * for functions compiled while it is on: an already-optimized function reported 836 calls instead
 * of 242,785 and no blocks. Callers that need blocks compile a fresh copy under coverage.
 */
export async function withPreciseCoverage<T>(detailed: boolean, run: () => Promise<T>): Promise<{ value: T; coverage: ScriptCoverage[] }> {
  await post('Profiler.enable');
  await post('Profiler.startPreciseCoverage', { callCount: true, detailed });
  try {
    await post('Profiler.takePreciseCoverage'); // reset the counters
    const value = await run();
    const { result } = await post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage');
    return { value, coverage: result };
  } finally {
    await post('Profiler.stopPreciseCoverage');
  }
}
