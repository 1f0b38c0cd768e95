// The %memit engine: the exact RSS peak of a statement (Linux: VmHWM reset through
// /proc/self/clear_refs before each run), the JS heap and external peaks (v8.GCProfiler), and, when
// asked, a sampler thread (a poller's view, child processes, a timeout watchdog). Front ends pass the
// statement as a function and render the MemitResult (render/memory.ts).
import v8 from 'node:v8';
import { collectGarbage, HeapPeak, hrtimeMs, MemorySampler, peakRss, resetPeakRss, rssNow, TimeoutError, toMiB, type WorkerSamples } from './v8/memory.js';
import { EngineUsageError } from './host.js';
import { memitLine, mib, signedMiB } from '../render/memory.js';

/** Sampler interval when one is needed and none was asked for (seconds). */
export const DEFAULT_MEMIT_INTERVAL = 0.01;

export interface MemitOptions {
  /** Runs (default 1); the peak is the highest of them, as memory_profiler's. */
  repeat?: number;
  /** Seconds before a run is stopped (TimeoutError). */
  timeout?: number;
  /** Also poll RSS every `interval` seconds and report what that poller saw. */
  interval?: number;
  /** Add the RSS of descendant processes. */
  children?: boolean;
}

/** One kind of memory across the measurement, in MiB. */
export interface MemoryRow {
  /** Before the first run, after a full GC. */
  start: number;
  /** Highest during the runs. */
  peak: number;
  /** peak − start. */
  increment: number;
  /** Right after the last run. */
  end: number;
  /** After the last run and a full GC: what the statement kept. */
  retained: number;
}

export interface MemitRun {
  /** RSS peak of this run (plus children with -c), MiB: memory_profiler's mem_usage entry. */
  peak: number;
  heapPeak: number;
  externalPeak: number;
  /** Seconds. */
  elapsed: number;
  gcCount: number;
}

export class MemitResult {
  constructor(
    /** RSS peak of each run, MiB (memory_profiler's field). */
    readonly mem_usage: number[],
    /** RSS before the first run (after setup and a full GC), MiB. */
    readonly baseline: number,
    readonly repeat: number,
    readonly timeout: number | undefined,
    /** Sampler interval in seconds (used with -i, -c and by the fallback); 0 when nothing sampled. */
    readonly interval: number,
    readonly include_children: boolean,
    /** 'hwm': exact (VmHWM reset per run); 'sampled': polled every `interval` (clear_refs unavailable). */
    readonly method: 'hwm' | 'sampled',
    readonly rss: MemoryRow,
    readonly heap: MemoryRow,
    readonly external: MemoryRow,
    readonly arrayBuffers: { start: number; end: number; increment: number; retained: number },
    readonly runs: MemitRun[],
    /** What a poller at `interval` saw (with -i): its peak and increment over the baseline, MiB. */
    readonly sampled: { interval: number; peak: number; increment: number; samples: number } | undefined,
    /** Descendant processes' RSS (with -c), MiB: the highest sampled sum. */
    readonly children: { peak: number; samples: number } | undefined,
    readonly notes: string[],
  ) {}

  /** Highest RSS of the runs, MiB. */
  get peak(): number {
    return Math.max(...this.mem_usage);
  }

  /** peak − baseline, MiB (memory_profiler's increment). */
  get increment(): number {
    return this.peak - this.baseline;
  }

  /** memory_profiler's line: `peak memory: 45.30 MiB, increment: 7.60 MiB`. */
  toString(): string {
    return memitLine(this);
  }
}

/** Samples of a sampler run within [from, to] (hrtime ms). */
function within(s: WorkerSamples, from: number, to: number, series: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.t.length; i++) if (s.t[i] >= from && s.t[i] <= to) out.push(series[i]);
  return out;
}

interface RunWindow {
  from: number;
  to: number;
  rssStart: number;
  hwm: number;
  rssEnd: number;
  heap: ReturnType<HeapPeak['stop']>;
  elapsed: number;
}

