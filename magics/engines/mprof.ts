// The %mprof engine: memory over time while a statement runs (its async work included). A sampler
// thread reads RSS (/proc), the main thread's JS heap (an inspector request V8 answers even while the
// main thread computes) and V8 external memory at a fixed interval; chosen functions can be marked
// (when each call started and ended); per series a least-squares slope and the leak heuristic.
import v8 from 'node:v8';
import { types } from 'node:util';
import { collectGarbage, growth, hrtimeMs, MemorySampler, MiB, rssNow, type Growth, type WorkerSamples } from './v8/memory.js';
import { EngineUsageError } from './host.js';
import { leakMessage, mprofSummaryText } from '../render/memory.js';

/** Seconds between samples by default: 200 Hz. */
export const DEFAULT_MPROF_INTERVAL = 0.005;
/** Calls recorded with their times; past this, calls are only counted. */
const MAX_MARKERS = 10_000;

export interface Marker {
  name: string;
  /** 1-based call number of this function. */
  call: number;
  /** Seconds since the run started. */
  start: number;
  /** When it returned, or its promise settled; undefined if it had not when the run ended. */
  end: number | undefined;
  threw: boolean;
}

export interface SeriesSummary {
  /** MiB. */
  start: number;
  peak: number;
  end: number;
  /** After the run and a full GC. */
  retained: number;
  /** MiB/s, least squares over the run. */
  slope: number;
  /** The leak heuristic fired for this series. */
  onlyGrows: boolean;
}

export type SeriesName = 'rss' | 'heapUsed' | 'external' | 'children';

export class MprofResult {
  constructor(
    /** Seconds since the run started. */
    readonly t: number[],
    /** MiB at each t. */
    readonly rss: number[],
    readonly heapUsed: number[],
    readonly external: number[],
    /** Summed RSS of descendant processes (with -c), MiB. */
    readonly children: number[] | undefined,
    readonly markers: Marker[],
    /** Calls per marked function (exact, also past the recorded markers). */
    readonly calls: Record<string, number>,
    readonly summary: Partial<Record<SeriesName, SeriesSummary>>,
    /** Seconds. */
    readonly duration: number,
    /** Seconds between samples asked for. */
    readonly interval: number,
    readonly leak: boolean,
    /** Samples whose heap / external figure was carried from an earlier tick (main thread busy). */
    readonly stale: { heapUsed: number; external: number },
    /** What the reader should know: the leak hint, too few samples, stale heap figures. */
    readonly notes: string[],
    readonly text: string,
  ) {}

  get samples(): number {
    return this.t.length;
  }

  /** Achieved samples per second. */
  get rate(): number {
    return this.duration > 0 ? this.t.length / this.duration : 0;
  }

  toString(): string {
    return this.text;
  }
}

/**
 * When calls of marked functions start and end, on the sampler's clock (seconds since the run began).
 * `wrap` gives a function that records its calls; the front end puts it where callers find it.
 */
export class MarkerLog {
  readonly markers: Marker[] = [];
  readonly calls: Record<string, number> = {};
  /** hrtime ms = performance.now() + offset (one clock with the sampler thread). */
  private readonly offset = hrtimeMs() - performance.now();
  constructor(private readonly t0: number) {}

  private now(): number {
    return (performance.now() + this.offset - this.t0) / 1e3;
  }

  enter(name: string): Marker | undefined {
    const call = (this.calls[name] = (this.calls[name] ?? 0) + 1);
    if (this.markers.length >= MAX_MARKERS) return undefined;
    const m: Marker = { name, call, start: this.now(), end: undefined, threw: false };
    this.markers.push(m);
    return m;
  }

  exit(m: Marker | undefined, threw = false): void {
    if (!m) return;
    m.end = this.now();
    m.threw = threw;
  }

  /**
   * A decorator on the function: the same target, name, length, properties and prototype (a Proxy),
   * recording entry and exit; for a promise-returning call, exit is when the promise settles.
   */
  wrap(fn: Function, name: string): Function {
    const log = this;
    const settle = (m: Marker | undefined, r: unknown): unknown => {
      // types.isPromise: the wrapped function's promise may come from another realm than this code.
      if (types.isPromise(r)) {
        return (r as Promise<unknown>).then(
          (v) => (log.exit(m), v),
          (e) => {
            log.exit(m, true);
            throw e;
          },
        );
      }
      log.exit(m);
      return r;
    };
    return new Proxy(fn, {
      apply(target, thisArg, args) {
        const m = log.enter(name);
        let r: unknown;
        try {
          r = Reflect.apply(target, thisArg, args);
        } catch (e) {
          log.exit(m, true);
          throw e;
        }
        return settle(m, r);
      },
      construct(target, args, newTarget) {
        const m = log.enter(name);
        try {
          const r = Reflect.construct(target, args, newTarget) as object;
          log.exit(m);
          return r;
        } catch (e) {
          log.exit(m, true);
          throw e;
        }
      },
    });
  }
}

