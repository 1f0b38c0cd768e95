// watch(fn): a function that times (and optionally measures the memory of) every call, keeps running
// statistics, warns when a call drifts from the running mean by more than a factor or when the heap a
// call leaves behind grows on every run, records into the baseline registry, and feeds the metrics
// sinks (Prometheus, StatsD). @timed and @memit are watch() on a method.
import v8 from 'node:v8';
import { collectGarbage } from '../engines/v8/memory.js';
import { around, type AnyFunction } from './decorate.js';
import { emit, type TsprofWarning } from './warnings.js';
import { defaultSinks, type MetricsSink } from './metrics.js';

/** JS memory in use: the heap plus V8's external memory (ArrayBuffer backing stores live there). */
function jsMemory(): number {
  const h = v8.getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** Calls whose durations are kept for the median and percentiles (a ring: the newest). */
const RECENT = 1000;

/** Running statistics of one watched function (Welford's mean and variance over every call). */
export class WatchStats {
  calls = 0;
  errors = 0;
  /** Seconds. */
  mean = 0;
  min = Infinity;
  max = 0;
  last = 0;
  private m2 = 0;
  private readonly recent: number[] = [];
  private next = 0;
  /** Bytes of JS memory (heap + external) each call added (after − before, GC included), the last and the mean. */
  heapDelta = { last: 0, mean: 0 };
  /**
   * With leak checks: what each call left behind, bytes — JS memory (heap + external) after the call
   * and a full GC, minus the same before it — the newest last, up to `runs` of them.
   */
  kept: number[] = [];
  /** The drift episode the last call was in (with drift checks): one warning when an episode starts. */
  drift: 'slower' | 'faster' | undefined;
  /**
   * What drift is measured against: the running mean of the calls that did not drift, started at
   * the median of the first calls after the warm-up call. A call that drifted (a burst of load, a
   * cold cache) does not move it, so the calls after it are not judged against an inflated mean; a
   * lasting change stays one episode.
   */
  reference = { mean: 0, calls: 0 };
  /** Durations of the first calls, before the reference is set (their median starts it). */
  warmup: number[] = [];

  constructor(readonly name: string) {}

  /** Sample standard deviation of the call durations, seconds. */
  get stdev(): number {
    return this.calls > 1 ? Math.sqrt(this.m2 / (this.calls - 1)) : 0;
  }

  /** Median of the last 1,000 calls, seconds. */
  get median(): number {
    return this.quantile(0.5);
  }

  get p95(): number {
    return this.quantile(0.95);
  }

  quantile(q: number): number {
    if (!this.recent.length) return 0;
    const s = [...this.recent].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  }

  add(seconds: number, threw: boolean): void {
    this.calls++;
    if (threw) this.errors++;
    const d = seconds - this.mean;
    this.mean += d / this.calls;
    this.m2 += d * (seconds - this.mean);
    this.min = Math.min(this.min, seconds);
    this.max = Math.max(this.max, seconds);
    this.last = seconds;
    if (this.recent.length < RECENT) this.recent.push(seconds);
    else this.recent[this.next] = seconds;
    this.next = (this.next + 1) % RECENT;
  }

  addHeap(delta: number): void {
    this.heapDelta.last = delta;
    this.heapDelta.mean += (delta - this.heapDelta.mean) / Math.max(1, this.calls);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, calls: this.calls, errors: this.errors, mean: this.mean, stdev: this.stdev, min: this.calls ? this.min : 0, max: this.max, median: this.median, p95: this.p95, heapDelta: this.heapDelta };
  }
}

/** Every watched function's statistics, by name (the baseline file is written from these). */
export const watched = new Map<string, WatchStats>();

function statsFor(name: string): WatchStats {
  let s = watched.get(name);
  if (!s) watched.set(name, (s = new WatchStats(name)));
  return s;
}

export interface DriftOptions {
  /**
   * Warn when a call takes more than `factor` × the running mean of the calls before it that did not
   * drift themselves (or less than 1/factor of it).
   */
  factor: number;
  /** Calls (after the first, a warm-up) whose median starts that mean before any call is judged (default 5). */
  minCalls?: number;
}

export interface LeakOptions {
  /** Warn when each of this many calls in a row kept memory (default 5; the first call, a warm-up, is not counted). */
  runs?: number;
  /**
   * A call that kept less than this many bytes does not count (default 4,096: measured here, a call
   * that keeps nothing reads 0.4–1.4 KiB, V8's own bookkeeping between two GCs).
   */
  minBytes?: number;
}

export interface WatchOptions {
  /** The name in statistics, warnings, metrics and baselines (default: the function's name). */
  name?: string;
  /** Name each call from its `this` (decorators: `Class.method`). */
  label?: (self: unknown) => string;
  /** Measure the JS memory (heap + external) each call adds (two reads of V8's heap statistics, ~1 μs). */
  memory?: boolean;
  /**
   * Measure what each call leaves behind (a full GC before and after it) and warn when every one of
   * `runs` calls in a row kept at least `minBytes`. Costs two full GCs per call (milliseconds each).
   */
  leak?: boolean | LeakOptions;
  /** Warn when a call's time drifts from the running mean by more than a factor. */
  drift?: number | DriftOptions;
  /** Where samples go (default: the sinks given to useMetrics()). */
  metrics?: MetricsSink[];
  /** Instead of process.emitWarning. */
  onWarning?: (w: TsprofWarning) => void;
  /**
   * The clock calls are timed with, in seconds (default: performance.now). A CPU clock, e.g.
   * `() => process.cpuUsage().user / 1e6`, makes drift checks blind to time the process was not running.
   */
  clock?: () => number;
}