/** Run `statement` once with the watchdog armed (when `timeout`); TimeoutError when it fires. */
async function runTimed(statement: () => unknown, sampler: MemorySampler | undefined, timeout: number | undefined): Promise<void> {
  if (!sampler || timeout === undefined) {
    await statement();
    return;
  }
  let fire!: () => void;
  const timedOut = new Promise<'timeout'>((resolve) => (fire = () => resolve('timeout')));
  sampler.arm(timeout, fire);
  const running = (async () => statement())();
  running.catch(() => undefined); // when the timeout wins, a later rejection is not unhandled
  let threw: unknown;
  let outcome: unknown;
  try {
    outcome = await Promise.race([running, timedOut]);
  } catch (e) {
    threw = e;
  }
  const interrupted = (threw as Error | undefined)?.name === 'KeyboardInterrupt';
  const fired = await sampler.disarm(interrupted);
  if (fired || outcome === 'timeout') {
    const abandoned = !interrupted;
    throw new TimeoutError(
      `the statement ran longer than the timeout (${timeout} s) and was stopped` +
        (abandoned ? ' while it was awaiting (work it started, such as timers, may still be running)' : ''),
    );
  }
  if (threw !== undefined) throw threw;
}

/**
 * Measure `statement` (run `repeat` times, a full GC and the high-water mark reset before each run).
 * The statement is a function so that any front end can give one: a compiled cell, a script's function.
 */
