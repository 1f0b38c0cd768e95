// %mprun's measurement, shared by the notebook, the command line's runner and the library: a
// recorder of memory per line behind the probes (used heap + external memory before and after each
// line; a line seen allocating nothing in its first 64 runs is afterwards only counted), GCs timed
// with PerformanceObserver and sized with v8.GCProfiler (their freed bytes added back to the lines
// they ran in), and one function's table in memory_profiler's layout (MiB) from what it recorded.
//
// The probes allocate nothing the lines are charged with: whatever they allocated would be counted
// in the lines (a one-line loop of 100,000 steps read ~38 MiB of probe garbage as the loop's: a
// heap reading through `v8.getHeapStatistics()`'s fresh object, a boxed `performance.now()`, a
// frame object and a Float64Array counter's boxed numbers, each step). Readings come from the v8
// binding's buffers, frames are integer slots, counters Int32Arrays, and what a probe's own work
// allocates anyway is measured and left out of every line (Meter).
import v8 from 'node:v8';
import { types } from 'node:util';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { Recorder } from './probes.js';
import type { Target } from './targets.js';
import { displayFile } from './v8/sources.js';
import { adopt } from './realm.js';

const MiB = 1024 * 1024;
export const SKIP_AFTER = 64;
const WARMUP = 8;

/**
 * Heap used + external memory, the memory a program's own objects and buffers take, and the young
 * generation's used size, read without allocating: node's v8 binding fills Float64Arrays that
 * `v8.getHeapStatistics()` copies into a fresh object (~330 bytes a reading). Where the binding is
 * missing, that copy is taken (and shows as a probe's garbage).
 */
interface HeapBinding {
  heapStatisticsBuffer: Float64Array;
  updateHeapStatisticsBuffer(): void;
  kUsedHeapSizeIndex: number;
  kExternalMemoryIndex: number;
  heapSpaceStatisticsBuffer: Float64Array;
  updateHeapSpaceStatisticsBuffer(space: number): void;
  kSpaceUsedSizeIndex: number;
  kHeapSpaces: string[];
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
    // types.isFloat64Array, not instanceof: the kernel runs this module in a realm of its own, whose
    // Float64Array is not the one node made the buffer with (instanceof was false there, and every
    // reading went through getHeapStatistics()).
    if (types.isFloat64Array(b.heapStatisticsBuffer) && typeof b.updateHeapStatisticsBuffer === 'function' && typeof b.kUsedHeapSizeIndex === 'number' && typeof b.kExternalMemoryIndex === 'number'
      && types.isFloat64Array(b.heapSpaceStatisticsBuffer) && typeof b.updateHeapSpaceStatisticsBuffer === 'function' && typeof b.kSpaceUsedSizeIndex === 'number' && Array.isArray(b.kHeapSpaces) && b.kHeapSpaces.includes('new_space')) return b as HeapBinding;
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
let heapBuf: Float64Array = new Float64Array(0);
let spaceBuf: Float64Array = new Float64Array(4);
let USED = 0;
let EXTERNAL = 0;
let SPACE_USED = 0;
let NEW_SPACE = 0;
let looked = false;
function lookUpBinding(): void {
  if (looked) return;
  looked = true;
  binding = heapBinding();
  if (!binding) return;
  heapBuf = binding.heapStatisticsBuffer;
  spaceBuf = binding.heapSpaceStatisticsBuffer;
  USED = binding.kUsedHeapSizeIndex;
  EXTERNAL = binding.kExternalMemoryIndex;
  SPACE_USED = binding.kSpaceUsedSizeIndex;
  NEW_SPACE = binding.kHeapSpaces.indexOf('new_space');
}

/**
 * Interval changes below this are the machinery's own noise (lazy compilation, feedback vectors):
 * they do not mark a line as allocating. The Increments themselves are the exact differences of
 * readings, uncorrected, so that they add up (telescope) to the function's change in memory, as
 * memory_profiler's do.
 */
export const NOISE_BYTES = 1024;

/**
 * A non-negative integer below 2^31 from the two 32-bit halves of the double holding it (little
 * endian), with integer operations only: a Float64Array element read by code V8 has not optimized
 * comes back as a fresh 16-byte HeapNumber, an Int32Array element as a Smi. -1 when out of range.
 */
function smallInteger(lo: number, hi: number): number {
  if (hi === 0) return lo === 0 ? 0 : -1;
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  if (hi < 0 || e < 0 || e > 30) return -1;
  const m = 0x100000 | (hi & 0xfffff);
  const shift = 52 - e;
  return shift >= 32 ? m >>> (shift - 32) : (m << (32 - shift)) | (lo >>> shift);
}

/** Sightings, and long intervals, a run can hold: preallocated, so that no array grows while it runs. */
const SIGHTINGS = 2048;
const LONG_INTERVALS = 8192;
/**
 * Intervals at least this long (ms) are logged with their times: an interval during which a GC ran
 * lasts at least the GC's pause (scavenges take 0.1 ms and up), so every GC a reading did not sight
 * is in one of them.
 */
const LONG_MS = 0.02;

/**
 * What every memory recorder of the process shares: the bytes the probes themselves allocated
 * (`P`), the clock, and the GCs seen. A probe's own work (V8 boxes every number a Float64Array or
 * the clock gives unoptimized code) runs between two readings of the young generation, where all
 * of it lands; the difference goes to `P`, and lines are measured in "user memory" (used +
 * external − the probes' garbage still in the heap, which a GC sighted brings to zero), so no line
 * is charged with it, however it was compiled. Outside the two readings a probe handles only small
 * integers in Int32Arrays: nothing there allocates. The probes' garbage dies at the next GC: that
 * much of each GC's freed bytes is theirs, not the lines'.
 *
 * GCs: the young generation only grows between two GCs (allocation bumps a pointer), and a GC
 * empties it of what died and what it promotes. A reading that finds it (or user memory) lower
 * than at the end of the last probe saw a GC in between: one more "sighting". After the run, a GC
 * (timed by PerformanceObserver) that started between the reading before a sighting and the
 * sighting goes to the intervals that held the sighting; one that no reading saw (a long interval
 * that refilled the young generation past where it was) goes to the logged long intervals that
 * held its start time.
 */
class Meter {
  /**
   * [P mod 2^32, young generation at the end of the last probe, young generation at the start of
   * this one, P at the last GC sighted]. The probes' garbage still in the heap is P − P at the last GC.
   */
  readonly ints = new Int32Array(4);
  private readonly spaceInts: Int32Array;
  lastU = 0;
  /** The time of this reading and of the one before (ms, performance.now()). */
  t = 0;
  lastT = 0;
  started = false;
  /** Sightings so far: when each was made, when the reading before it was, and P then. [0]: the first reading. */
  seen = 0;
  readonly seenAt = new Float64Array(SIGHTINGS);
  readonly seenFrom = new Float64Array(SIGHTINGS);
  readonly seenP = new Int32Array(SIGHTINGS);
  /** More GCs were sighted than there is room for: the rest are attributed by time alone. */
  overflow = false;

