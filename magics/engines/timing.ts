// The timing engine behind %timeit, `tsprof timeit` and the library's timeit(): a statement compiled
// into its loop (or a plain function called from a loop made for it), IPython's autorange, R runs of
// N loops with a GC before each, an empty loop of the same shape timed beside the runs when the
// statement is cheap, and the statistics and warnings of IPython's TimeitResult. Front ends render it.
import { parse } from 'acorn';
import { formatTime, plural, thousands } from '../render/format.js';
import { EngineUsageError, MeasurementInterrupted, type EngineHost } from './host.js';
import { gcFunction } from './v8/memory.js';

export type Clock = 'perf' | 'wall' | 'cpu';

/** Per-loop times of the empty loop timed right after each run, same loops, same clock. */
export interface EmptyLoopTimes {
  /** Seconds per run (all its loops). */
  all_runs: number[];
  /** Seconds per loop of each run. */
  timings: number[];
  /** Fastest run, per loop: what the optimized-out check compares (noise only ever adds time). */
  best: number;
  median: number;
  average: number;
}

/**
 * What a front end warns about, as figures of this result (so every figure it prints can be checked
 * against the runs): IPython's slowest-run check; a statement no dearer than the empty loop timed
 * beside it; a first run much slower than the rest when -n left no warm-up; a long compile.
 */
export type TimingWarning =
  | { kind: 'slowest-run'; ratio: number }
  | { kind: 'optimized-out'; statement: number; empty: number; runs: number; loops: number }
  | { kind: 'cold-first-run'; first: number; median: number; ratio: number }
  | { kind: 'compile-time'; seconds: number };

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** IPython's TimeitResult fields, plus median/min/max, operations per second, the empty loop and the warnings. */
export class TimeitResult {
  readonly best: number;
  readonly worst: number;
  readonly average: number;
  readonly stdev: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly opsPerSec: number;
  /** Per-loop time of each run, in seconds. */
  readonly timings: number[];
  /** The empty loop timed beside the runs (absent only when asked not to time it). */
  readonly emptyLoop: EmptyLoopTimes | undefined;
  readonly warnings: TimingWarning[];

  constructor(
    readonly loops: number,
    readonly repeat: number,
    /** Total time of each run (all its loops), in seconds. */
    readonly all_runs: number[],
    readonly compile_time: number,
    readonly precision = 3,
    extra: { emptyRuns?: number[]; autoranged?: boolean } = {},
  ) {
    this.timings = all_runs.map((t) => t / loops);
    this.best = Math.min(...this.timings);
    this.worst = Math.max(...this.timings);
    this.min = this.best;
    this.max = this.worst;
    this.average = mean(this.timings);
    // Population standard deviation, as IPython's.
    this.stdev = Math.sqrt(this.timings.reduce((a, t) => a + (t - this.average) ** 2, 0) / this.timings.length);
    this.median = median(this.timings);
    this.opsPerSec = this.average > 0 ? 1 / this.average : Infinity;
    if (extra.emptyRuns?.length) {
      const timings = extra.emptyRuns.map((t) => t / loops);
      this.emptyLoop = { all_runs: extra.emptyRuns, timings, best: Math.min(...timings), median: median(timings), average: mean(timings) };
    }
    this.warnings = timingWarnings(this, Boolean(extra.autoranged));
  }

  /** IPython's line: `8.26 ns ± 0.12 ns per loop (mean ± std. dev. of 7 runs, 100,000,000 loops each)`. */
  toString(): string {
    return `${formatTime(this.average, this.precision)} ± ${formatTime(this.stdev, this.precision)} per loop (mean ± std. dev. of ${this.repeat} ${plural(this.repeat, 'run')}, ${thousands(this.loops)} ${plural(this.loops, 'loop')} each)`;
  }
}

/** Within this factor of the empty loop (fastest runs of the same measurement), a statement is flagged as optimized out (mitata's figure). */
export const OPTIMIZED_OUT_FACTOR = 1.4;
/** Below this per loop (fastest run), the empty loop's figures are shown beside the statement's. */
export const EMPTY_LOOP_SHOWN_BELOW = 1e-6;
/** IPython reports compile time above this. */
const COMPILE_TIME_MIN = 0.1;

