// Interrupting whatever runs on the main thread, wherever it runs.
//
// The I/O thread holds an inspector session on the main thread (kernel/io/interrupter.ts). On an
// interrupt it evaluates `__tsprofSlots.interrupt()` there: V8 runs that between two instructions
// of whatever JavaScript is running — a cell's loop, a loop after an `await`, in a timer, a promise
// callback, an event handler — or from the idle event loop. This function, running on the main
// thread at that point, reads the stack it interrupted:
//
// - user code on it (a cell, a magic's compiled statement, a module the cell imported): clear
//   Node's async-id stack (the callbacks being unwound will never pop their ids; without this Node
//   aborts on "execution_async_id() == 0") and terminate the current execution with V8's
//   Runtime.terminateExecution from the kernel's own session. Termination unwinds to the nearest
//   boundary — the cell's Runtime.evaluate, or the event-loop callback — and V8 then cancels it; the
//   event loop carries on and every variable survives. The I/O thread then calls again.
// - nothing on it (idle): the cell's pending awaits are released (KeyboardInterrupt) on the next
//   turn of the event loop; V8 drops the microtasks pending at a termination, so a turn, not a
//   microtask, carries it.
// - only the kernel's own code: it is not stopped midway; the I/O thread asks again shortly.
//
// What a termination takes with it: in a microtask, V8 drops every microtask still queued, the
// kernel's among them; so nothing the kernel waits on across a cell is a job queued in the cell's
// turn — it waits on the evaluator's promise, settled from a later turn (see session.ts runCell).
// In an immediate, Node loses the rest of the batch: handed on just before (lost-immediates.ts).
import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import { LostImmediates, type InspectSync } from './lost-immediates.js';
import { slots } from './user-realm.js';

export type InterruptState = 'terminated' | 'idle' | 'kernel';

/** Where the interrupt's own evaluation shows in the stack (kernel/io/interrupter.ts names it). */
export const INTERRUPT_URL = 'tsprof-interrupt';

/** The package's compiled code: kernel/, magics/ and the kernel realm's bundle all live under dist/. */
const DIST = dirname(dirname(dirname(fileURLToPath(import.meta.url)))) + sep;

type ClearAsyncIds = () => void;

/** Node's async_wrap binding, read once before any cell runs (its deprecation warning silenced). */
function asyncIdStackClearer(): ClearAsyncIds {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const binding = (process as unknown as { binding(name: string): { clearAsyncIdStack(): void } }).binding('async_wrap');
    return () => binding.clearAsyncIdStack();
  } finally {
    process.noDeprecation = quiet;
  }
}

function isKernelFrame(frame: string): boolean {
  return frame.includes(DIST) || frame.includes('node:') || frame.includes('tsprof-runner') || frame.includes('tsprof-slots') || /\(<anonymous>\)$|at <anonymous>$|\(native\)$/.test(frame);
}

export interface InterruptTarget {
  /** Release the running cell's awaits with KeyboardInterrupt. */
  interrupt(): void;
  /** Which cell runs now (a number that changes with each new cell). */
  cell(): number;
  /** Terminate the JavaScript running now (V8 Runtime.terminateExecution, synchronously dispatched). */
  terminateNow(): void;
  /** A synchronous call on the main thread's own inspector session. */
  inspect: InspectSync;
  log(line: string): void;
}

export function installInterruptPoint(target: InterruptTarget): void {
  const clearAsyncIds = asyncIdStackClearer();
  // Captured now: setImmediate must work even if a cell replaced or deleted the global one.
  const nextTurn = setImmediate;
  const immediates = new LostImmediates(target.inspect, target.log);
  slots.interrupt = (expected?: number): { state: InterruptState; cell: number } => {
    const cell = target.cell();
    // A later cell is not the one the user stopped: the interrupt is over.
    if (expected !== undefined && expected !== cell) return { state: 'idle', cell };
    return { state: stop(), cell };
  };
  const stop = (): InterruptState => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = Infinity;
    const stack = String(new Error().stack).split('\n');
    Error.stackTraceLimit = limit;
    const own = stack.findIndex((l) => l.includes(INTERRUPT_URL));
    const below = stack.slice(own + 1).filter((l) => /^\s+at /.test(l));
    if (below.length === 0) {
      // Only the cell that was running when asked: the next one may start before that turn comes.
      const cell = target.cell();
      nextTurn(() => {
        if (target.cell() === cell) target.interrupt();
      });
      return 'idle';
    }
    if (below.every(isKernelFrame)) return 'kernel';
    immediates.beforeTermination();
    clearAsyncIds();
    target.terminateNow();
    return 'terminated';
  };
}