  constructor() {
    this.spaceInts = new Int32Array(spaceBuf.buffer, spaceBuf.byteOffset, spaceBuf.length * 2);
  }

  reset(): void {
    this.ints.fill(0);
    this.lastU = 0;
    this.t = 0;
    this.lastT = 0;
    this.started = false;
    this.seen = 0;
    this.overflow = false;
  }

  /** The young generation's used bytes, read without allocating (below 2 GiB). */
  young(): number {
    if (!binding) return 0;
    binding.updateHeapSpaceStatisticsBuffer(NEW_SPACE);
    const v = smallInteger(this.spaceInts[2 * SPACE_USED], this.spaceInts[2 * SPACE_USED + 1]);
    return v >= 0 ? v : spaceBuf[SPACE_USED];
  }

  /** A probe starts: user memory now (notes the time, and a GC sighting). What it allocates from here on is the probes'. */
  enter(): number {
    const y = this.young();
    let total: number;
    if (binding) {
      binding.updateHeapStatisticsBuffer();
      this.ints[2] = y;
      total = heapBuf[USED] + heapBuf[EXTERNAL];
    } else {
      this.ints[2] = y;
      const s = v8.getHeapStatistics();
      total = s.used_heap_size + s.external_memory;
    }
    this.lastT = this.t;
    this.t = performance.now();
    let u = total - ((this.ints[0] - this.ints[3]) | 0);
    if (!this.started) {
      this.started = true;
      this.seenAt[0] = this.t;
      this.seenFrom[0] = this.t;
      this.seenP[0] = this.ints[0];
    } else if (y < this.ints[1] || u < this.lastU) {
      // The GC freed the probes' garbage made so far: none of it is in the heap any more.
      this.sight();
      u = total;
    }
    this.lastU = u;
    return u;
  }

