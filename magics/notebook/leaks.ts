// %%leaks: run a cell N times and report what grows on every run, the way one finds a leak in
// DevTools by comparing snapshots, but in one step: per class (constructor, closure, string…)
// the count and bytes added per run, the retained bytes, the path from a GC root that keeps a new
// instance alive, what a closure captures, and the functions that allocated the survivors.
//
// How: one warm-up run (lazy initialisation is not a leak; it also estimates how much the cell
// allocates, to choose the sampling interval), a baseline snapshot, then N runs each followed by
// a full GC and a snapshot. A class "grows" when its instance count, or its total self size,
// increases strictly at every one of the N steps. Snapshots are written to files and parsed by
// the heap worker (its own isolate, in parallel with the next run), so nothing this magic keeps
// is in the heap it measures. Allocation sites: V8's sampling heap profiler runs through all N
// runs keeping only samples whose objects survive (the per-function table); the last run is also
// run under the allocation tracker, which gives every object it allocated an exact stack in the
// last snapshot (the per-class "allocated at"). Tracking costs ~100× per allocation, so it is
// skipped when the warm-up says the cell allocates a lot (or with -s).
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intOption, parseOptions } from './argv.js';
import { escapeHtml, thousands } from '../render/format.js';
import { htmlNotes, htmlTable } from '../render/html.js';
import type { LeakReport, LeakRow, SamplingProfile, SiteRow } from '../engines/v8/heapleaks.js';
import {
  collectGarbage, heapWorker, maxOrdinal, prepareScripts, prepareTracking, profileBytes, samplingProfile, samplingState, scriptUrlPairs, startSampling, startTracking, stopSampling, stopTracking, writeSnapshot,
} from '../engines/v8/heapcapture.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';
import { KeyboardInterrupt } from '../../kernel/session/evaluator.js';

const DEFAULT_RUNS = 5;
/** Above this much allocation per run (warm-up estimate), the last run is not tracked. */
const TRACK_LIMIT = 8 * 1024 * 1024;
/** The sampling interval is chosen so that all runs give about this many samples. */
const TARGET_SAMPLES = 8192;

const OPTIONS: OptionSpec[] = [
  { name: 'n', value: true, metavar: 'N', help: `run the cell N times after one warm-up run, with a heap snapshot after each (default ${DEFAULT_RUNS}, at least 2)` },
  { name: 'a', help: 'also show V8-internal classes that grew (compiled code, hidden classes, internal arrays, closure scopes)' },
  { name: 'l', value: true, metavar: 'LIMIT', help: 'show at most LIMIT classes (default 20)' },
  { name: 's', help: 'do not track allocations in the last run (faster for allocation-heavy cells; per-class sites are then missing, the sampled per-function table remains)' },
  { name: 'i', value: true, metavar: 'BYTES', help: 'sampling interval of the allocation sampler in bytes (default: chosen from the warm-up so the runs give ~8,000 samples; 128 at least)' },
  { name: 'o', help: 'return a LeakResult (rows with counts and sizes per snapshot, sites, timings)' },
  { name: 'q', help: 'quiet: show nothing (use with -o)' },
];

export function formatBytes(n: number, sign = false): string {
  const s = sign && n > 0 ? '+' : n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a < 1024) return `${s}${Math.round(a)} B`;
  if (a < 1024 * 1024) return `${s}${(a / 1024).toFixed(1)} KiB`;
  if (a < 1024 ** 3) return `${s}${(a / 1024 ** 2).toFixed(1)} MiB`;
  return `${s}${(a / 1024 ** 3).toFixed(2)} GiB`;
}

function signed(n: number): string {
  const r = Math.round(n * 10) / 10;
  const s = Number.isInteger(r) ? thousands(Math.abs(r)) : Math.abs(r).toFixed(1);
  return `${r > 0 ? '+' : r < 0 ? '-' : ''}${s}`;
}

export interface LeakTimings {
  /** Milliseconds per snapshot on the main thread (GC + snapshot), baseline first. */
  snapshotMs: number[];
  /** Milliseconds per snapshot in the worker (parse + summary). */
  parseMs: number[];
  analyzeMs: number;
  warmupMs: number;
  runsMs: number;
  totalMs: number;
}

export class LeakResult {
  constructor(
    readonly iterations: number,
    readonly rows: LeakRow[],
    readonly sites: SiteRow[],
    readonly hiddenInternal: number,
    readonly samplingInterval: number | undefined,
    readonly tracked: boolean,
    readonly notes: string[],
    readonly timings: LeakTimings,
    readonly text: string,
  ) {}

