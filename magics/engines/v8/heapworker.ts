// The heap worker: a worker thread that parses heap snapshots of the kernel's main thread and
// keeps what the leak magics remember. It lives in its own V8 isolate, so the summaries it keeps
// (per-class totals for %heapsnap, the series and the last graph for %%leaks) are not part of the
// heap being measured: storing them in the kernel's heap would make every later snapshot show
// them as growth. It also parses in parallel with the main thread's next iteration.
import { rmSync } from 'node:fs'; // (this isolate is not measured: rimraf loading here is harmless)
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadData } from '../thread.js';
import { compareTotals, HeapSnapshot, readHeapSnapshot, summarize, type DiffRow, type SnapshotSummary } from './heapsnapshot.js';
import { analyzeLeaks, classRetained, samplingSites, seriesPoint, setPackageDistUrl, type SamplingProfile, type SeriesPoint, type SiteRow } from './heapleaks.js';

export type WorkerRequest =
  | { op: 'config'; packageDistUrl: string }
  | { op: 'leak-begin' }
  | { op: 'leak-file'; index: number; file: string }
  | { op: 'leak-analyze'; id: number; iterations: number; profile?: SamplingProfile; minOrdinal: number; samplingInterval?: number; limit: number; showInternal: boolean; scriptUrls: Array<[number, string]>; fallbackUrl?: string }
  | { op: 'leak-end'; dir?: string }
  | { op: 'snap-take'; id: number; name: string; file: string; profile?: SamplingProfile; samplingInterval?: number; scriptUrls: Array<[number, string]>; currentCell: string }
  | { op: 'snap-diff'; id: number; a: string; b: string; internal: boolean }
  | { op: 'snap-list'; id: number }
  | { op: 'snap-delete'; id: number; name: string };

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** What %heapsnap shows about one snapshot (a summary of the summary). */
export interface SnapInfo {
  name: string;
  time: number;
  nodeCount: number;
  totalSize: number;
  classes: number;
  sites: number;
  parseMs: number;
  top: Array<{ key: string; count: number; size: number }>;
}

export interface SnapDiff {
  a: SnapInfo;
  b: SnapInfo;
  byClass: DiffRow[];
  bySite?: DiffRow[];
  /** Why there is no by-site comparison. */
  siteNote?: string;
}

// -- %%leaks state: one run at a time.
let series: SeriesPoint[] = [];
let firstRetained = new Map<string, number>();
let last: HeapSnapshot | undefined;
let parseMs: number[] = [];
let failure: string | undefined;

// -- %heapsnap state: summaries by name (not whole snapshots: a diff needs only per-class and
// per-site totals, a few hundred KB at most, where the parsed graph is tens of MB).
const snaps = new Map<string, SnapshotSummary & { parseMs: number }>();

function addToSeries(index: number, snap: HeapSnapshot, ms: number): void {
  series[index] = seriesPoint(snap);
  parseMs[index] = ms;
  if (index === 0) firstRetained = classRetained(snap, snap.dominators());
  // Keep only the newest graph: the analysis reads paths from the last snapshot.
  if (!last || index >= series.length - 1) last = snap;
}

function info(s: SnapshotSummary & { parseMs: number }): SnapInfo {
  const top = [...s.byClass.entries()].filter(([, v]) => !v.internal).sort((x, y) => y[1].size - x[1].size).slice(0, 10).map(([key, v]) => ({ key, count: v.count, size: v.size }));
  return { name: s.name, time: s.time, nodeCount: s.nodeCount, totalSize: s.totalSize, classes: s.byClass.size, sites: s.bySite?.size ?? 0, parseMs: s.parseMs, top };
}

function siteTotals(rows: SiteRow[], iterations: number): Map<string, { count: number; size: number }> {
  const m = new Map<string, { count: number; size: number }>();
  for (const r of rows) {
    const key = r.via ? `${r.site} via ${r.via}` : r.site;
    const prev = m.get(key) ?? { count: 0, size: 0 };
    m.set(key, { count: prev.count + r.countPerIteration * iterations, size: prev.size + r.bytesPerIteration * iterations });
  }
  return m;
}