  /** The probe ends: what it allocated since `enter` is added to P. False when a GC ran inside it. */
  leave(): boolean {
    const y = this.young();
    const d = y - this.ints[2];
    this.ints[1] = y;
    if (d >= 0) {
      this.ints[0] = (this.ints[0] + d) | 0;
      return true;
    }
    return false;
  }

  /**
   * A GC ran inside the probe (set off by its own garbage): sighted, timed from this probe's start
   * to now, and user memory read afresh — a probe starts again (call `leave` after).
   */
  reenter(): number {
    this.lastT = this.t;
    this.t = performance.now();
    this.sight();
    this.lastU = -Infinity;
    return this.enter();
  }

  sight(): void {
    if (this.seen + 1 >= SIGHTINGS) {
      this.overflow = true;
      this.ints[3] = this.ints[0];
      return;
    }
    this.seen++;
    this.seenAt[this.seen] = this.t;
    this.seenFrom[this.seen] = this.lastT;
    this.seenP[this.seen] = this.ints[0];
    this.ints[3] = this.ints[0];
  }
}

/** A GC of the run, placed: the sighting it belongs to (0: none, attributed by time), and its freed bytes less the probes' garbage. */
interface PlacedGc {
  t: number;
  freed: number;
  sighting: number;
}

/**
 * Place each GC: the sighting whose segment (the reading before it, the sighting) holds its start,
 * else none; and take off its freed bytes the garbage the probes made since the GC before (P at
 * the first checkpoint — a sighting or a long interval's end — at or after it).
 */
function placeGcs(m: Meter, gcs: Array<{ t: number; freed: number }>, checkpoints: Array<{ t: number; p: number }>): PlacedGc[] {
  const points = [...checkpoints];
  for (let k = 0; k <= m.seen; k++) points.push({ t: m.seenAt[k], p: m.seenP[k] });
  points.sort((a, b) => a.t - b.t);
  // Every GC moves the probes' garbage count on, those that freed nothing (or grew external memory) too.
  const sorted = [...gcs].filter((g) => g.t >= m.seenAt[0]).sort((a, b) => a.t - b.t);
  const out: PlacedGc[] = [];
  let s = 1;
  let c = 0;
  let pBefore = m.seenP[0];
  for (const g of sorted) {
    while (s <= m.seen && m.seenAt[s] < g.t) s++;
    while (c < points.length && points[c].t < g.t) c++;
    if (c >= points.length) break;
    const p = points[c].p;
    const garbage = (p - pBefore) | 0;
    pBefore = p;
    const sighting = s <= m.seen && m.seenFrom[s] <= g.t ? s : 0;
    if (g.freed > 0) out.push({ t: g.t, freed: Math.max(0, g.freed - Math.max(0, garbage)), sighting });
  }
  return out;
}

let meter: Meter | undefined;

/** Frames (calls in flight) a recorder has slots for at first; deeper recursion grows them. */
const FRAMES = 256;

/**
 * A probe recorder for memory. A frame is an integer, the index of its slot: user memory when its
 * current interval started, and the GC sightings by then. An interval (of a line, or of a stretch
 * of unmeasured lines) during which GCs were sighted is logged with their range, and after the run
 * each sighting's GCs (their freed bytes less the probes' garbage) go to the lines whose intervals
 * held it (a line's interval includes its callees, so a caller's line gets its callee's GCs too);
 * intervals of LONG_MS or more are also logged with their times, for the GCs no reading sighted.
 * Both logs are preallocated: nothing grows while the function runs (an ArrayBuffer grown or
 * dropped would move external memory under the lines).
 *
 * Hits are counted inline in an Int32Array (`h`, a Smi at every step, where a Float64Array's `++`
 * makes two HeapNumbers), which wraps past 2^32 into `wraps` through `w`.
 */
export class MemRecorder implements Recorder<number> {
  readonly net: Float64Array;
  readonly freed: Float64Array;
  readonly peak: Float64Array;
  private readonly measured: Uint32Array;
  private readonly allocates: Uint8Array;
  private readonly measuring: Uint8Array;
  /** Read by the inline fast path of the probes (instrument.ts). */
  readonly m: Uint8Array;
  readonly h: Int32Array;
  private readonly wraps: Float64Array;
  readonly none: number;
  calls = 0;
  entry = 0;
  private readonly meter: Meter;
  /** Per frame slot: user memory at the start of its interval, the sightings by then, and when it started. */
  private fU = new Float64Array(FRAMES);
  private fSeen = new Float64Array(FRAMES);
  private fT = new Float64Array(FRAMES);
  /** Free frame slots, a stack. */
  private free = new Int32Array(FRAMES);
  private freeTop = 0;
  /** Intervals that held sightings: line, sightings before, sightings after. */
  private readonly log = new Float64Array(3 * SIGHTINGS);
  private logged = 0;
  /** Intervals of LONG_MS or more: line, start, end (ms), P at the end. */
  private readonly long = new Float64Array(4 * LONG_INTERVALS);
  private longs = 0;