/** A watched function: the same function, and the statistics of its calls. */
export type Watched<F> = F & { readonly stats: WatchStats };

interface CallState {
  name: string;
  t0: number;
  heap0: number;
  /** JS memory after a full GC before the call (leak checks). */
  settled0: number;
}

/**
 * Wrap `fn` so that every call is timed (and measured, with `memory`/`leak`), checked and reported.
 *
 *     const handle = watch(handleRequest, { drift: 2, memory: true })
 *     …
 *     handle.stats.mean   // seconds, running mean over every call
 */
export function watch<F extends AnyFunction>(fn: F, options: WatchOptions = {}): Watched<F> {
  if (typeof fn !== 'function') throw new TypeError(`watch: expected a function, got ${fn === null ? 'null' : typeof fn}`);
  const fixedName = options.name ?? (fn.name || 'anonymous');
  const drift: Required<DriftOptions> | undefined = options.drift === undefined ? undefined
    : typeof options.drift === 'number' ? { factor: options.drift, minCalls: 5 } : { minCalls: 5, ...options.drift };
  if (drift && !(drift.factor > 1)) throw new RangeError(`watch: drift factor must be > 1, got ${drift.factor}`);
  const leak: Required<LeakOptions> | undefined = !options.leak ? undefined : { runs: 5, minBytes: 4096, ...(options.leak === true ? {} : options.leak) };
  const memory = Boolean(options.memory || leak);
  const warn = (w: TsprofWarning): void => emit(w, options.onWarning);
  const sinks = (): readonly MetricsSink[] => options.metrics ?? defaultSinks();
  const clock = options.clock ?? ((): number => performance.now() / 1e3);

  const wrapped = around(fn, {
    before(self): CallState {
      const name = options.label ? options.label(self) : fixedName;
      let settled0 = 0;
      if (leak) {
        collectGarbage();
        settled0 = jsMemory();
      }
      return { name, settled0, heap0: memory ? jsMemory() : 0, t0: clock() };
    },
    after(state, threw) {
      const seconds = clock() - state.t0;
      const stats = statsFor(state.name);
      const heapDelta = memory ? jsMemory() - state.heap0 : undefined;
      if (drift && stats.calls > 0) {
        // The first call is a warm-up (V8 compiles on first use) and is never compared. The next
        // `minCalls` start the reference at their median, so one slow call among them does not set it.
        const ref = stats.reference;
        if (ref.calls === 0) {
          stats.warmup.push(seconds);
          if (stats.warmup.length === drift.minCalls) {
            const sorted = [...stats.warmup].sort((a, b) => a - b);
            const mid = sorted.length >> 1;
            ref.mean = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
            ref.calls = sorted.length;
          }
        } else {
          const ratio = seconds / ref.mean;
          const now = ratio > drift.factor ? 'slower' : ratio < 1 / drift.factor ? 'faster' : undefined;
          // One warning per episode: a function that stays slow does not warn on every call.
          if (now && now !== stats.drift) warn({ kind: 'drift', name: state.name, seconds, mean: ref.mean, ratio, factor: drift.factor, calls: ref.calls });
          stats.drift = now;
          if (!now) ref.mean += (seconds - ref.mean) / ++ref.calls;
        }
      }
      stats.add(seconds, threw);
      if (heapDelta !== undefined) stats.addHeap(heapDelta);
      let retained: number | undefined;
      if (leak) {
        // What this call left behind: the same measurement (a full GC, then JS memory) after it as
        // before it, so memory other code keeps or frees between calls is not billed to this one.
        collectGarbage();
        retained = jsMemory();
        // The first call is a warm-up: the code V8 compiles and the caches it fills stay, by design.
        if (stats.calls > 1) stats.kept.push(retained - state.settled0);
        if (stats.kept.length > leak.runs) stats.kept.shift();
        const k = stats.kept;
        if (k.length === leak.runs && k.every((bytes) => bytes >= leak.minBytes)) {
          // The median: V8's own housekeeping in a GC (flushing old bytecode, say) can move one call's figure by tens of KiB.
          const sorted = [...k].sort((a, b) => a - b);
          warn({ kind: 'leak', name: state.name, runs: leak.runs, growthPerRun: sorted[sorted.length >> 1], retained });
          // The next warning needs another `runs` calls that all keep memory.
          stats.kept = [];
        }
      }
      for (const sink of sinks()) sink.record({ name: state.name, seconds, threw, heapDelta, retained });
    },
  });
  Object.defineProperty(wrapped, 'stats', { get: () => statsFor(fixedName), enumerable: false });
  return wrapped as Watched<F>;
}