function timingWarnings(r: TimeitResult, autoranged: boolean): TimingWarning[] {
  const out: TimingWarning[] = [];
  // IPython's check, with its thresholds: below a microsecond the spread is not worth a warning.
  if (r.worst > 4 * r.best && r.best > 0 && r.worst > 1e-6) out.push({ kind: 'slowest-run', ratio: r.worst / r.best });
  const empty = r.emptyLoop;
  // Fastest runs compared: load on the machine only ever adds time, so a burst that lands on a few
  // empty-loop runs cannot make a statement look as cheap as nothing.
  if (empty && r.best < OPTIMIZED_OUT_FACTOR * empty.best) {
    out.push({ kind: 'optimized-out', statement: r.best, empty: empty.best, runs: r.repeat, loops: r.loops });
  }
  // With -n there is no calibration run to warm the loop up: say so when the first run shows it.
  if (!autoranged && r.repeat >= 3 && r.timings[0] > 4 * r.median && r.timings[0] === r.worst) {
    out.push({ kind: 'cold-first-run', first: r.timings[0], median: r.median, ratio: r.timings[0] / r.median });
  }
  if (r.compile_time > COMPILE_TIME_MIN) out.push({ kind: 'compile-time', seconds: r.compile_time });
  return out;
}

/** How a timing loop is run: synchronous work made interruptible, and whether an interrupt came. */
export type RunControl = Pick<EngineHost, 'interruptible' | 'interrupted'>;

/** For plain processes (the library): nothing interrupts a run but the process ending. */
export const uninterrupted: RunControl = { interruptible: (work) => work(), interrupted: false };

export interface TimingOptions {
  /** Loops per run; 0 or undefined: autorange (1, 10, 100, … until a run takes ≥ 0.2 s). */
  loops?: number;
  /** Runs (default 7). */
  repeat?: number;
  /** `perf`: performance.now (default); `wall`: Date.now; `cpu`: process CPU time. */
  clock?: Clock;
  /** Significant digits when the result prints (default 3). */
  precision?: number;
  /** Time an empty loop with the same loop count right after each run (default true). */
  emptyLoop?: boolean;
  /** Called after each measured run (progress). */
  onRun?: (done: number, total: number, loops: number) => void;
}

/** Something to time: `run(loops)` runs it `loops` times and returns the seconds that took. */
export interface Timed {
  run: (loops: number) => number | Promise<number>;
  isAsync: boolean;
  compileTime: number;
  /** The same loop with nothing in it, for the optimized-out check. */
  empty: () => Timed;
}

const CLOCKS: Record<Clock, string> = {
  // performance.now() is monotonic with sub-microsecond resolution and no BigInt allocation.
  perf: 'performance.now() / 1e3',
  wall: 'Date.now() / 1e3',
  cpu: '((u) => (u.user + u.system) / 1e6)(process.cpuUsage())',
};

const CLOCK_FUNCTIONS: Record<Clock, () => number> = {
  perf: () => performance.now() / 1e3,
  wall: () => Date.now() / 1e3,
  cpu: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
};

const STMT_BEGIN = '/*<tsprof-statement>*/';
const STMT_END = '/*</tsprof-statement>*/';

/**
 * The statement (and setup) must be valid on their own, at the top level of a cell: once inside the
 * timing function and its loop, `return` would end the run and `break` the loop, and the figures would
 * be nonsense (IPython compiles both outside its timer for the same reason). Checked on the JavaScript
 * the host compiled, between markers that keep their lines.
 */
function checkTopLevel(compiled: Function, parts: number): void {
  const js = Function.prototype.toString.call(compiled);
  const pieces = js.split(STMT_BEGIN).slice(1).map((p) => p.split(STMT_END)[0]);
  if (pieces.length !== parts) return; // the host rewrote the markers away: nothing to check against
  for (const piece of pieces) {
    try {
      parse(piece, { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: true });
    } catch (e) {
      // acorn's message without its position, which is in the compiled function, not the cell.
      throw new SyntaxError(String((e as Error).message).replace(/ \(\d+:\d+\)$/, ''));
    }
  }
}

/**
 * The statement goes inside the loop as source, not as a callback, so a cheap statement is not
 * dominated by a call per iteration. The function runs in the program's global scope and so sees
 * every variable and function defined there; setup runs once per run, untimed.
 */