export async function memit(statement: () => unknown, options: MemitOptions = {}): Promise<MemitResult> {
  const opts = { repeat: options.repeat ?? 1, timeout: options.timeout, interval: options.interval, children: Boolean(options.children) };
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new EngineUsageError(`memit: repeat must be an integer ≥ 1, got ${opts.repeat}`);
  if (opts.timeout !== undefined && !(opts.timeout > 0)) throw new EngineUsageError(`memit: timeout must be a number of seconds > 0, got ${opts.timeout}`);
  if (opts.interval !== undefined && !(opts.interval >= 0.001)) throw new EngineUsageError(`memit: interval must be ≥ 0.001 s, got ${opts.interval}`);
  const notes: string[] = [];

  const fallback = resetPeakRss();
  const method: 'hwm' | 'sampled' = fallback ? 'sampled' : 'hwm';
  if (fallback) notes.push(`RSS peak sampled every ${(opts.interval ?? DEFAULT_MEMIT_INTERVAL) * 1e3} ms, not exact: ${fallback}. A spike shorter than the interval can be missed.`);
  const needSampler = opts.interval !== undefined || opts.children || opts.timeout !== undefined || method === 'sampled';
  const samplingInterval = opts.interval !== undefined || opts.children || method === 'sampled' ? (opts.interval ?? DEFAULT_MEMIT_INTERVAL) : 0;
  const sampler = needSampler ? await MemorySampler.start({ intervalMs: samplingInterval * 1e3, children: opts.children }) : undefined;

  const windows: RunWindow[] = [];
  let samples: WorkerSamples | undefined;
  let baseline = 0;
  let heapStart = 0;
  let externalStart = 0;
  let buffersStart = 0;
  try {
    // One full GC per run, just before it (GCs are the fixed cost of %memit: ~10 ms each here).
    sampler?.begin();
    for (let run = 0; run < opts.repeat; run++) {
      collectGarbage();
      if (method === 'hwm') resetPeakRss();
      const rssStart = rssNow();
      if (run === 0) baseline = rssStart;
      const heap = new HeapPeak();
      const fromHr = hrtimeMs();
      const t0 = performance.now();
      await runTimed(statement, sampler, opts.timeout);
      const elapsed = (performance.now() - t0) / 1e3;
      const hwm = method === 'hwm' ? peakRss() : 0;
      const stats = heap.stop();
      const rssEnd = rssNow();
      windows.push({ from: fromHr, to: hrtimeMs(), rssStart, hwm, rssEnd, heap: stats, elapsed });
      if (run === 0) {
        heapStart = stats.heap.start;
        externalStart = stats.external.start;
        buffersStart = stats.arrayBuffers.start;
      }
    }
    if (sampler) samples = await sampler.stop();
  } catch (e) {
    collectGarbage();
    const now = rssNow();
    await sampler?.close();
    if (e instanceof TimeoutError) {
      e.message += `; after a GC, RSS is ${mib(toMiB(now))} (${signedMiB(toMiB(now - baseline))} on the baseline before the run)`;
    }
    throw e;
  }

  const last = windows.at(-1)!;
  const endHeap = last.heap;
  collectGarbage();
  const after = process.memoryUsage();
  const afterHeap = v8.getHeapStatistics();
  await sampler?.close();

  const runs: MemitRun[] = windows.map((w) => {
    let peak = Math.max(w.rssStart, w.rssEnd, w.hwm);
    let childPeak = 0;
    if (samples) {
      const inRun = within(samples, w.from, w.to + 1, samples.rss);
      if (method === 'sampled') peak = Math.max(peak, ...inRun);
      if (opts.children) childPeak = Math.max(0, ...within(samples, w.from, w.to + 1, samples.children));
    }
    return { peak: toMiB(peak + childPeak), heapPeak: toMiB(w.heap.heap.peak), externalPeak: toMiB(w.heap.external.peak), elapsed: w.elapsed, gcCount: w.heap.gcCount };
  });
  const ownPeak = Math.max(...windows.map((w) => (method === 'hwm' ? Math.max(w.rssStart, w.rssEnd, w.hwm) : Math.max(w.rssStart, w.rssEnd, ...(samples ? within(samples, w.from, w.to + 1, samples.rss) : [])))));
  const row = (start: number, peak: number, end: number, retained: number): MemoryRow => ({ start: toMiB(start), peak: toMiB(peak), increment: toMiB(peak - start), end: toMiB(end), retained: toMiB(retained) });
  const rss = row(baseline, ownPeak, last.rssEnd, after.rss);
  const heap = row(heapStart, Math.max(...windows.map((w) => w.heap.heap.peak)), endHeap.heap.end, afterHeap.used_heap_size);
  const external = row(externalStart, Math.max(...windows.map((w) => w.heap.external.peak)), endHeap.external.end, afterHeap.external_memory);
  const arrayBuffers = { start: toMiB(buffersStart), end: toMiB(endHeap.arrayBuffers.end), increment: toMiB(endHeap.arrayBuffers.end - buffersStart), retained: toMiB(after.arrayBuffers) };

  let sampled: MemitResult['sampled'];
  if (samples && opts.interval !== undefined) {
    const all = within(samples, windows[0].from - 1, last.to + 1e9, samples.rss);
    const peak = toMiB(Math.max(baseline, ...all));
    sampled = { interval: opts.interval, peak, increment: peak - toMiB(baseline), samples: all.length };
  }
  let children: MemitResult['children'];
  if (samples && opts.children) children = { peak: toMiB(Math.max(0, ...samples.children)), samples: samples.children.length };

  // RSS can lag what V8 accounts for: zero-filled buffers are mapped lazily (the OS counts a page
  // when it is first written), and memory that malloc kept from earlier frees (glibc keeps freed
  // blocks under its mmap threshold, which grows up to 32 MiB) is reused without growing RSS.
  const bufferGrowth = Math.max(external.increment, arrayBuffers.increment);
  if (bufferGrowth > 8 && bufferGrowth > 2 * Math.max(rss.increment, 0) + 4) {
    notes.push(`ArrayBuffers/external memory grew by ${bufferGrowth.toFixed(2)} MiB but RSS by only ${rss.increment.toFixed(2)} MiB: zero-filled buffers take physical memory only when their pages are first written, and memory the allocator kept from earlier frees is reused without growing RSS.`);
  }
  if (sampled && method === 'hwm' && rss.increment - sampled.increment > 1) {
    notes.push(`A ${sampled.interval} s poller (memory_profiler's method) would have reported an increment of ${sampled.increment.toFixed(2)} MiB: it missed ${(rss.increment - sampled.increment).toFixed(2)} MiB of the peak.`);
  }

  return new MemitResult(
    runs.map((r) => r.peak), toMiB(baseline), opts.repeat, opts.timeout, samplingInterval, opts.children, method,
    rss, heap, external, arrayBuffers, runs, sampled, children, notes,
  );
}

