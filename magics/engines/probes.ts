// What a probe is: the text inserted before each statement and around each function body, and the
// recorders those probes call. The instrumenter (instrument.ts) decides where probes go.
//
// Two kinds: a recorder's, for the modes that time or measure each line (each function body keeps
// its current line in a local and a frame from `R.e()`, closed in a `finally` by `R.x`, so recursion
// and nested functions keep their own), and a bare counter (`H[LINE]++`) for hits alone. A global
// symbol read per call and property loads per probe cost ~50 ns a statement in code not yet
// optimized, so what probes use arrives as closure parameters.
import { types } from 'node:util';
import type { Instrumentation, ProbeStyle } from './instrument.js';

/**
 * What a probe recorder implements: enter a frame, move from one line to the next, exit a frame.
 * `m` marks the lines whose probe needs the recorder; hits are counted in `h` inline, by the
 * instrumented code. Both have a last slot, `none`, for "no line yet", which `m` never marks.
 */
export interface Recorder<Frame> {
  e(): Frame;
  /** From line `from` (or `none`) to `line`; returns `line`. */
  l(frame: Frame, from: number, line: number): number;
  x(frame: Frame, from: number): void;
  readonly m: Uint8Array;
  /**
   * Hit counters. An Int32Array (%mprun's) is counted without allocating even in code V8 has not
   * optimized (a Float64Array's `h[i]++` makes two 16-byte HeapNumbers there, which %mprun would
   * count as the line's): it wraps past 2^32 to 0, and the probe then calls `w(line)`.
   */
  readonly h: Float64Array | Int32Array;
  w?(line: number): number;
  readonly none: number;
}

/**
 * Probes that keep a recorder informed; lines it does not watch are only counted, inline.
 * `rarely`: the recorder watches few line runs (%mprun stops watching a line once it is seen not to
 * allocate), so its `l` is called through a Proxy, which V8's optimizing compiler does not inline:
 * inlined at every probe, a heavy `l` (two heap readings) made compiling the instrumented copy take
 * 13–16 ms, longer than a short run (primes(2,000): 15–19 ms → 7–10 ms in a bare node).
 */
export function recorderProbes<F>(recorder: Recorder<F>, rarely = false): Instrumentation {
  const none = recorder.none;
  const r: Recorder<F> = rarely
    ? { e: () => recorder.e(), l: new Proxy(recorder.l.bind(recorder), {}), x: (f, from) => recorder.x(f, from), w: (line) => recorder.w!(line), m: recorder.m, h: recorder.h, none }
    : recorder;
  const count = types.isInt32Array(recorder.h)
    ? (line: number): string => `((__tsprof_h[${line}] = (__tsprof_h[${line}] + 1) | 0) || __tsprof_r.w(${line}))`
    : (line: number): string => `__tsprof_h[${line}]++`;
  return {
    args: [r, recorder.m, recorder.h],
    style: {
      params: ['__tsprof_r', '__tsprof_m', '__tsprof_h'],
      open: (f) => ` let ${f}l = ${none}; const ${f} = __tsprof_r.e(); try {`,
      close: (f) => `} finally { __tsprof_r.x(${f}, ${f}l); }`,
      // Count; then leaving or reaching a line the recorder watches calls it. The count comes first
      // on every path so that each access has run before V8 optimizes the function: an access with
      // no feedback yet (a line's count, reached only once the recorder stops watching it) made
      // the optimized code bail out and the rest of the run stay in the interpreter (measured: 4×).
      line: (f, line) => `(${count(line)}, (__tsprof_m[${f}l] | __tsprof_m[${line}]) ? (${f}l = __tsprof_r.l(${f}, ${f}l, ${line})) : (${f}l = ${line}));`,
      hit: count,
    },
  };
}

/**
 * Bare counters: `H[LINE]++` before each statement and `H[calls]++` on each call of the profiled
 * function (the last slot), on a Float64Array: exact to 2^53, where a Uint32Array would wrap after
 * 4e9 hits, seconds of a tight loop. Optimized code keeps them to an increment each: 1.1× (calls)
 * to 1.4× (tight loops) where V8's block coverage costs 2–2.7×.
 */
export function countingProbes(hits: Float64Array): Instrumentation {
  return { args: [hits], style: { params: ['__tsprof_h'], ...counting('__tsprof_h', hits.length - 1) } };
}

/**
 * Counters read from a global of the user's realm named `name` (host.ts bindUserConstant), for a
 * function recompiled in place: probes that declare nothing leave its scope as it was, so LiveEdit
 * patches the closures and methods that exist (a class's objects made before the run).
 */
export function globalCountingProbes(name: string, slots: number): ProbeStyle {
  return { params: [], ...counting(name, slots - 1) };
}

