// How long the calling thread has waited for a CPU: Linux's per-thread schedstat (time spent
// runnable but not running). On a busy machine a measured statement loses the CPU now and then;
// the line profilers say so instead of passing that wall time off as the lines' own.
import { readFileSync } from 'node:fs';

/** Milliseconds this thread has spent waiting for a CPU since it started, or undefined off Linux. */
export function threadWaitMs(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}
