// %mprun's measurement, shared by the notebook, the command line's runner and the library: a
// recorder of memory per line behind the probes (used heap + external memory before and after each
// line; a line seen allocating nothing in its first 64 runs is afterwards only counted), GCs timed
// with PerformanceObserver and sized with v8.GCProfiler (their freed bytes added back to the lines
// they ran in), and one function's table in memory_profiler's layout (MiB) from what it recorded.
import v8 from 'node:v8';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { Recorder } from './probes.js';
import type { Target } from './targets.js';
import { displayFile } from './v8/sources.js';
import { adopt } from './realm.js';

const MiB = 1024 * 1024;
export const SKIP_AFTER = 64;
const WARMUP = 8;

interface MemFrame {
  used: number;
  t: number;
}

/**
 * Heap used + external memory, the memory a program's own objects and buffers take, read without
 * allocating: node's v8 binding fills a Float64Array that `v8.getHeapStatistics()` copies into a
 * fresh object (~200 bytes a reading, 20 MiB over a 100,000-step loop, which then read as the
 * loop's). Where the binding is missing, that copy is taken (and shows as a probe's garbage).
 */
interface HeapBinding {
  heapStatisticsBuffer: Float64Array;
  updateHeapStatisticsBuffer(): void;
  kUsedHeapSizeIndex: number;
  kExternalMemoryIndex: number;
}
function heapBinding(): HeapBinding | undefined {
  // Node 20 warns (DEP0111) on this access, on the user's stderr: that one warning is held back.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code !== 'DEP0111') (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const b = (process as unknown as { binding(name: string): Partial<HeapBinding> }).binding('v8');
    if (b.heapStatisticsBuffer instanceof Float64Array && typeof b.updateHeapStatisticsBuffer === 'function' && typeof b.kUsedHeapSizeIndex === 'number' && typeof b.kExternalMemoryIndex === 'number') return b as HeapBinding;
  } catch {
    // process.binding removed or refused (--throw-deprecation).
  } finally {
    process.emitWarning = emit;
  }
  return undefined;
}
// Looked up by the first recorder, not when this module loads: the kernel loads it at start, and
// %memit's 1 s poller test saw the spike's pages still resident more often when it was eager.
let binding: HeapBinding | undefined;
let heapBuf: Float64Array | undefined;
let USED = 0;
let EXTERNAL = 0;
let looked = false;
function lookUpBinding(): void {
  if (looked) return;
  looked = true;
  binding = heapBinding();
  heapBuf = binding?.heapStatisticsBuffer;
  USED = binding?.kUsedHeapSizeIndex ?? 0;
  EXTERNAL = binding?.kExternalMemoryIndex ?? 0;
}

function memNow(): number {
  if (binding) {
    binding.updateHeapStatisticsBuffer();
    return heapBuf![USED] + heapBuf![EXTERNAL];
  }
  const s = v8.getHeapStatistics();
  return s.used_heap_size + s.external_memory;
}

/**
 * Interval changes below this are the probe machinery's own garbage (a boxed number or two while
 * the function is interpreted): they do not mark a line as allocating. The Increments themselves
 * are the exact differences of readings, uncorrected, so that they add up (telescope) to the
 * function's change in memory, as memory_profiler's do.
 */
export const NOISE_BYTES = 1024;

export class MemRecorder implements Recorder<MemFrame> {
  readonly hits: Float64Array;
  readonly net: Float64Array;
  readonly freed: Float64Array;
  readonly peak: Float64Array;
  private readonly measured: Uint32Array;
  private readonly allocates: Uint8Array;
  private readonly measuring: Uint8Array;
  /** Read by the inline fast path of the probes (instrument.ts). */
  readonly m: Uint8Array;
  readonly h: Float64Array;
  readonly none: number;
  calls = 0;
  entry = 0;
  /** Measured intervals: start ms, end ms, line — for putting GCs in the lines they happened in. */
  private log = new Float64Array(3 * 4096);
  private logged = 0;

  constructor(lines: number, private readonly measureAll: boolean) {
    lookUpBinding();
    // One slot more than lines: `none`, the line before the first, never measured.
    this.none = lines;
    this.hits = new Float64Array(lines + 1);
    this.net = new Float64Array(lines + 1);
    this.freed = new Float64Array(lines + 1);
    this.peak = new Float64Array(lines + 1);
    this.measured = new Uint32Array(lines + 1);
    this.allocates = new Uint8Array(lines + 1);
    this.measuring = new Uint8Array(lines + 1).fill(1);
    this.measuring[this.none] = 0;
    this.m = this.measuring;
    this.h = this.hits;
  }