function counting(h: string, calls: number): Omit<ProbeStyle, 'params'> {
  return {
    open: (_f, outermost) => (outermost ? ` ${h}[${calls}]++;` : ''),
    close: () => '',
    expression: () => [`(${h}[${calls}]++, `, ')'],
    line: (_f, line) => `${h}[${line}]++;`,
    hit: (line) => `${h}[${line}]++`,
  };
}

/** Exact wall time per line, inclusive of callees (line_profiler's semantics), and hits. */
export class TimeRecorder implements Recorder<{ t: number }> {
  readonly hits: Float64Array;
  readonly time: Float64Array;
  /** Every line is timed. */
  readonly m: Uint8Array;
  readonly h: Float64Array;
  readonly none: number;
  /** Frames entered: calls of the instrumented functions. */
  calls = 0;
  constructor(lines: number) {
    this.none = lines;
    this.hits = new Float64Array(lines + 1);
    this.time = new Float64Array(lines + 1);
    this.m = new Uint8Array(lines + 1).fill(1);
    this.m[this.none] = 0;
    this.h = this.hits;
  }
  e(): { t: number } {
    this.calls++;
    return { t: 0 };
  }
  l(f: { t: number }, from: number, line: number): number {
    const now = performance.now();
    if (from !== this.none) this.time[from] += now - f.t;
    f.t = now;
    return line;
  }
  x(f: { t: number }, from: number): void {
    if (from !== this.none) this.time[from] += performance.now() - f.t;
  }
}

/**
 * Exact mode (%lprun -x): hits, and the time of each line from a clock another thread publishes in
 * a SharedArrayBuffer (line-clock.ts), an Int32 count of µs read like any array element. A plain
 * read, not Atomics.load (3× the probe's cost here): V8 does not hoist it out of loops (measured:
 * the clock's advance over a run equals the run's wall time whenever the clock thread had a CPU). Everything is inline — no call
 * per statement — so a probe costs a few loads and stores: a frame keeps its current line (`l`),
 * when that line began (`t`) and a scratch reading (`n`); moving to a line adds the time since `t`
 * to the line left. A line's time runs until the next probe of the same frame, so it includes what
 * the line calls (line_profiler's semantics); a frame's last line is closed in the `finally`.
 * `time` and `hits` have a last slot, `none`, for "no line yet"; `hits[none]` counts calls.
 */
export function clockProbes(hits: Float64Array, time: Float64Array, clock: Int32Array, clockSlot: number): Instrumentation {
  const none = hits.length - 1;
  return {
    args: [hits, time, clock],
    style: {
      params: ['__tsprof_h', '__tsprof_T', '__tsprof_c'],
      open: (f, outermost) => ` let ${f}l = ${none}, ${f}t = __tsprof_c[${clockSlot}], ${f}n = 0;${outermost ? ` __tsprof_h[${none}]++;` : ''} try {`,
      close: (f) => `} finally { __tsprof_T[${f}l] += (__tsprof_c[${clockSlot}] - ${f}t) | 0; }`,
      expression: () => [`(__tsprof_h[${none}]++, `, ')'],
      line: (f, line) => `(__tsprof_h[${line}]++, ${f}n = __tsprof_c[${clockSlot}], __tsprof_T[${f}l] += (${f}n - ${f}t) | 0, ${f}t = ${f}n, ${f}l = ${line});`,
      hit: (line) => `__tsprof_h[${line}]++`,
    },
  };
}

/**
 * Default %lprun: hits, and the current line of every active frame on a shared stack that a
 * sampling thread reads (line-clock.ts). A frame's depth is the stack's depth at entry + 1; each
 * probe sets the depth back to its own (so a frame resumed after an `await` repairs it) and writes
 * its line's slot (`base + line`). `hits` has a last slot counting calls.
 */
export function stackProbes(hits: Float64Array, stack: Int32Array, base: number): Instrumentation {
  const calls = hits.length - 1;
  return {
    args: [hits, stack],
    style: {
      params: ['__tsprof_h', '__tsprof_s'],
      open: (f, outermost) => ` const ${f}d = __tsprof_s[0] + 1;${outermost ? ` __tsprof_h[${calls}]++;` : ''} try {`,
      close: (f) => `} finally { __tsprof_s[0] = ${f}d - 1; }`,
      expression: () => [`(__tsprof_h[${calls}]++, `, ')'],
      line: (f, line) => `(__tsprof_h[${line}]++, __tsprof_s[0] = ${f}d, __tsprof_s[${f}d] = ${base + line});`,
      hit: (line) => `__tsprof_h[${line}]++`,
    },
  };
}