  /** The row of a class, e.g. `Entry`, `handler (closure)`. */
  get(cls: string): LeakRow | undefined {
    return this.rows.find((r) => r.cls === cls);
  }

  get leaks(): boolean {
    return this.rows.length > 0;
  }

  toString(): string {
    return this.text;
  }
}

function allocatedAt(r: LeakRow): string {
  if (!r.allocatedAt.length) return '—';
  return r.allocatedAt.slice(0, 2).map((s) => `${s.site}${s.via ? ` via ${s.via}` : ''}${r.allocatedAt.length > 1 ? ` ${Math.round(s.share * 100)}%` : ''}`).join('; ');
}

function pathCell(r: LeakRow): string {
  const notes: string[] = [];
  if (r.captures?.length) notes.push(`captures ${r.captures.slice(0, 3).map((c) => `${c.name}: ${c.cls} ${formatBytes(c.size)}`).join(', ')}`);
  if (r.definedAt && r.cls === '(anonymous closure)') notes.push(`defined at ${r.definedAt}`);
  const caps = notes.length ? ` [${notes.join('; ')}]` : '';
  const share = r.pathShare !== undefined && r.pathShare < 0.9 ? ` (${Math.round(r.pathShare * 100)}% of new ones)` : '';
  return `${r.path}${caps}${share}`;
}

function timingLine(t: LeakTimings): string {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return `${t.snapshotMs.length} snapshots, ${(mean(t.snapshotMs) / 1e3).toFixed(2)} s each (parsed in ${(mean(t.parseMs) / 1e3).toFixed(2)} s on the heap worker); total ${(t.totalMs / 1e3).toFixed(1)} s`;
}

function textReport(rep: LeakReport, t: LeakTimings): string {
  const lines: string[] = [];
  const N = rep.iterations;
  if (!rep.rows.length) {
    lines.push(`%%leaks: no growth found in ${N} runs (after a warm-up run; heap ${thousands(rep.baseline.nodeCount)} objects, ${formatBytes(rep.baseline.totalSize)}).`);
    if (rep.hiddenInternal) lines.push(`(${rep.hiddenInternal} V8-internal ${rep.hiddenInternal === 1 ? 'class' : 'classes'} grew; -a shows them)`);
  } else {
    lines.push(`%%leaks: ${rep.rows.length} ${rep.rows.length === 1 ? 'class grows' : 'classes grow'} on every one of ${N} runs (per run, after a warm-up run):`);
    const head = ['class', 'count/run', 'bytes/run', 'retained/run', 'retainer path', 'allocated at'];
    const body = rep.rows.map((r) => [r.cls, signed(r.countPerIteration), formatBytes(r.bytesPerIteration, true), formatBytes(r.retainedPerIteration, true), pathCell(r), allocatedAt(r)]);
    const widths = head.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
    const fmt = (cells: string[]): string => cells.map((c, k) => (k >= 1 && k <= 3 ? c.padStart(widths[k]) : k === cells.length - 1 ? c : c.padEnd(widths[k]))).join('  ').trimEnd();
    lines.push(fmt(head), ...body.map(fmt));
    if (rep.hiddenInternal) lines.push(`(${rep.hiddenInternal} V8-internal ${rep.hiddenInternal === 1 ? 'class' : 'classes'} also grew; -a shows them)`);
  }
  if (rep.sites.length && (rep.rows.length || rep.showSites)) {
    lines.push('', `Surviving allocations by function (sampled every ${thousands(rep.samplingInterval ?? 0)} bytes; estimates per run):`);
    for (const s of rep.sites.slice(0, 10)) lines.push(`  ${formatBytes(s.bytesPerIteration, true).padStart(11)}  ~${signed(s.countPerIteration).replace('+', '').padStart(7)} objects  ${s.site}${s.via ? ` via ${s.via}` : ''}`);
  }
  for (const n of rep.notes) lines.push(`note: ${n}`);
  lines.push(timingLine(t));
  return lines.join('\n');
}