  /** Back to a fresh recorder's state, for another run of a kept instrumented copy (same arrays: the probes hold them). */
  reset(): void {
    for (const a of [this.hits, this.net, this.freed, this.peak]) a.fill(0);
    this.measured.fill(0);
    this.allocates.fill(0);
    this.measuring.fill(1);
    this.measuring[this.none] = 0;
    this.calls = 0;
    this.entry = 0;
    this.logged = 0;
  }

  e(): MemFrame {
    this.calls++;
    const used = memNow();
    if (this.calls === 1) this.entry = used;
    return { used, t: performance.now() };
  }

  l(f: MemFrame, from: number, line: number): number {
    if (this.measuring[from]) this.close(f, from, true);
    else if (this.measuring[line]) {
      // The stretch since the last reading ran lines no longer measured; it ends here. It goes to
      // the line just left (in a one-line loop, all of it is that line's), so the Increments still
      // add up to the function's change in memory; from `none` (entry) there is nothing to close.
      if (from !== this.none) this.close(f, from, false);
      else {
        f.used = memNow();
        f.t = performance.now();
      }
    }
    return line;
  }

  x(f: MemFrame, from: number): void {
    if (from !== this.none) this.close(f, from, this.measuring[from] === 1);
  }

  /**
   * End the interval of `line` (and start the next one where it ends): the exact difference of
   * two readings, so consecutive intervals telescope. `measured`: an interval of the line alone
   * (not a stretch of unmeasured lines ending in it), which counts toward deciding to skip it.
   */
  private close(f: MemFrame, line: number, measured: boolean): void {
    const used = memNow();
    const now = performance.now();
    const d = used - f.used;
    this.net[line] += d;
    if (used > this.peak[line]) this.peak[line] = used;
    if (measured) {
      // A drop is a GC (often set off by the probe itself), not the line: only growth marks a line
      // as allocating. The first runs are left out of that decision (lazy compilation allocates),
      // and one jump is not enough (optimized code landing in the heap makes one, on whatever line
      // is running).
      const n = ++this.measured[line];
      if (d > NOISE_BYTES && n > WARMUP) this.allocates[line]++;
      if (n >= SKIP_AFTER && this.allocates[line] < 2 && !this.measureAll) this.measuring[line] = 0;
    }
    // A stretch of unmeasured lines is not logged: a GC in it freed other lines' garbage as much
    // as this line's (as before the stretches were closed at all).
    if (!measured) {
      f.used = used;
      f.t = now;
      return;
    }
    // Consecutive intervals of one line (a one-line loop's steps) are one entry: a GC in either is
    // the line's all the same, and 100,000 entries would be megabytes allocated by the probe.
    const last = (this.logged - 1) * 3;
    if (this.logged && this.log[last + 2] === line && this.log[last + 1] === f.t) this.log[last + 1] = now;
    else {
      if (this.logged * 3 + 3 > this.log.length) {
        const bigger = new Float64Array(this.log.length * 2);
        bigger.set(this.log);
        this.log = bigger;
      }
      this.log[this.logged * 3] = f.t;
      this.log[this.logged * 3 + 1] = now;
      this.log[this.logged * 3 + 2] = line;
      this.logged++;
    }
    f.used = used;
    f.t = now;
  }

  /** Add each GC's freed bytes to every measured interval it happened in (a line's interval includes its callees). */
  attributeGcs(gcs: Array<{ t: number; freed: number }>): void {
    if (!gcs.length) return;
    for (let i = 0; i < this.logged; i++) {
      const start = this.log[i * 3];
      const end = this.log[i * 3 + 1];
      for (const g of gcs) if (g.t >= start && g.t <= end && g.freed > 0) this.freed[this.log[i * 3 + 2]] += g.freed;
    }
  }
}

/**
 * GCs while something runs: when each started (PerformanceObserver) and what it freed
 * (GCProfiler), matched in order. Started now; `stop()` ends the sizing and `collect()` the
 * matching, both synchronous, so the command line can use them while its process exits (entries
 * the observer has not delivered yet are then missing, and `matched` says so).
 */
