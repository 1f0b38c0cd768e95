// The %%leaks engine: run code N times and report what grows on every run, the way one finds a leak in
// DevTools by comparing snapshots, but in one step: per class (constructor, closure, string…)
// the count and bytes added per run, the retained bytes, the path from a GC root that keeps a new
// instance alive, what a closure captures, and the functions that allocated the survivors.
//
// How: one warm-up run (lazy initialisation is not a leak; it also estimates how much the cell
// allocates, to choose the sampling interval), a baseline snapshot, then N runs each followed by
// a full GC and a snapshot. A class "grows" when its instance count, or its total self size,
// increases strictly at every one of the N steps. Snapshots are written to files and parsed by
// the heap worker (its own isolate, in parallel with the next run), so nothing this engine keeps
// is in the heap it measures. Allocation sites: V8's sampling heap profiler runs through all N
// runs keeping only samples whose objects survive (the per-function table); the last run is also
// run under the allocation tracker, which gives every object it allocated an exact stack in the
// last snapshot (the per-class "allocated at"). Tracking costs ~100× per allocation, so it is
// skipped when the warm-up says the cell allocates a lot (or with -s).
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeakReport, LeakRow, SamplingProfile, SiteRow } from './v8/heapleaks.js';
import {
  heapWorker, maxOrdinal, prepareScripts, prepareTracking, profileBytes, samplingProfile, samplingState, scriptUrlPairs, startSampling, startTracking, stopSampling, stopTracking, writeSnapshot,
} from './v8/heapcapture.js';
import { collectGarbage } from './v8/memory.js';
import { EngineUsageError, MeasurementInterrupted } from './host.js';
import { formatBytes, leaksText } from '../render/heap.js';

export const DEFAULT_RUNS = 5;
/** Above this much allocation per run (warm-up estimate), the last run is not tracked. */
const TRACK_LIMIT = 8 * 1024 * 1024;
/** The sampling interval is chosen so that all runs give about this many samples. */
const TARGET_SAMPLES = 8192;

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
    /** The analysis as the heap worker returned it (what the renderers read). */
    readonly report: LeakReport,
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

export interface LeakOptions {
  /** Runs after the warm-up run, a snapshot after each (default 5, at least 2). */
  iterations?: number;
  /** Allocation sampler interval in bytes (default: chosen from the warm-up, ~8,000 samples in all). */
  interval?: number;
  /** Do not track allocations in the last run (per-class sites are then missing). */
  noTrack?: boolean;
  /** At most this many classes (default 20). */
  limit?: number;
  /** Include V8-internal classes. */
  all?: boolean;
  /** Stop between runs when this says so (an interrupt). */
  interrupted?: () => boolean;
  /** The script named for allocations V8 cannot place (the running cell, in the notebook). */
  fallbackUrl?: string;
}

/**
 * Run `cell` once to warm up, then N times with a GC and a heap snapshot after each, and report the
 * classes that grew at every run (engines/v8/heapleaks.ts analyses them in the heap worker).
 */
export async function findLeaks(cell: () => unknown, options: LeakOptions = {}): Promise<LeakResult> {
  const N = options.iterations ?? DEFAULT_RUNS;
  if (!Number.isInteger(N) || N < 2) throw new EngineUsageError(`leaks: iterations must be an integer ≥ 2, got ${N}`);
  const opts = { interval: options.interval, noTrack: Boolean(options.noTrack), limit: options.limit ?? 20, all: Boolean(options.all) };
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
        if (options.interrupted?.()) throw new MeasurementInterrupted();
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
      fallbackUrl: options.fallbackUrl ?? '',
    });
    if (!track) {
      report.notes.unshift(opts.noTrack ? 'the last run was not tracked (-s): per-class sites are missing' : `the last run was not tracked: the warm-up allocated ~${formatBytes(estimate ?? 0)} (tracking costs ~100× per allocation above ${formatBytes(TRACK_LIMIT)}); the sampled table still shows sites`);
      report.notes = report.notes.filter((n) => !n.startsWith('allocation sites per class need'));
    }
    const timings: LeakTimings = { snapshotMs, parseMs: report.timings.parseMs, analyzeMs: report.timings.analyzeMs, warmupMs, runsMs, totalMs: performance.now() - t0 };
    return new LeakResult(N, report.rows, report.sites, report.hiddenInternal, report.samplingInterval, report.tracked, report.notes, timings, leaksText(report, timings), report);
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

