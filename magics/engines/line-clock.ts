// A helper thread for the per-line modes of %lprun: a clock that costs a memory read, and a sampler
// of the profiled functions' current lines.
//
// A `performance.now()` read costs 25-55 ns here, more than a typical JavaScript line, so exact
// line timing with it cost 31-38× plain. Instead this thread publishes the time in a
// SharedArrayBuffer while a measurement runs (`clock` mode: it spins, writing `performance.now()`),
// and the probes read it like any Float64Array element (a few ns). Resolution: the spacing of the
// thread's writes as the main thread sees them, measured 0.3-2 µs on a loaded 2-core machine; a
// line's time is the sum of clock differences, which a stepped clock with a random phase estimates
// without bias. It counts microseconds and is written only when it changes: each write costs every
// reader a cache miss, and at 100 ns units that made a probe cost 4× more.
//
// `sample` mode, for %lprun without flags: the probes keep a stack of the current line of every
// active frame of a profiled function (`stack[0]` is the depth), and this thread wakes every
// ~50-150 µs (Atomics.wait) and credits the time since its last wake to every line on that stack:
// a line's time includes what it calls (line_profiler's semantics), and a recursive function's
// levels each count it, as line_profiler does.
//
// Both modes need this thread to run beside the main thread. On a VM whose CPUs share no cache the
// kernel knows of (Firecracker's, CI's), Linux often wakes it on the main thread's CPU and moves it
// only at a later balancing tick (2-4 ms): measured, 1 run in 4 of a 2 ms statement got no sample
// at all. So before the statement the main thread spins until it has seen the thread run alongside
// (settle(), called right before the statement: an await on the way there can wake it back on the
// helper's CPU): 0.4 ms when they are apart, up to a balancing tick when they are not.
//
// The thread lives for the kernel's life once started (unref'd, blocked in its event loop when idle).
import { availableParallelism } from 'node:os';
import { HelperThread } from './thread.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const answers = workerData.port;
parentPort.on('message', (m) => {
  const ctl = new Int32Array(m.control);
  if (m.mode === 'clock') {
    let last = (performance.now() * 1e3) | 0;
    Atomics.store(ctl, 16, last);
    Atomics.store(ctl, 24, 0);
    answers.postMessage('started');
    // Written only when it changes: every write costs each reader a cache miss. A step longer than
    // 100 µs means this thread waited for a CPU: its length is added up in slot 24.
    let stalled = 0;
    while (Atomics.load(ctl, 0) === 1) {
      const now = (performance.now() * 1e3) | 0;
      if (now !== last) {
        if (now - last > 100) Atomics.store(ctl, 24, (stalled += now - last));
        Atomics.store(ctl, 16, (last = now));
      }
    }
  } else {
    const stack = new Int32Array(m.stack);
    const ticks = new Float64Array(m.ticks);
    const stats = new Float64Array(m.stats);
    const waitMs = m.intervalUs / 1000;
    let last = performance.now();
    answers.postMessage('started');
    while (Atomics.load(ctl, 0) === 2) {
      Atomics.wait(ctl, 0, 2, waitMs);
      Atomics.add(ctl, 8, 1);
      const now = performance.now();
      const dt = now - last;
      last = now;
      // Time watched: a wake more than 1 ms later than asked means this thread waited for a CPU,
      // and what ran in between is a guess (it goes to the lines current now).
      stats[0] += dt < waitMs + 1 ? dt : waitMs + 1;
      const depth = Math.min(stack[0], stack.length - 1);
      for (let d = 1; d <= depth; d++) {
        const slot = stack[d];
        if (slot >= 0 && slot < ticks.length) ticks[slot] += dt;
      }
    }
  }
  answers.postMessage('stopped');
});
`;

/**
 * Index of the published time in `clockArray()` (its own cache line, away from the control word):
 * an Int32 count of microseconds that wraps (differences taken with `| 0` are right up to 35 min).
 */
export const CLOCK_SLOT = 16;
/** Microseconds the clock thread spent waiting for a CPU in steps over 100 µs, since the clock started. */
export const STALL_SLOT = 24;
/** Index in the control array of the sampler's count of its wakes. */
const WAKES_SLOT = 8;
/** Longest the main thread waits to see the helper run alongside before it starts the statement anyway. */
const SETTLE_MS = 10;
/** Clock units per millisecond. */
export const CLOCK_PER_MS = 1e3;
/** Frames the sampler's stack holds; deeper frames are not credited. */
export const STACK_SLOTS = 1 << 16;
/** How often the sampler wakes, asked of Atomics.wait (it wakes later on a loaded machine). */
export const SAMPLE_INTERVAL_US = 50;

const control = new SharedArrayBuffer(128);
const ctl = new Int32Array(control);
const clockView = ctl;
const stackBuffer = new SharedArrayBuffer(4 * STACK_SLOTS);
const stackView = new Int32Array(stackBuffer);
const samplerStats = new Float64Array(new SharedArrayBuffer(8));
let samplerIntervalUs = SAMPLE_INTERVAL_US;
let worker: HelperThread<string> | undefined;
let busy = false;

/** The array the probes read the clock from, at CLOCK_SLOT (see there). */
export function clockArray(): Int32Array {
  return clockView;
}

/** The sampler's stack: [depth, slot of depth 1, slot of depth 2, …]. */
export function sampleStack(): Int32Array {
  return stackView;
}

function thread(): HelperThread<string> {
  // A thread that failed starts again at the next run.
  if (!worker || worker.exited) worker = new HelperThread<string>(WORKER, { eval: true, stdout: false, stderr: false });
  return worker;
}

async function during<T>(mode: 1 | 2, message: object, body: () => Promise<T>): Promise<T> {
  if (busy) throw new Error('the line clock is already in use (nested %lprun?)');
  busy = true;
  const w = thread();
  try {
    Atomics.store(ctl, 0, mode);
    Atomics.store(clockView, CLOCK_SLOT, (performance.now() * CLOCK_PER_MS) | 0);
    const started = w.answer();
    w.postMessage({ ...message, control });
    await started;
    const stopped = w.answer();
    try {
      return await body();
    } finally {
      Atomics.store(ctl, 0, 0);
      Atomics.notify(ctl, 0);
      await stopped;
    }
  } finally {
    Atomics.store(ctl, 0, 0);
    busy = false;
  }
}

/**
 * While the clock or the sampler runs: spin until the helper thread is seen running at the same time
 * as this one, SETTLE_MS at most (the sampler has woken 3 times, or the clock has moved 20 times).
 * A thread queued on this CPU does neither while this one spins, and Linux moves one of them to a
 * free CPU at its next balancing.
 */
export function settle(): void {
  const mode = Atomics.load(ctl, 0);
  // A sampler asked to wake less often than every millisecond (-i) cannot show itself in time.
  if ((mode !== 1 && mode !== 2) || (mode === 2 && samplerIntervalUs > 1000) || availableParallelism() < 2) return;
  const start = performance.now();
  if (mode === 2) {
    const w0 = Atomics.load(ctl, WAKES_SLOT);
    while (Atomics.load(ctl, WAKES_SLOT) - w0 < 3 && performance.now() - start < SETTLE_MS);
    return;
  }
  let seen = Atomics.load(ctl, CLOCK_SLOT);
  for (let moves = 0; moves < 20 && performance.now() - start < SETTLE_MS; ) {
    const now = Atomics.load(ctl, CLOCK_SLOT);
    if (now !== seen) {
      seen = now;
      moves++;
    }
  }
}

/**
 * Start watching the helper thread (the clock or the sampler, whichever runs); the function returned
 * gives the share of the time since then (until `end`, a performance.now()) that the helper had a CPU, or undefined when no helper runs
 * or the stretch was too short to tell (the sampler needs a few of its intervals, at least 1 ms).
 * Below 1 the helper waited for a CPU: the clock stood still and then jumped (its jumps go to the
 * lines current then), or the sampler did not see what ran (its wakes count at most 1 ms more than
 * its interval each).
 */
export function watchHelper(): (end?: number) => number | undefined {
  const mode = Atomics.load(ctl, 0);
  const t0 = performance.now();
  const stalled0 = Atomics.load(ctl, STALL_SLOT);
  const clock0 = Atomics.load(ctl, CLOCK_SLOT);
  const watched0 = samplerStats[0];
  return (end = performance.now()) => {
    const elapsedMs = end - t0;
    if (mode === 1) {
      if (elapsedMs <= 0) return undefined;
      // The clock's own count of its waits misses a thread that got no CPU at all: then it did not move.
      const stalledMs = (Atomics.load(ctl, STALL_SLOT) - stalled0) / CLOCK_PER_MS;
      const advancedMs = ((Atomics.load(ctl, CLOCK_SLOT) - clock0) | 0) / CLOCK_PER_MS;
      return Math.max(0, Math.min(1, 1 - stalledMs / elapsedMs, advancedMs / elapsedMs));
    }
    if (mode === 2 && elapsedMs >= Math.max(1, (3 * samplerIntervalUs) / 1e3)) return Math.min(1, (samplerStats[0] - watched0) / elapsedMs);
    return undefined;
  };
}

/** Run `body` while the clock at clockArray()[CLOCK_SLOT] advances. */
export function withClock<T>(body: () => Promise<T>): Promise<T> {
  return during(1, { mode: 'clock' }, body);
}

/**
 * Run `body` while the sampler credits the lines on sampleStack() into `ticks` (milliseconds per
 * slot). The stack is reset first.
 */
export function withLineSampler<T>(ticks: Float64Array, body: () => Promise<T>, intervalUs = SAMPLE_INTERVAL_US): Promise<T> {
  if (!(ticks.buffer instanceof SharedArrayBuffer)) throw new Error('the sampler needs ticks in a SharedArrayBuffer');
  stackView[0] = 0;
  samplerStats[0] = 0;
  samplerIntervalUs = intervalUs;
  return during(2, { mode: 'sample', stack: stackBuffer, ticks: ticks.buffer, stats: samplerStats.buffer, intervalUs }, body);
}