export function compileStatement(host: EngineHost, stmt: string, setup: string, clock: Clock, asAsync?: boolean): Timed {
  // A magic line in the statement becomes an awaited call in a front end that supports them.
  const isAsync = asAsync ?? [stmt, setup].some((code) => /\bawait\b/.test(code) || /^\s*%/m.test(code));
  const t0 = performance.now();
  const body = [
    STMT_BEGIN, setup, STMT_END,
    `const __tsprof_t0 = ${CLOCKS[clock]};`,
    'for (let __tsprof_i = 0; __tsprof_i < __tsprof_loops; __tsprof_i++) {',
    STMT_BEGIN, stmt, STMT_END,
    '}',
    `return ${CLOCKS[clock]} - __tsprof_t0;`,
  ].join('\n');
  const fn = host.compileFunction(['__tsprof_loops'], body, { async: isAsync, name: 'timeit_inner' }) as (n: number) => number | Promise<number>;
  checkTopLevel(fn, 2);
  return { run: fn, isAsync, compileTime: (performance.now() - t0) / 1e3, empty: () => compileStatement(host, '', '', clock, isAsync) };
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * A plain function timed from a loop made for it (a fresh driver per function, so the call site sees
 * one function and V8 can inline it). A function that returns a promise is awaited each call: known
 * from an async function's type, or from what its first call returns (that call is part of run 1).
 */
export function functionTimer(fn: () => unknown, clock: Clock = 'perf', asAsync?: boolean): Timed {
  const t0 = performance.now();
  const now = CLOCK_FUNCTIONS[clock];
  const declaredAsync = asAsync ?? (fn.constructor?.name === 'AsyncFunction');
  const make = (isAsync: boolean): ((n: number) => number | Promise<number>) =>
    new Function('fn', 'now', `return ${isAsync ? 'async ' : ''}function timeit_driver(loops) {
  const t0 = now();
  for (let i = 0; i < loops; i++) ${isAsync ? 'await ' : ''}fn();
  return now() - t0;
}`)(fn, now) as (n: number) => number | Promise<number>;
  let decided: boolean | undefined = asAsync ?? (declaredAsync ? true : undefined);
  let driver = decided === undefined ? undefined : make(decided);
  const timed: Timed = {
    isAsync: declaredAsync,
    compileTime: 0,
    empty: () => functionTimer(decided ? async () => undefined : () => undefined, clock, decided ?? false),
    run(loops) {
      if (driver) return driver(loops);
      // First run: its first call says whether the function returns promises.
      const start = now();
      const first = fn();
      decided = isThenable(first);
      timed.isAsync = decided;
      driver = make(decided);
      if (!decided) {
        for (let i = 1; i < loops; i++) fn();
        return now() - start;
      }
      return (async () => {
        await first;
        for (let i = 1; i < loops; i++) await fn();
        return now() - start;
      })();
    },
  };
  timed.compileTime = (performance.now() - t0) / 1e3;
  return timed;
}

/**
 * One measured run, interruptible; GC first (unless `collect` is false: an empty loop allocates
 * nothing) so garbage from the last run is not billed to this one.
 */
async function oneRun(control: RunControl, timed: Timed, loops: number, collect = true): Promise<number> {
  if (collect) gcFunction()();
  if (control.interrupted) throw new MeasurementInterrupted();
  const t = timed.isAsync ? await timed.run(loops) : control.interruptible(() => timed.run(loops));
  const seconds = await t;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw new Error(`the timing loop returned ${String(seconds)} instead of a time`);
  return seconds;
}

/** IPython's autorange: 1, 10, 100, … loops until one run takes at least 0.2 s (those runs warm the statement up). */
export async function autorange(control: RunControl, timed: Timed): Promise<number> {
  let loops = 1;
  for (let index = 0; index < 10; index++) {
    loops = 10 ** index;
    if ((await oneRun(control, timed, loops)) >= 0.2) break;
  }
  return loops;
}

/**
 * R runs of N loops, each followed by an empty loop of the same shape with the same N: both see the
 * same machine and the same tier of V8 (an interpreted loop of -n 100 is compared with an
 * interpreted empty loop, a loop of 10⁸ with an optimized one), so the optimized-out verdict is
 * stated in figures of these runs. The empty loop costs at most what the statement does. The
 * statement runs exactly N × R times (plus the calibration runs when N is chosen by autorange).
 */
export async function measure(control: RunControl, timed: Timed, options: TimingOptions = {}): Promise<TimeitResult> {
  const repeat = options.repeat ?? 7;
  if (!Number.isInteger(repeat) || repeat < 1) throw new EngineUsageError(`timeit: repeat must be an integer ≥ 1, got ${repeat}`);
  if (options.loops !== undefined && (!Number.isInteger(options.loops) || options.loops < 0)) throw new EngineUsageError(`timeit: loops must be an integer ≥ 1 (or 0 for autorange), got ${options.loops}`);
  const autoranged = !options.loops;
  const loops = autoranged ? await autorange(control, timed) : options.loops!;
  const empty = options.emptyLoop === false ? undefined : timed.empty();
  const runs: number[] = [];
  const emptyRuns: number[] = [];
  for (let r = 0; r < repeat; r++) {
    runs.push(await oneRun(control, timed, loops));
    if (empty) emptyRuns.push(await oneRun(control, empty, loops, false));
    options.onRun?.(r + 1, repeat, loops);
  }
  return new TimeitResult(loops, repeat, runs, timed.compileTime, options.precision, { emptyRuns, autoranged });
}

/** Time a statement (TypeScript, in the host program's global scope); `setup` runs once per run, untimed. */
export async function timeStatement(host: EngineHost, stmt: string, options: TimingOptions & { setup?: string } = {}): Promise<TimeitResult> {
  if (!stmt.trim()) throw new EngineUsageError('timeit: no statement to time');
  return measure(host, compileStatement(host, stmt, options.setup ?? '', options.clock ?? 'perf'), options);
}

/** Time a plain function: `timeFunction(() => work(), { repeat: 7 })`; a promise it returns is awaited. */
export async function timeFunction(fn: () => unknown, options: TimingOptions & { async?: boolean; control?: RunControl } = {}): Promise<TimeitResult> {
  if (typeof fn !== 'function') throw new EngineUsageError(`timeit: expected a function to time, got ${fn === null ? 'null' : typeof fn}`);
  return measure(options.control ?? uninterrupted, functionTimer(fn, options.clock ?? 'perf', options.async), options);
}

/** Several statements timed the same way and ranked, fastest first, with each one's ratio to the fastest. */
export class CompareResult {
  constructor(readonly variants: Array<{ label: string; result: TimeitResult; ratio: number }>) {}
  toString(): string {
    const w = Math.max(...this.variants.map((v) => v.label.length));
    return this.variants.map((v) => `${v.label.padEnd(w)}  ${v.result.toString()}  ${v.ratio === 1 ? 'fastest' : `${v.ratio.toFixed(2)}× slower`}`).join('\n');
  }
}

export async function compareStatements(
  host: EngineHost,
  variants: Array<{ label: string; code: string }>,
  options: TimingOptions & { setup?: string; onVariant?: (label: string) => void } = {},
): Promise<CompareResult> {
  if (variants.length < 2) throw new EngineUsageError('timeit compare: at least two variants are needed');
  const measured: Array<{ label: string; result: TimeitResult }> = [];
  for (const v of variants) {
    options.onVariant?.(v.label);
    measured.push({ label: v.label, result: await timeStatement(host, v.code, options) });
  }
  measured.sort((a, b) => a.result.average - b.result.average);
  const fastest = measured[0].result.average;
  return new CompareResult(measured.map((m) => ({ ...m, ratio: m.result.average / fastest })));
}

/** CPU and wall time of one execution (%time), in seconds; `compile` when the front end compiled first. */
export interface TimeResult {
  user: number;
  system: number;
  wall: number;
  compile?: number;
}

/** Where a %time measurement started: process CPU usage and the monotonic clock. */
export interface TimeMark {
  cpu: NodeJS.CpuUsage;
  wall: number;
}

export function startTimes(): TimeMark {
  return { cpu: process.cpuUsage(), wall: performance.now() };
}

/**
 * CPU (user, system) and wall time since `mark`. CPU time is the whole process's, so work on other
 * threads (GC helpers) counts, as it does in IPython's %time (getrusage).
 */
export function timesSince(mark: TimeMark, compile?: number): TimeResult {
  const cpu = process.cpuUsage(mark.cpu);
  return { user: cpu.user / 1e6, system: cpu.system / 1e6, wall: (performance.now() - mark.wall) / 1e3, ...(compile === undefined ? {} : { compile }) };
}

/** Run once and time it; an error is returned beside the times (the front end prints the times first). */
export async function timeOnce<T>(run: () => T | Promise<T>, compile?: number): Promise<{ times: TimeResult } & ({ ok: true; value: T } | { ok: false; error: unknown })> {
  const mark = startTimes();
  try {
    const value = await run();
    return { times: timesSince(mark, compile), ok: true, value };
  } catch (error) {
    return { times: timesSince(mark, compile), ok: false, error };
  }
}
