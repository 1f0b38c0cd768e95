// Memory measurement shared by %memit and %mprof: the exact RSS high-water mark (Linux
// /proc/self/clear_refs + VmHWM), the exact JS heap and external peaks (v8.GCProfiler), a sampler
// thread for memory over time, a SIGINT watchdog for timeouts, and the trend / leak arithmetic.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { HelperThread } from '../thread.js';
import { adopt } from '../realm.js';

export const MiB = 1024 * 1024;
export const toMiB = (bytes: number): number => bytes / MiB;

// ---------------------------------------------------------------------------------------------
// /proc

/** VmRSS and VmHWM of a process, in bytes; undefined where /proc is not there or the pid is gone. */
export function procStatus(pid: number | 'self' = 'self'): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resident set size of this process now, in bytes. */
export function rssNow(): number {
  return process.memoryUsage.rss();
}

/**
 * Reset this process's RSS high-water mark (VmHWM) to its current RSS by writing `5` to
 * /proc/self/clear_refs (Linux ≥ 4.0). Returns undefined on success, or why it is not available
 * (then callers fall back to sampling). TSPROF_NO_CLEAR_REFS=1 forces the fallback (tests).
 */
export function resetPeakRss(): string | undefined {
  if (process.env.TSPROF_NO_CLEAR_REFS) return 'disabled by TSPROF_NO_CLEAR_REFS';
  if (process.platform !== 'linux') return `no /proc/self/clear_refs on ${process.platform}`;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch (e) {
    return `writing /proc/self/clear_refs failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  const s = procStatus();
  if (!s) return 'cannot read /proc/self/status';
  // A kernel that ignores `5` leaves the old mark in place; the mark must now be close to RSS.
  if (s.hwm > s.rss + 16 * MiB) return 'this kernel does not reset VmHWM through clear_refs';
  return undefined;
}

/** The high-water mark since the last reset, in bytes. */
export function peakRss(): number {
  return procStatus()?.hwm ?? rssNow();
}

/** All descendants of `pid` (children, grandchildren, …), from /proc. */
export function descendants(pid: number = process.pid): number[] {
  const out: number[] = [];
  const childrenOf = (p: number): number[] | undefined => {
    try {
      const tids = readdirSync(`/proc/${p}/task`);
      const kids: number[] = [];
      for (const tid of tids) {
        const text = readFileSync(`/proc/${p}/task/${tid}/children`, 'latin1').trim();
        if (text) for (const c of text.split(/\s+/)) kids.push(Number(c));
      }
      return kids;
    } catch {
      return undefined;
    }
  };
  let byParent: Map<number, number[]> | undefined;
  const scan = (): Map<number, number[]> => {
    // Kernels without CONFIG_PROC_CHILDREN: read every /proc/<pid>/stat once.
    const m = new Map<number, number[]>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        m.set(ppid, [...(m.get(ppid) ?? []), Number(name)]);
      } catch {
        /* exited meanwhile */
      }
    }
    return m;
  };
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    let kids = childrenOf(p);
    if (kids === undefined) kids = (byParent ??= scan()).get(p) ?? [];
    for (const k of kids) {
      out.push(k);
      queue.push(k);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Garbage collection and the JS heap

let gcFn: (() => void) | undefined;

/**
 * V8's full GC as a function: `globalThis.gc` when node runs with --expose-gc (the kernel does),
 * else V8's own, exposed on demand (a library user's process has no flag).
 */
export function gcFunction(): () => void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  return gcFn;
}

/**
 * A full GC, twice: V8 sweeps ArrayBuffers concurrently and settles their accounting (external
 * memory) and their unmapping (RSS) at the start of the next GC, so one GC leaves freed buffers still
 * counted.
 */
export function collectGarbage(): void {
  const gc = gcFunction();
  gc();
  gc();
}

export interface Extent {
  /** Bytes at the start, the peak, and at the end (before any cleanup). */
  start: number;
  peak: number;
  end: number;
}

export interface HeapExtents {
  heap: Extent;
  external: Extent;
  arrayBuffers: { start: number; end: number };
  gcCount: number;
  /** Time spent in GC while it ran, ms. */
  gcTime: number;
}

/**
 * The JS heap's exact peak while something runs. Used heap only grows between collections and only
 * falls in one, so its maximum is the largest of: the start, the used size just before every GC
 * (v8.GCProfiler records it), and the end. The same holds for V8's external memory (ArrayBuffer
 * backing stores and other memory reported to V8), which is freed only when GC finalizes its owner.
 */
export class HeapPeak {
  private readonly profiler = new v8.GCProfiler();
  private readonly start0 = v8.getHeapStatistics();
  private readonly buffers0 = process.memoryUsage().arrayBuffers;
  private stopped = false;

  constructor() {
    this.profiler.start();
  }

  stop(): HeapExtents {
    if (this.stopped) throw new Error('HeapPeak stopped twice');
    this.stopped = true;
    const end = v8.getHeapStatistics();
    const data = adopt(this.profiler.stop());
    const heap: Extent = { start: this.start0.used_heap_size, peak: Math.max(this.start0.used_heap_size, end.used_heap_size), end: end.used_heap_size };
    const external: Extent = { start: this.start0.external_memory, peak: Math.max(this.start0.external_memory, end.external_memory), end: end.external_memory };
    let gcTime = 0;
    for (const s of data.statistics) {
      heap.peak = Math.max(heap.peak, s.beforeGC.heapStatistics.usedHeapSize);
      external.peak = Math.max(external.peak, s.beforeGC.heapStatistics.externalMemory);
      gcTime += s.cost / 1e3;
    }
    return { heap, external, arrayBuffers: { start: this.buffers0, end: process.memoryUsage().arrayBuffers }, gcCount: data.statistics.length, gcTime };
  }

  /** Stop without a result (on an error path). */
  cancel(): void {
    if (!this.stopped) {
      this.stopped = true;
      this.profiler.stop();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The sampler thread

/** Control words shared with the sampler worker (Int32 indices). */
export const CTRL = {
  /** Watchdog state: 0 idle, 1 armed (statement running), 3 the worker fired SIGINT, 4 finished in time. */
  WATCHDOG: 0,
  /** Bumped by the main thread every time it writes the external figure. */
  EXTERNAL_SEQ: 1,
} as const;
/** Float64 indices (after the Int32 control words). */
export const VALS = {
  /** V8 external memory, bytes, as last written by the main thread. */
  EXTERNAL: 1,
  /** The watchdog deadline, hrtime ms. */
  DEADLINE: 2,
  /** Heap used, as last written by the main thread (when idle). */
  HEAP: 3,
} as const;

export interface SamplerOptions {
  /** Milliseconds between samples; 0 = no sampling (watchdog only). */
  intervalMs: number;
  /** Also sum the RSS of descendant processes. */
  children?: boolean;
  /** Ask the main thread's V8 for the used heap at every tick (inspector Runtime.getHeapUsage). */
  heap?: boolean;
  /** Have the main thread publish V8's external memory while it is idle. */
  external?: boolean;
}

export interface WorkerSamples {
  /** hrtime milliseconds of each sample. */
  t: Float64Array;
  rss: Float64Array;
  heapUsed: Float64Array;
  external: Float64Array;
  children: Float64Array;
  /** Samples whose heap figure is the last known one (the main thread had not answered yet). */
  staleHeap: number;
  /** Samples whose external figure is older than one interval (the main thread was busy). */
  staleExternal: number;
  /** Largest VmHWM seen per descendant pid. */
  childPeaks: Record<number, number>;
}

/** Milliseconds on the process-wide monotonic clock (the same in every thread, unlike performance.now()). */
export function hrtimeMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

const WORKER_URL = new URL('./memory-sampler.js', import.meta.url);
/** The sampler thread between magic calls (unref'd: it never keeps the process alive). */
let idleWorker: HelperThread<{ type: string }> | undefined;

/** The next message of `type` from the worker; rejects if it errors or exits first. */
function reply<T = unknown>(worker: HelperThread<{ type: string }>, type: string): Promise<T> {
  return worker.answer((m) => m.type === type) as Promise<T>;
}

/**
 * A worker thread that samples memory while the main thread runs user code (busy or not), and
 * can stop a statement that overruns a deadline. See memory-sampler.ts for how each figure is read.
 */
export class MemorySampler {
  private readonly sab = new SharedArrayBuffer(64);
  private readonly ctrl = new Int32Array(this.sab, 0, 4);
  private readonly vals = new Float64Array(this.sab, 16, 4);
  private publisher: NodeJS.Timeout | undefined;
  private savedSigint: Array<(...args: unknown[]) => void> | undefined;
  private sigintListener: (() => void) | undefined;
  private onTimeout: (() => void) | undefined;
  /** The SIGINT the worker sent arrived at the listener (the statement was not in synchronous code). */
  private consumed = false;
  private stopped = false;
  private closed = false;
  private broken = false;

  private worker!: HelperThread<{ type: string }>;

  private constructor(readonly options: SamplerOptions) {}

  static async start(options: SamplerOptions): Promise<MemorySampler> {
    const s = new MemorySampler(options);
    s.publishExternal();
    // Reuse the idle sampler thread when there is one (a nested magic gets a thread of its own).
    let worker = idleWorker?.exited ? undefined : idleWorker;
    idleWorker = undefined;
    if (!worker) {
      worker = new HelperThread<{ type: string }>(WORKER_URL, { workerData: { pid: process.pid }, stdout: false, stderr: false });
      await reply(worker, 'ready');
    }
    s.worker = worker;
    try {
      const configured = reply(worker, 'configured');
      worker.postMessage({ type: 'configure', sab: s.sab, options });
      await configured;
    } catch (e) {
      s.broken = true;
      await s.close();
      throw e;
    }
    if (options.external) {
      // The main thread writes V8's external memory into shared memory whenever its event loop
      // turns (every interval while the statement awaits; not while it computes — external memory
      // only changes through allocations the statement makes, and GC, which the heap sampler sees).
      s.publisher = setInterval(() => s.publishExternal(), Math.max(1, options.intervalMs));
      s.publisher.unref();
    }
    return s;
  }

  publishExternal(): void {
    const h = v8.getHeapStatistics();
    this.vals[VALS.EXTERNAL] = h.external_memory;
    this.vals[VALS.HEAP] = h.used_heap_size;
    Atomics.add(this.ctrl, CTRL.EXTERNAL_SEQ, 1);
  }

  /** Begin recording samples (the worker takes one immediately). */
  begin(): void {
    this.worker.postMessage({ type: 'begin' });
  }

  /**
   * Arm the watchdog for `seconds`: past the deadline the worker sends SIGINT to this process. In
   * synchronous code Node's SIGINT watchdog (the kernel runs statements under it while a SIGINT
   * listener other than its own, such as ours, is installed: kernel/io/sigint.ts) ends
   * the statement; while it awaits, our listener (installed in place of the kernel's for the run, so
   * the cell itself is not interrupted) calls `onTimeout`.
   */
  arm(seconds: number, onTimeout: () => void): void {
    this.onTimeout = onTimeout;
    this.consumed = false;
    this.vals[VALS.DEADLINE] = hrtimeMs() + seconds * 1e3;
    Atomics.store(this.ctrl, CTRL.WATCHDOG, 1);
    if (!this.sigintListener) {
      const saved = process.rawListeners('SIGINT') as Array<(...args: unknown[]) => void>;
      this.sigintListener = () => {
        if (Atomics.load(this.ctrl, CTRL.WATCHDOG) === 3 && !this.consumed) {
          this.consumed = true;
          this.onTimeout?.();
        } else for (const l of saved) l.call(process, 'SIGINT');
      };
      process.on('SIGINT', this.sigintListener);
      for (const l of saved) process.removeListener('SIGINT', l);
      this.savedSigint = saved;
    }
    this.worker.postMessage({ type: 'arm' });
  }

  /**
   * The statement ended (normally or not): did the watchdog fire? When it fired while the statement
   * was in synchronous code, the SIGINT was consumed there; when it is still on its way, wait for it
   * so it cannot reach the kernel's own listener after ours is gone.
   */
  async disarm(threwInterrupt: boolean): Promise<boolean> {
    if (Atomics.compareExchange(this.ctrl, CTRL.WATCHDOG, 1, 4) === 1) return false;
    if (Atomics.load(this.ctrl, CTRL.WATCHDOG) !== 3) return false;
    if (!threwInterrupt && !this.consumed) {
      const until = Date.now() + 1000;
      while (!this.consumed && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    }
    this.consumed = true;
    Atomics.store(this.ctrl, CTRL.WATCHDOG, 4);
    return true;
  }

  /** Stop sampling (the thread stays until close(), so RSS read now still includes it); returns what was recorded since begin(). */
  async stop(): Promise<WorkerSamples> {
    if (this.stopped) throw new Error('sampler stopped twice');
    this.stopped = true;
    this.restoreSigint();
    if (this.publisher) clearInterval(this.publisher);
    this.publishExternal();
    const result = reply<{ samples: WorkerSamples }>(this.worker, 'samples');
    this.worker.postMessage({ type: 'stop' });
    try {
      return (await result).samples;
    } catch (e) {
      this.broken = true;
      throw e;
    }
  }

  /** Done with the thread: it goes back to idle for the next call, or ends (idempotent; also the error path). */
  async close(): Promise<void> {
    this.restoreSigint();
    if (this.publisher) clearInterval(this.publisher);
    if (this.closed) return;
    this.closed = true;
    if (!this.broken && !idleWorker) {
      this.worker.postMessage({ type: 'reset' });
      idleWorker = this.worker;
    } else await this.worker.terminate();
  }

  private restoreSigint(): void {
    if (!this.sigintListener) return;
    for (const l of this.savedSigint ?? []) process.on('SIGINT', l);
    process.removeListener('SIGINT', this.sigintListener);
    this.sigintListener = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic on series

/** Least-squares slope of v over t (units of v per unit of t); 0 with fewer than 2 points. */
export function slope(t: ArrayLike<number>, v: ArrayLike<number>): number {
  const n = Math.min(t.length, v.length);
  if (n < 2) return 0;
  let st = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    st += t[i];
    sv += v[i];
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i] - mt) * (v[i] - mv);
    den += (t[i] - mt) ** 2;
  }
  return den > 0 ? num / den : 0;
}

export interface Growth {
  /** MiB per second, least squares over the run. */
  slope: number;
  /** Largest value in the first third of the run, smallest in the last third (bytes). */
  firstThirdMax: number;
  lastThirdMin: number;
  /** Bytes still held after the run and a full GC, above the start. */
  retained: number;
  /** Memory only grew: slope > 0, the last third never fell to the first third's maximum, and a GC afterwards did not give most of it back. */
  onlyGrows: boolean;
}

/**
 * The leak heuristic (mprof's --slope, made stricter): a positive trend, the last third's minimum
 * above the first third's maximum, and at least half of the growth still held after a full GC —
 * garbage the collector had not reached yet is not a leak — with at least `minBytes` growth.
 */
/**
 * `collected`: the series is the JS heap, a sawtooth by nature (young-generation GCs run all the
 * time), so "the last third never dips below the first" is not asked of it; what survives a full
 * GC at the end must have grown instead (by at least a quarter of the peak rise).
 */
export function growth(t: ArrayLike<number>, v: ArrayLike<number>, retainedAfterGc: number, minBytes = MiB, collected = false): Growth {
  const n = Math.min(t.length, v.length);
  const third = Math.floor(n / 3);
  let firstThirdMax = -Infinity;
  let lastThirdMin = Infinity;
  for (let i = 0; i < third; i++) firstThirdMax = Math.max(firstThirdMax, v[i]);
  for (let i = n - third; i < n; i++) lastThirdMin = Math.min(lastThirdMin, v[i]);
  const s = slope(t, v) / MiB;
  const start = n ? v[0] : 0;
  const rose = n ? v[n - 1] - start : 0;
  const retained = retainedAfterGc - start;
  let peak = -Infinity;
  for (let i = 0; i < n; i++) peak = Math.max(peak, v[i]);
  const onlyGrows = collected
    ? third >= 2 && s > 0 && retained >= Math.max(minBytes, 0.25 * (peak - start))
    : third >= 2 && s > 0 && lastThirdMin > firstThirdMax && lastThirdMin - firstThirdMax >= minBytes && retained >= Math.max(minBytes, 0.5 * rose);
  return { slope: s, firstThirdMax, lastThirdMin, retained, onlyGrows };
}

/** Keep a long series drawable: at most `max` points per series, each bucket's min and max kept. */
export function downsample(t: ArrayLike<number>, v: ArrayLike<number>, max: number): Array<[number, number]> {
  const n = Math.min(t.length, v.length);
  if (n <= max) return Array.from({ length: n }, (_, i) => [t[i], v[i]]);
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = n / buckets;
  const out: Array<[number, number]> = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(n, Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (v[i] < v[lo]) lo = i;
      if (v[i] > v[hi]) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) if (out.at(-1)?.[0] !== t[i]) out.push([t[i], v[i]]);
  }
  return out;
}