export class GcWatch {
  /** Start times of the GCs seen. Read off each entry: its fields are getters, which a copy into this realm would lose. */
  private readonly starts: number[] = [];
  private readonly observer = new PerformanceObserver((list) => this.take(list.getEntries()));
  private readonly profiler = new v8.GCProfiler();
  private sizes: number[] = [];
  private startedAt = 0;
  private stoppedAt = Infinity;

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
    this.startedAt = performance.now();
    this.profiler.start();
  }

  stop(): void {
    const raw = this.profiler.stop();
    this.stoppedAt = performance.now();
    const stats = adopt(raw);
    this.sizes = (stats?.statistics ?? []).map((s) => {
      const b = s.beforeGC.heapStatistics as unknown as { usedHeapSize: number; externalMemory: number };
      const a = s.afterGC.heapStatistics as unknown as { usedHeapSize: number; externalMemory: number };
      return b.usedHeapSize + b.externalMemory - (a.usedHeapSize + a.externalMemory);
    });
  }

  private take(entries: PerformanceEntry[]): void {
    for (let i = 0; i < entries.length; i++) this.starts[this.starts.length] = entries[i].startTime;
  }

  /**
   * `partial`: when the counts differ, still pair what can be paired — fewer entries than sizes
   * means the last GCs' entries were not delivered (a process exiting), so the first ones pair up.
   * Otherwise a mismatch gives no GCs at all.
   */
  collect(partial = false): { gcs: Array<{ t: number; freed: number }>; matched: boolean } {
    this.take(this.observer.takeRecords());
    this.observer.disconnect();
    // Only GCs that began while the profiler ran have sizes: node delivers an entry on a later turn
    // of the event loop, so the full GCs run just before (%mprun's own collectGarbage) reach this
    // observer too, and so do GCs after the profiler stopped (the kernel's work while the last
    // entries are awaited, copying the statistics into this realm).
    const { sizes, startedAt, stoppedAt } = this;
    const starts = this.starts.filter((t) => t >= startedAt && t <= stoppedAt);
    const matched = sizes.length === starts.length;
    const paired = matched || (partial && sizes.length > starts.length) ? starts : [];
    return { gcs: paired.map((t, i) => ({ t, freed: sizes[i] })), matched };
  }
}

/** Watch GCs during `run`; the observer delivers the last entries on the next turn of the event loop. */
export async function watchGcs<T>(run: () => Promise<T>): Promise<{ value: T; gcs: Array<{ t: number; freed: number }>; matched: boolean }> {
  const watch = new GcWatch();
  let value: T;
  let collected: ReturnType<GcWatch['collect']>;
  try {
    value = await run();
  } finally {
    watch.stop();
    await new Promise((r) => setImmediate(r));
    collected = watch.collect();
  }
  return { value: value!, ...collected };
}

export interface MemLine {
  line: number;
  /** MiB after the line, the largest over its occurrences. */
  memUsage?: number;
  /** MiB, net change over all occurrences. */
  increment?: number;
  /** MiB allocated by the line (net change plus what GC freed meanwhile; never below zero: when GC events cannot be sized, a line freeing memory must not read as negative allocation). */
  allocated?: number;
  occurrences?: number;
  contents: string;
}

export interface MemFunction {
  name: string;
  file: string;
  line: number;
  calls: number;
  lines: MemLine[];
}

export class MemoryProfileResult {
  constructor(readonly functions: MemFunction[], readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a MemRecorder measured, per 0-based line (bytes), after its GCs were attributed. */
export interface MemoryRecord {
  hits: ArrayLike<number>;
  net: ArrayLike<number>;
  freed: ArrayLike<number>;
  peak: ArrayLike<number>;
  calls: number;
  entry: number;
}

/** One function's table in memory_profiler's layout (MiB) from what its recorder measured. */
export function memoryLines(t: Pick<Target, 'name' | 'url' | 'firstLine' | 'lastLine'>, rec: MemoryRecord, tsLines: string[]): MemFunction {
  const lines: MemLine[] = [];
  for (let l = t.firstLine; l <= t.lastLine; l++) {
    const hits = rec.hits[l];
    if (l === t.firstLine && !hits) {
      lines.push({ line: l + 1, memUsage: rec.calls ? rec.entry / MiB : undefined, occurrences: rec.calls || undefined, contents: tsLines[l] ?? '' });
      continue;
    }
    lines.push(hits
      ? { line: l + 1, memUsage: rec.peak[l] ? rec.peak[l] / MiB : undefined, increment: rec.net[l] / MiB, allocated: Math.max(0, rec.net[l] + rec.freed[l]) / MiB, occurrences: hits, contents: tsLines[l] ?? '' }
      : { line: l + 1, contents: tsLines[l] ?? '' });
  }
  return { name: t.name, file: displayFile(t.url), line: t.firstLine + 1, calls: rec.calls, lines };
}