function htmlReport(rep: LeakReport, t: LeakTimings): string {
  const N = rep.iterations;
  const parts: string[] = [];
  if (!rep.rows.length) {
    parts.push(`<p><b>no growth found</b> in ${N} runs (after a warm-up run)</p>`);
  } else {
    parts.push(htmlTable(rep.rows, [
      { header: 'constructor', cell: (r) => `<code>${escapeHtml(r.cls)}</code>`, align: 'left', html: true },
      { header: 'count/run', cell: (r) => signed(r.countPerIteration) },
      { header: 'bytes/run', cell: (r) => formatBytes(r.bytesPerIteration, true) },
      { header: 'retained/run', cell: (r) => formatBytes(r.retainedPerIteration, true) },
      { header: 'retainer path', cell: (r) => `<code>${escapeHtml(pathCell(r))}</code>`, align: 'left', html: true },
      { header: 'allocated at', cell: (r) => `<code>${escapeHtml(allocatedAt(r))}</code>`, align: 'left', html: true },
    ], { caption: `grows on every one of ${N} runs (per run)` }));
  }
  if (rep.sites.length && (rep.rows.length || rep.showSites)) {
    parts.push(htmlTable(rep.sites.slice(0, 10), [
      { header: 'bytes/run', cell: (s) => formatBytes(s.bytesPerIteration, true) },
      { header: 'objects/run', cell: (s) => `~${signed(s.countPerIteration).replace('+', '')}` },
      { header: 'function', cell: (s) => `<code>${escapeHtml(s.site + (s.via ? ` via ${s.via}` : ''))}</code>`, align: 'left', html: true },
    ], { caption: `surviving allocations by function (sampled every ${thousands(rep.samplingInterval ?? 0)} bytes)` }));
  }
  const notes = [...rep.notes];
  if (rep.hiddenInternal) notes.push(`${rep.hiddenInternal} V8-internal classes also grew; -a shows them`);
  parts.push(htmlNotes(notes));
  parts.push(`<p style="color:#777;margin:2px 0">${escapeHtml(timingLine(t))}</p>`);
  return `<div class="tsprof-leaks">${parts.join('')}</div>`;
}

/**
 * Let the event loop turn twice before a snapshot: handles closed during the run (a cell's
 * sockets, timers, the SIGINT watchdog each evaluation installs) are released in the loop's close
 * phase, and would otherwise look like growth until the loop next runs.
 */
async function settle(): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
}

function pow2ceil(x: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, x)));
}

/** The warm-up run under a coarse sampler that counts dead objects too: bytes the cell allocates. */
async function warmUp(run: () => Promise<void>): Promise<number> {
  await startSampling(8192, { includeCollected: true });
  try {
    await run();
    return profileBytes(await samplingProfile());
  } finally {
    await stopSampling();
  }
}

/**
 * The newest sample's ordinal. Its own frame, so that the profile object (thousands of JS
 * objects) is not left in a register of the caller's frame, alive in the next snapshot.
 */
async function lastOrdinal(): Promise<number> {
  return maxOrdinal(await samplingProfile());
}

async function findLeaks(ctx: MagicContext, cell: () => Promise<unknown>, N: number, opts: { interval?: number; noTrack: boolean; limit: number; all: boolean }): Promise<{ report: LeakReport; timings: LeakTimings }> {
  const t0 = performance.now();
  // The cell's value is dropped inside this helper: a value left in a register of this frame
  // would be alive in the next snapshot.
  const run = async (): Promise<void> => {
    await cell();
  };
  const worker = heapWorker();
  await worker.ready();
  // Warm-up run, measuring how much the cell allocates (live or not) when we own the sampler.
  const shared = samplingState();
  const tw = performance.now();
  const estimate = shared ? (await run(), undefined) : await warmUp(run);
  await settle();
  const warmupMs = performance.now() - tw;
  const interval = shared ? shared.interval : opts.interval ?? Math.min(65536, Math.max(128, pow2ceil(((estimate ?? 0) * N) / TARGET_SAMPLES)));
  const track = !opts.noTrack && (estimate === undefined || estimate <= TRACK_LIMIT);
  const scripts = await prepareScripts();
  // Every string and array this loop needs exists before the baseline snapshot.
  const dir = mkdtempSync(join(tmpdir(), 'tsprof-leaks-'));
  const files = Array.from({ length: N + 1 }, (_, i) => join(dir, `${i}.heapsnapshot`));
  const snapshotMs = new Array<number>(N + 1).fill(0);
  let tracking = false;
  let ownSampler = false;
  let minOrdinal = 0;
  let runsMs = 0;
  let profile: SamplingProfile | undefined;
  try {
    try {
      worker.send({ op: 'leak-begin' });
      // What the loop needs exists before the baseline too: the sampler's state, the tracker's
      // session. (Samples taken before the runs are the kernel's own and are not counted.)
      if (shared) minOrdinal = await lastOrdinal();
      else {
        await startSampling(interval);
        ownSampler = true;
      }
      if (track) prepareTracking();
      snapshotMs[0] = writeSnapshot(files[0]);
      worker.send({ op: 'leak-file', index: 0, file: files[0] });
      for (let i = 1; i <= N; i++) {
        if (ctx.interrupted) throw new KeyboardInterrupt('interrupted');
        const lastRun = i === N;
        if (lastRun && track) {
          await startTracking();
          tracking = true;
        }
        const tr = performance.now();
        await run();
        runsMs += performance.now() - tr;
        // Not for the tracked run: while the tracker runs, the inspector refreshes V8's object-id
        // map every 50 ms from the event loop, and an object in that map that a GC then moves loses
        // its allocation stack (V8 updates one or the other). Snapshot right away instead; handles the
        // run closed are released after it, which only adds to the last step, never a false growth.
        if (!tracking) await settle();
        // Every snapshot is taken the same way, from here: the tracked one (which records the
        // allocation stack of each object the last run allocated) included.
        snapshotMs[i] = writeSnapshot(files[i]);
        if (tracking) {
          tracking = false;
          stopTracking();
        }
        worker.send({ op: 'leak-file', index: i, file: files[i] });
      }
      collectGarbage();
      profile = await samplingProfile();
    } finally {
      stopTracking();
      if (ownSampler) await stopSampling().catch(() => undefined);
    }
    const report = await worker.request<LeakReport>({
      op: 'leak-analyze', iterations: N, profile, minOrdinal, samplingInterval: interval, limit: opts.limit, showInternal: opts.all,
      scriptUrls: scriptUrlPairs(scripts),
      fallbackUrl: `cell-${ctx.cell.cell}`,
    });
    if (!track) {
      report.notes.unshift(opts.noTrack ? 'the last run was not tracked (-s): per-class sites are missing' : `the last run was not tracked: the warm-up allocated ~${formatBytes(estimate ?? 0)} (tracking costs ~100× per allocation above ${formatBytes(TRACK_LIMIT)}); the sampled table still shows sites`);
      report.notes = report.notes.filter((n) => !n.startsWith('allocation sites per class need'));
    }
    const totalMs = performance.now() - t0;
    return { report, timings: { snapshotMs, parseMs: report.timings.parseMs, analyzeMs: report.timings.analyzeMs, warmupMs, runsMs, totalMs } };
  } finally {
    // The worker deletes each file once parsed. After a failure some may still be queued there:
    // then the worker removes the directory after its queue.
    let removed = false;
    try {
      rmdirSync(dir);
      removed = true;
    } catch {
      // not empty yet
    }
    worker.send({ op: 'leak-end', dir: removed ? undefined : dir });
  }
}

