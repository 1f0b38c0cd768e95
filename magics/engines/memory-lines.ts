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

/** Heap used + external memory, the memory a program's own objects and buffers take. */
function memNow(): number {
  const s = v8.getHeapStatistics();
  return s.used_heap_size + s.external_memory;
}

/**
 * A reading that knows its own cost: getHeapStatistics returns a fresh object (unless the optimizer
 * removed it), so two back-to-back readings differ by exactly what one reading allocates; that is
 * taken off the line's interval, which contains one reading's object. Results go to module
 * variables (small integers, no allocation) rather than a returned object.
 */
let readUsed = 0;
let readCost = 0;
function read(): void {
  const a = memNow();
  const b = memNow();
  readUsed = b;
  readCost = b - a;
}

/** What the probe machinery itself leaves per interval (a boxed number or two), measured the way a line is. */
function probeResidual(): number {
  const samples = new Int32Array(301);
  read();
  let prev = readUsed;
  for (let i = 0; i < samples.length; i++) {
    read();
    samples[i] = readUsed - 2 * readCost - prev;
    prev = readUsed;
  }
  return samples.sort()[150];
}

/**
 * The probe machinery's own garbage per interval (boxed numbers while the function is still
 * interpreted, the readings' objects) measured 64-936 bytes here, depending on V8's tier. Readings
 * below this are that noise, not the line: they count as zero.
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
  private readonly residual = probeResidual();

  constructor(lines: number, private readonly measureAll: boolean) {
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
    if (this.measuring[from]) this.close(f, from);
    else if (this.measuring[line]) {
      read();
      f.used = readUsed;
      f.t = performance.now();
    }
    return line;
  }

  x(f: MemFrame, from: number): void {
    if (this.measuring[from]) this.close(f, from);
  }

  /** End the measured interval of `line` (and start the next one where it ends). */
  private close(f: MemFrame, line: number): void {
    read();
    const used = readUsed - readCost;
    const now = performance.now();
    const raw = used - readCost - f.used - this.residual;
    const d = raw > NOISE_BYTES || raw < -NOISE_BYTES ? raw : 0;
    this.net[line] += d;
    if (used > this.peak[line]) this.peak[line] = used;
    // A drop is a GC (often set off by the probe itself), not the line: only growth marks a line as
    // allocating. The first runs are left out of that decision (lazy compilation allocates), and one
    // jump is not enough (optimized code landing in the heap makes one, on whatever line is running).
    const n = ++this.measured[line];
    if (d > NOISE_BYTES && n > WARMUP) this.allocates[line]++;
    if (n >= SKIP_AFTER && this.allocates[line] < 2 && !this.measureAll) this.measuring[line] = 0;
    if (this.logged * 3 + 3 > this.log.length) {
      const bigger = new Float64Array(this.log.length * 2);
      bigger.set(this.log);
      this.log = bigger;
    }
    this.log[this.logged * 3] = f.t;
    this.log[this.logged * 3 + 1] = now;
    this.log[this.logged * 3 + 2] = line;
    this.logged++;
    f.used = readUsed;
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
  private readonly entries: Array<{ startTime: number }> = [];
  private readonly observer = new PerformanceObserver((list) => this.take(list.getEntries()));

  /**
   * Copy the start times out by index: the lists are main-realm arrays (a cell may have removed
   * their iterator), and an entry's fields are getters that adopt()'s own-key copy would lose.
   */
  private take(list: readonly PerformanceEntry[]): void {
    for (let i = 0; i < list.length; i++) this.entries[this.entries.length] = { startTime: list[i].startTime };
  }
  private readonly profiler = new v8.GCProfiler();
  private sizes: number[] = [];

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
    this.profiler.start();
  }

  stop(): void {
    const stats = adopt(this.profiler.stop());
    this.sizes = (stats?.statistics ?? []).map((s) => {
      const b = s.beforeGC.heapStatistics as unknown as { usedHeapSize: number; externalMemory: number };
      const a = s.afterGC.heapStatistics as unknown as { usedHeapSize: number; externalMemory: number };
      return b.usedHeapSize + b.externalMemory - (a.usedHeapSize + a.externalMemory);
    });
  }

  /**
   * `partial`: when the counts differ, still pair what can be paired — fewer entries than sizes
   * means the last GCs' entries were not delivered (a process exiting), so the first ones pair up.
   * Otherwise a mismatch gives no GCs at all.
   */
  collect(partial = false): { gcs: Array<{ t: number; freed: number }>; matched: boolean } {
    this.take(this.observer.takeRecords());
    this.observer.disconnect();
    const { sizes, entries } = this;
    const matched = sizes.length === entries.length;
    const paired = matched || (partial && sizes.length > entries.length) ? entries : [];
    return { gcs: paired.map((e, i) => ({ t: e.startTime, freed: sizes[i] })), matched };
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