  constructor(lines: number, private readonly measureAll: boolean) {
    lookUpBinding();
    this.meter = meter ??= new Meter();
    // One slot more than lines: `none`, the line before the first, never measured.
    this.none = lines;
    this.h = new Int32Array(lines + 1);
    this.wraps = new Float64Array(lines + 1);
    this.net = new Float64Array(lines + 1);
    this.freed = new Float64Array(lines + 1);
    this.peak = new Float64Array(lines + 1);
    this.measured = new Uint32Array(lines + 1);
    this.allocates = new Uint8Array(lines + 1);
    this.measuring = new Uint8Array(lines + 1).fill(1);
    this.measuring[this.none] = 0;
    this.m = this.measuring;
    this.freeAll();
  }

  /** Occurrences per line (the Int32 counters with their wraps). */
  get hits(): Float64Array {
    const out = new Float64Array(this.h.length);
    for (let i = 0; i < out.length; i++) out[i] = this.wraps[i] * 2 ** 32 + (this.h[i] >>> 0);
    return out;
  }

  /** A line's counter wrapped past 2^32 (to 0). */
  w(line: number): number {
    this.wraps[line]++;
    return 0;
  }

  private freeAll(): void {
    for (let i = 0; i < this.free.length; i++) this.free[i] = this.free.length - 1 - i;
    this.freeTop = this.free.length;
  }

  /** Back to a fresh recorder's state, for another run of a kept instrumented copy (same arrays: the probes hold them). */
  reset(): void {
    for (const a of [this.wraps, this.net, this.freed, this.peak]) a.fill(0);
    this.h.fill(0);
    this.measured.fill(0);
    this.allocates.fill(0);
    this.measuring.fill(1);
    this.measuring[this.none] = 0;
    this.calls = 0;
    this.entry = 0;
    this.freeAll();
    this.logged = 0;
    this.longs = 0;
    this.meter.reset();
  }

  private slot(): number {
    if (this.freeTop === 0) {
      // Deeper than ever: twice the slots (the new ones free).
      const n = this.fU.length;
      this.fU = grown(this.fU);
      this.fSeen = grown(this.fSeen);
      this.fT = grown(this.fT);
      this.free = new Int32Array(2 * n);
      for (let i = 0; i < n; i++) this.free[i] = 2 * n - 1 - i;
      this.freeTop = n;
    }
    return this.free[--this.freeTop];
  }

  /**
   * End a probe on frame `f`, whose interval of `line` (-1: none) it closed. A GC that ran inside
   * the probe is put at the end of that interval: its drop in memory goes to the line's Increment
   * (so that Increments still add up to the change in memory) and its freed bytes to the line.
   */
  private leave(f: number, line: number): void {
    while (!this.meter.leave()) {
      const u = this.meter.reenter();
      if (line >= 0) {
        this.net[line] += u - this.fU[f];
        this.logSightings(f, line);
      } else this.fSeen[f] = this.meter.seen;
      this.fU[f] = u;
      this.fT[f] = this.meter.t;
    }
  }

  /** Log the GCs sighted since the frame's interval began, for `line`. */
  private logSightings(f: number, line: number): void {
    const before = this.fSeen[f];
    const seen = this.meter.seen;
    if (before === seen) return;
    // Consecutive intervals of one line (a one-line loop's steps) extend one entry.
    const last = (this.logged - 1) * 3;
    if (this.logged && this.log[last] === line && this.log[last + 2] === before) this.log[last + 2] = seen;
    else if (this.logged < SIGHTINGS) {
      this.log[this.logged * 3] = line;
      this.log[this.logged * 3 + 1] = before;
      this.log[this.logged * 3 + 2] = seen;
      this.logged++;
    }
    this.fSeen[f] = seen;
  }

  e(): number {
    this.calls++;
    const u = this.meter.enter();
    const f = this.slot();
    if (this.calls === 1) this.entry = u;
    this.fU[f] = u;
    this.fSeen[f] = this.meter.seen;
    this.fT[f] = this.meter.t;
    this.leave(f, -1);
    return f;
  }