export const leaks: Magic = {
  name: 'leaks',
  kinds: ['cell'],
  summary: 'Run the cell N times and report what grows on every run: classes, per-run growth, the retainer path that keeps them, and where they were allocated.',
  usage: '%%leaks [-n N] [-a] [-l LIMIT] [-s] [-i BYTES] [-o] [-q]\nbody',
  options: OPTIONS,
  details: `After one warm-up run (so lazy initialisation is not reported), the cell runs N times with a full
GC and a heap snapshot after each. A class is reported when its instance count (or its total size)
increases at every run; count/run and bytes/run are the median growth per run, retained/run the
growth of what its instances keep alive (last snapshot minus baseline, per run). The retainer path leads from a GC root (the global object
first; weak references skipped) to one new instance, e.g. cache (Map) → table → Entry; a closure
shows what its scope captures. "allocated at" is exact for the last run (allocation tracking) and
names the innermost frame in your code, cell-N:LINE(function) (LINE: where the function starts);
the second table is V8's sampling heap profiler over all runs, objects that survived only
(estimates). Clean code reports "no growth found". Rows come from comparing class totals, so a
class the kernel also uses (Object, Array, string) can be off by one in a run; the median absorbs it.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'leaks');
    if (rest) throw new UsageError(`%%leaks: unexpected text after the options: ${JSON.stringify(rest)} (the cell body is what runs)`);
    const body = call.body ?? '';
    if (!body.trim()) throw new UsageError(`%%leaks: the cell is empty; put the code to run N times below the magic line\nusage: ${leaks.usage.split('\n')[0]}`);
    const N = intOption(opts, 'n', 'leaks', 2) ?? DEFAULT_RUNS;
    const limit = intOption(opts, 'l', 'leaks', 1) ?? 20;
    const interval = intOption(opts, 'i', 'leaks', 128);
    const run = ctx.prepareCode(body, call.line + 1);
    const { report, timings } = await findLeaks(ctx, run, N, { interval, noTrack: Boolean(opts.s), limit, all: Boolean(opts.a) });
    const text = textReport(report, timings);
    if (!opts.q) ctx.display.bundle({ 'text/plain': text, 'text/html': htmlReport(report, timings) });
    if (!opts.o) return undefined;
    const result = new LeakResult(N, report.rows, report.sites, report.hiddenInternal, report.samplingInterval, report.tracked, report.notes, timings, text);
    displaysAs(result, () => text);
    return result;
  },
};