export interface MprofOptions {
  /** Seconds between samples (default 0.005: 200 Hz), 0.001 to 10. */
  interval?: number;
  /** Add a series with the summed RSS of descendant processes. */
  children?: boolean;
  /**
   * Put marking wrappers in place before the run (the log's `wrap` gives them); returns how to put the
   * originals back, which runs whatever happens.
   */
  mark?: (log: MarkerLog) => Promise<() => Promise<void> | void> | (() => Promise<void> | void);
}

/** Record memory over time while `statement` runs, until the promise it returns settles. */
export async function mprof(statement: () => unknown, options: MprofOptions = {}): Promise<MprofResult> {
  const interval = options.interval ?? DEFAULT_MPROF_INTERVAL;
  if (!(interval >= 0.001 && interval <= 10)) throw new EngineUsageError(`mprof: the interval must be seconds between 0.001 and 10, got ${interval}`);
  const children = Boolean(options.children);
  const sampler = await MemorySampler.start({ intervalMs: interval * 1e3, heap: true, external: true, children });
  let samples: WorkerSamples;
  let log: MarkerLog;
  let t0: number;
  let t1: number;
  let undo: (() => Promise<void> | void) | undefined;
  try {
    collectGarbage();
    t0 = hrtimeMs();
    log = new MarkerLog(t0);
    if (options.mark) undo = await options.mark(log);
    // The first sample's external figure is the one published last: publish it after the GC.
    sampler.publishExternal();
    sampler.begin();
    try {
      await statement();
    } finally {
      t1 = hrtimeMs();
      samples = await sampler.stop();
    }
  } catch (e) {
    await sampler.close();
    throw e;
  } finally {
    await undo?.();
    collectGarbage();
  }
  // Read while the sampler thread still exists: the series include its memory.
  const retained = { rss: rssNow(), heapUsed: v8.getHeapStatistics().used_heap_size, external: v8.getHeapStatistics().external_memory, children: 0 };
  await sampler.close();

  const n = samples.t.length;
  const t = Array.from(samples.t, (x) => (x - t0) / 1e3);
  const toMiBs = (a: Float64Array): number[] => Array.from(a, (x) => x / MiB);
  const series: Partial<Record<SeriesName, number[]>> = { rss: toMiBs(samples.rss), heapUsed: toMiBs(samples.heapUsed), external: toMiBs(samples.external) };
  if (children) series.children = toMiBs(samples.children);
  if (children && samples.children.length) retained.children = samples.children[n - 1];
  const summary: Partial<Record<SeriesName, SeriesSummary>> = {};
  for (const name of Object.keys(series) as SeriesName[]) {
    const v = series[name]!;
    const bytes = name === 'rss' ? samples.rss : name === 'heapUsed' ? samples.heapUsed : name === 'external' ? samples.external : samples.children;
    const g: Growth = growth(samples.t.map((x) => x / 1e3), bytes, retained[name], undefined, name === 'heapUsed');
    summary[name] = { start: v[0] ?? 0, peak: Math.max(...v), end: v.at(-1) ?? 0, retained: retained[name] / MiB, slope: g.slope, onlyGrows: g.onlyGrows };
  }
  const duration = (t1! - t0!) / 1e3;
  const leakNote = leakMessage(summary);
  const notes: string[] = [];
  if (leakNote) notes.push(leakNote.replace(/^⚠ /, ''));
  if (n < 3) notes.push(`only ${n} samples: the statement ran ${(duration * 1e3).toFixed(1)} ms; sample more often (a smaller interval) for short statements`);
  if (samples.staleHeap > n / 4) notes.push(`heap used was carried over from the previous sample in ${samples.staleHeap} of ${n} samples: the main thread was inside one long native operation (a large fill or copy, synchronous I/O) and answered late`);
  const base = { t, rss: series.rss!, heapUsed: series.heapUsed!, external: series.external!, children: series.children, markers: log!.markers, calls: log!.calls, summary, duration, interval, leak: Boolean(leakNote), stale: { heapUsed: samples.staleHeap, external: samples.staleExternal }, samples: n, rate: duration > 0 ? n / duration : 0 };
  const text = mprofSummaryText(base, leakNote);
  return new MprofResult(base.t, base.rss, base.heapUsed, base.external, base.children, base.markers, base.calls, summary, duration, interval, base.leak, base.stale, notes, text);
}