  l(f: number, from: number, line: number): number {
    if (this.measuring[from]) this.close(f, from, true);
    else if (this.measuring[line]) {
      // The stretch since the last reading ran lines no longer measured; it ends here. It goes to
      // the line just left (in a one-line loop, all of it is that line's), so the Increments still
      // add up to the function's change in memory; from `none` (entry) there is nothing to close.
      if (from !== this.none) this.close(f, from, false);
      else {
        this.fU[f] = this.meter.enter();
        this.fSeen[f] = this.meter.seen;
        this.fT[f] = this.meter.t;
        this.leave(f, -1);
      }
    }
    return line;
  }

  x(f: number, from: number): void {
    if (from !== this.none) this.close(f, from, this.measuring[from] === 1);
    this.free[this.freeTop++] = f;
  }

  /**
   * End the interval of `line` (and start the next one where it ends): the exact difference of
   * two readings of user memory, so consecutive intervals telescope. `measured`: an interval of
   * the line alone (not a stretch of unmeasured lines ending in it), which counts toward deciding
   * to skip it. The GCs sighted during a stretch go to the line that gets its change in memory, so
   * that its Allocated (change + freed) is what the stretch allocated.
   */
  private close(f: number, line: number, measured: boolean): void {
    const u = this.meter.enter();
    const d = u - this.fU[f];
    this.net[line] += d;
    if (u > this.peak[line]) this.peak[line] = u;
    if (measured) {
      // A drop is a GC, not the line: only growth marks a line as allocating. The first runs are
      // left out of that decision (lazy compilation allocates), and one jump is not enough
      // (optimized code landing in the heap makes one, on whatever line is running).
      const n = ++this.measured[line];
      if (d > NOISE_BYTES && n > WARMUP) this.allocates[line]++;
      if (n >= SKIP_AFTER && this.allocates[line] < 2 && !this.measureAll) this.measuring[line] = 0;
    }
    this.logSightings(f, line);
    const t = this.meter.t;
    const start = this.fT[f];
    if (t - start >= LONG_MS) {
      const last = (this.longs - 1) * 4;
      if (this.longs && this.long[last] === line && this.long[last + 2] === start) {
        this.long[last + 2] = t;
        this.long[last + 3] = this.meter.ints[0];
      } else if (this.longs < LONG_INTERVALS) {
        this.long[this.longs * 4] = line;
        this.long[this.longs * 4 + 1] = start;
        this.long[this.longs * 4 + 2] = t;
        this.long[this.longs * 4 + 3] = this.meter.ints[0];
        this.longs++;
      }
    }
    this.fT[f] = t;
    this.fU[f] = u;
    this.leave(f, line);
  }

  /**
   * Add each GC's freed bytes (less the probes' garbage) to the lines whose intervals held it: by
   * its sighting, or when no reading sighted it, by its time in the long intervals.
   */
  attributeGcs(gcs: Array<{ t: number; freed: number }>): void {
    if (!gcs.length || !this.meter.started) return;
    const checkpoints: Array<{ t: number; p: number }> = [];
    for (let i = 0; i < this.longs; i++) checkpoints.push({ t: this.long[i * 4 + 2], p: this.long[i * 4 + 3] });
    const placed = placeGcs(this.meter, gcs, checkpoints);
    const bySighting = new Float64Array(this.meter.seen + 1);
    for (const g of placed) if (g.sighting) bySighting[g.sighting] += g.freed;
    for (let i = 0; i < this.logged; i++) {
      const line = this.log[i * 3];
      for (let k = this.log[i * 3 + 1] + 1; k <= this.log[i * 3 + 2]; k++) this.freed[line] += bySighting[k];
    }
    for (const g of placed) {
      if (g.sighting) continue;
      for (let i = 0; i < this.longs; i++) if (this.long[i * 4 + 1] <= g.t && g.t <= this.long[i * 4 + 2]) this.freed[this.long[i * 4]] += g.freed;
    }
  }
}

/** The same values in an array twice as long (rare: the recorder's arrays start large enough for most runs). */
function grown(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
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
    // The time first: stop() allocates its result, and a scavenge it sets off is seen by the
    // observer but not sized by the profiler (one entry too many, and no GC matched at all).
    this.stoppedAt = performance.now();
    const raw = this.profiler.stop();
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
  const occurrences = rec.hits;
  for (let l = t.firstLine; l <= t.lastLine; l++) {
    const hits = occurrences[l];
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