function handle(msg: WorkerRequest): unknown {
  switch (msg.op) {
    case 'config':
      setPackageDistUrl(msg.packageDistUrl);
      return undefined;
    case 'leak-begin':
      series = [];
      firstRetained = new Map();
      last = undefined;
      parseMs = [];
      failure = undefined;
      return undefined;
    case 'leak-file': {
      if (failure) return undefined;
      const t = performance.now();
      try {
        addToSeries(msg.index, readHeapSnapshot(msg.file), performance.now() - t);
      } finally {
        rmSync(msg.file, { force: true });
      }
      return undefined;
    }
    case 'leak-analyze': {
      if (failure) throw new Error(failure);
      if (!last || series.length !== msg.iterations + 1 || series.some((s) => !s)) throw new Error(`heap worker: expected ${msg.iterations + 1} snapshots, have ${series.filter(Boolean).length}`);
      return analyzeLeaks({
        iterations: msg.iterations,
        series,
        firstRetained,
        last,
        profile: msg.profile,
        minOrdinal: msg.minOrdinal,
        samplingInterval: msg.samplingInterval,
        limit: msg.limit,
        showInternal: msg.showInternal,
        parseMs,
        scriptNames: { urls: new Map(msg.scriptUrls), fallback: msg.fallbackUrl },
      });
    }
    case 'leak-end':
      if (msg.dir) rmSync(msg.dir, { recursive: true, force: true });
      series = [];
      last = undefined;
      firstRetained = new Map();
      return undefined;
    case 'snap-take': {
      const t = performance.now();
      let snap: HeapSnapshot;
      try {
        snap = readHeapSnapshot(msg.file);
      } finally {
        rmSync(msg.file, { force: true });
      }
      const summary = summarize(snap, msg.name);
      // Cells run as unnamed scripts: live ones are named by id; any other unnamed script is some cell.
      // The cell running %heapsnap is on the stack: its own allocations (the magic call) are left out.
      const names = { urls: new Map(msg.scriptUrls), fallback: 'cell-?', exclude: msg.currentCell };
      if (msg.profile && msg.samplingInterval) summary.bySite = siteTotals(samplingSites(msg.profile, 0, msg.samplingInterval, 1, names), 1);
      const stored = { ...summary, parseMs: performance.now() - t };
      snaps.set(msg.name, stored);
      return info(stored);
    }
    case 'snap-diff': {
      const a = snaps.get(msg.a);
      const b = snaps.get(msg.b);
      if (!a || !b) throw new Error(`unknown snapshot ${!a ? msg.a : msg.b}`);
      let byClass = compareTotals(b.byClass, a.byClass);
      if (!msg.internal) byClass = byClass.filter((r) => !r.internal);
      const diff: SnapDiff = { a: info(a), b: info(b), byClass };
      if (a.bySite && b.bySite) diff.bySite = compareTotals(b.bySite, a.bySite);
      else diff.siteNote = !a.bySite && !b.bySite ? 'no allocation sampling was active for either snapshot (%heapsnap -t starts it)' : `no allocation sampling was active for ${a.bySite ? msg.b : msg.a}`;
      return diff;
    }
    case 'snap-list':
      return [...snaps.values()].map(info);
    case 'snap-delete':
      return snaps.delete(msg.name);
  }
}

if (parentPort) {
  const port = parentPort;
  // Answers go through the kernel's own channel (see thread.ts).
  const answers = (workerData as ThreadData).port;
  port.on('message', (msg: WorkerRequest) => {
    const id = 'id' in msg ? msg.id : undefined;
    try {
      const result = handle(msg);
      if (id !== undefined) answers.postMessage({ id, ok: true, result } satisfies WorkerReply);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (id !== undefined) answers.postMessage({ id, ok: false, error } satisfies WorkerReply);
      else failure ??= error;
    }
  });
}
