// The runtime side of the probes a module got at load time (inplace.ts): a module's prologue asks
// `globalThis[Symbol.for('tsprof.cli')].probes(meta)` for what its functions' probes use — hit
// counters, or a recorder of line times, memory or calls — built by the engines' own factories,
// and the runner reads them back when the process ends.
import { countingProbes, recorderProbes, TimeRecorder } from '../../engines/probes.js';
import { userGlobal } from '../../engines/host.js';
import type { MemRecorder } from './engines.js';
import type { FunctionRecord } from './config.js';
import type { ProbedFunction } from './inplace.js';

export interface CallMark {
  name: string;
  /** ms on the process's monotonic clock (performance.timeOrigin + performance.now()). */
  start: number;
  end: number;
  /** RSS in bytes at the start and at the end of the call. */
  rssStart: number;
  rssEnd: number;
  /** Calls of marked functions already running when this one started, + 1. */
  level: number;
}

/** Calls of marked functions (mprof run's FUNC lines): start, end and RSS at both. */
export class MarkerRecorder {
  readonly m: Uint8Array;
  readonly h: Float64Array;
  readonly none: number;
  calls = 0;
  private static depth = 0;
  constructor(lines: number, private readonly name: string, private readonly sink: (mark: CallMark) => void) {
    this.none = lines;
    this.m = new Uint8Array(lines + 1);
    this.h = new Float64Array(lines + 1);
  }
  e(): { start: number; rss: number; level: number } {
    this.calls++;
    return { start: performance.timeOrigin + performance.now(), rss: process.memoryUsage.rss(), level: ++MarkerRecorder.depth };
  }
  l(_f: unknown, _from: number, line: number): number {
    return line;
  }
  x(f: { start: number; rss: number; level: number }): void {
    MarkerRecorder.depth--;
    this.sink({ name: this.name, start: f.start, end: performance.timeOrigin + performance.now(), rssStart: f.rss, rssEnd: process.memoryUsage.rss(), level: f.level });
  }
}

interface Entry {
  meta: ProbedFunction;
  /** Hit counters in shared memory: the recorder thread can read them even while this thread computes. */
  counters?: Float64Array;
  time?: TimeRecorder;
  memory?: MemRecorder;
  markers?: MarkerRecorder;
}

export class ProbeRegistry {
  readonly entries: Entry[] = [];
  private readonly byKey = new Map<string, unknown[]>();

  constructor(private readonly options: {
    /** %mprun's recorder (loaded only when memory is measured: it brings the notebook's %mprun module). */
    memory?: (lines: number) => MemRecorder;
    onMark?: (mark: CallMark) => void;
  } = {}) {}

  /** prun's call counters of each module, in shared memory (the recorder thread reads them). */
  readonly callCounters = new Map<string, [Float64Array, Float64Array]>();
  /** Told of each module's counters as they are made. */
  onCalls?: (url: string, counters: [Float64Array, Float64Array]) => void;

  /** What a counted module's prologue calls: its calls and self-calls arrays, one slot per function. */
  calls(url: string, slots: number): [Float64Array, Float64Array] {
    const known = this.callCounters.get(url);
    if (known && known[0].length === slots) return known;
    const made: [Float64Array, Float64Array] = [new Float64Array(new SharedArrayBuffer(8 * slots)), new Float64Array(new SharedArrayBuffer(8 * slots))];
    this.callCounters.set(url, made);
    this.onCalls?.(url, made);
    return made;
  }

  /** What the prologue of a module calls, once per instrumented function. */
  probes(meta: ProbedFunction): unknown[] {
    const known = this.byKey.get(meta.key);
    if (known) return known;
    const lines = meta.lastLine + 1;
    const entry: Entry = { meta };
    let args: unknown[];
    if (meta.probes === 'count') {
      entry.counters = new Float64Array(new SharedArrayBuffer(8 * (lines + 1)));
      args = countingProbes(entry.counters).args;
    } else if (meta.probes === 'time') {
      entry.time = new TimeRecorder(lines);
      args = recorderProbes(entry.time).args;
    } else if (meta.probes === 'memory') {
      if (!this.options.memory) throw new Error('tsprof: memory probes without a memory recorder');
      entry.memory = this.options.memory(lines);
      args = recorderProbes(entry.memory, true).args;
    } else {
      entry.markers = new MarkerRecorder(lines, meta.name, (m) => this.options.onMark?.(m));
      args = recorderProbes(entry.markers).args;
    }
    this.entries.push(entry);
    this.byKey.set(meta.key, args);
    return args;
  }

  /** What each function recorded (memory needs the run's GCs to put back what they freed). */
  records(gcs?: { gcs: Array<{ t: number; freed: number }>; matched: boolean }): Array<ProbedFunction & { record: FunctionRecord }> {
    return this.entries.map(({ meta, counters, time, memory, markers }) => {
      let record: FunctionRecord;
      if (counters) record = { probes: 'count', hits: Array.from(counters) };
      else if (time) record = { probes: 'time', hits: Array.from(time.hits), time: Array.from(time.time), calls: time.calls };
      else if (memory) {
        if (gcs) memory.attributeGcs(gcs.gcs);
        record = { probes: 'memory', hits: Array.from(memory.hits), net: Array.from(memory.net), freed: Array.from(memory.freed), peak: Array.from(memory.peak), calls: memory.calls, entry: memory.entry, gcMatched: gcs?.matched ?? false };
      } else record = { probes: 'markers', calls: markers!.calls };
      return { ...meta, record };
    });
  }
}

const SLOT = Symbol.for('tsprof.cli');

/** Install the registry where instrumented modules look for it. */
export function installRegistry(registry: ProbeRegistry): void {
  (userGlobal as unknown as Record<symbol, ProbeRegistry>)[SLOT] = registry;
}
