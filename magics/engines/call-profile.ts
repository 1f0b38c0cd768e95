// %prun's measurement, shared by the notebook, the command line and the library: one run of the
// statement with exact call counts (counters compiled into the cells' functions, and on request V8's
// precise coverage for every other script) and sampled times (fine, then coarse), every figure from
// that one run.
import { CallCounters, isCellUrl, MAX_CALLBACKS_ONLY, MAX_NAMED, type CountedFunction } from './call-counts.js';
import { addCallCounts, functionStats, labelOf, type FunctionStats } from './pstats.js';
import { PACKAGE_DIST_URL, unnamed, userProfile, type FunctionId, type UserProfile } from './v8/calltree.js';
import { post, type CpuProfile, type ScriptCoverage } from './v8/inspector.js';
import { joinPhases, withPhasedProfile } from './v8/sampler.js';
import { displayFile, SourceIndex } from './v8/sources.js';
import type { SourceText } from './host.js';

/** The first milliseconds are sampled this often (µs): a 1 ms statement still gets samples. */
export const FINE_INTERVAL_US = 50;
/**
 * How long the fine sampling lasts before the usual interval takes over (ms): up to 60 samples,
 * enough for a 1-3 ms statement. Sampling every 50 µs costs the statement about 15% while it lasts,
 * and stopping the fine profile holds the main thread about 1.5 ms, so it is kept short.
 */
export const FINE_PHASE_MS = 3;

export interface CallProfileOptions {
  /** Sampling interval after the fine phase (µs). */
  intervalUs: number;
  /** One interval throughout (the user gave -i): no fine phase. */
  fixedInterval: boolean;
  /** Count the calls of the cells' functions (counters compiled in for the run). */
  countCells: boolean;
  /** Also count every other script's functions with V8's precise coverage (about 2x slower). */
  coverage: boolean;
  /** Names the statement mentions: the cells that define them are recompiled with counters first (see CallCounters.arm). */
  mentioned?: ReadonlySet<string>;
  /** Counts the statement's own functions carry (see countStatement), read after the run, with the line starts of its script. */
  statementCounts?: () => { counted: CountedFunction[]; url: string; lineStarts: number[] } | undefined;
}

export interface CallProfile<T = unknown> {
  value: T;
  /** The statement's wall time, seconds. */
  wall: number;
  /** The joined CPU profile of the run (all phases). */
  profile: CpuProfile;
  tree: UserProfile;
  stats: Map<string, FunctionStats>;
  /** Sampling intervals used, in order (µs). */
  intervals: number[];
  /** Whether every row has an exact count (cells counted, and coverage for the rest). */
  countedUrls: Set<string>;
  coverageUsed: boolean;
  notes: string[];
}

/** Join the counters to the sampled rows (by position in the script that ran), adding rows for functions that ran unsampled. */
export function addCounterCounts(stats: Map<string, FunctionStats>, counted: CountedFunction[], lineStarts: (url: string) => number[] | undefined): void {
  const byUrl = new Map<string, CountedFunction[]>();
  for (const c of counted) byUrl.set(c.url, [...(byUrl.get(c.url) ?? []), c]);
  const claimed = new Set<CountedFunction>();
  for (const r of stats.values()) {
    const fns = byUrl.get(r.fn.url);
    const starts = lineStarts(r.fn.url);
    if (!fns || !starts) continue;
    const off = (starts[r.fn.line] ?? 0) + r.fn.column;
    const name = r.fn.name.startsWith('<') ? '' : r.fn.name;
    let best: CountedFunction | undefined;
    for (const f of fns) {
      if (f.start > off || off >= f.end) continue;
      const named = f.name === name;
      const bestNamed = best?.name === name;
      if (!best || (named && !bestNamed) || (named === bestNamed && f.end - f.start < best.end - best.start)) best = f;
    }
    // The session may move columns on a line (a guarded await): then the same line and name.
    best ??= name ? fns.find((f) => f.line === r.fn.line && f.name === name && !claimed.has(f)) : undefined;
    if (!best) continue;
    r.ncalls = best.calls;
    r.pcalls = best.calls - best.selfCalls;
    claimed.add(best);
  }
  for (const f of counted) {
    if (claimed.has(f)) continue;
    const starts = lineStarts(f.url);
    const column = starts ? f.start - (starts[f.line] ?? 0) : 0;
    const fnId: FunctionId = { key: `${f.url}:${f.line}:${column}:${f.name}`, name: f.name || '<anonymous>', url: f.url, line: f.line, column, scriptId: '' };
    stats.set(fnId.key, { fn: fnId, label: labelOf(fnId), file: displayFile(f.url), line: f.line + 1, ncalls: f.calls, pcalls: f.calls - f.selfCalls, tottime: 0, cumtime: 0, samples: 0 });
  }
}

/** Run the statement once with counters and sampling; every figure comes from this run. */
export async function profileCalls<T>(run: () => Promise<T>, sources: ReadonlyMap<string, SourceText>, opts: CallProfileOptions): Promise<CallProfile<T>> {
  const counters = new CallCounters();
  const notes: string[] = [];
  let result: Awaited<ReturnType<typeof withPhasedProfile<T>>>;
  let counted: CountedFunction[] = [];
  let coverage: ScriptCoverage[] | undefined;
  try {
    if (opts.countCells) await counters.arm(isCellUrl, sources.keys(), opts.mentioned);
    if (opts.coverage) {
      await post('Profiler.enable');
      await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
      await post('Profiler.takePreciseCoverage');
    }
    counters.reset();
    try {
      result = await withPhasedProfile(opts.fixedInterval ? opts.intervalUs : FINE_INTERVAL_US, opts.intervalUs, opts.fixedInterval ? 0 : FINE_PHASE_MS, run);
    } finally {
      counted = counters.read();
      if (opts.coverage) {
        coverage = (await post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage')).result;
        await post('Profiler.stopPreciseCoverage');
      }
    }
  } finally {
    await counters.disarm();
  }
  for (const s of counters.skipped) notes.push(`calls in ${s.url} not counted: ${s.reason}`);
  if (counters.unarmed.length) notes.push(`calls in ${counters.unarmed.length} older cell${counters.unarmed.length === 1 ? '' : 's'} not counted (${counters.unarmed.slice(0, 5).join(', ')}${counters.unarmed.length > 5 ? ', …' : ''}): %prun recompiles the ${MAX_NAMED} newest cells that define functions by name and the ${MAX_CALLBACKS_ONLY} newest whose functions are only callbacks; -c counts every function`);
  const profile = joinPhases(result.phases);
  const intervals = result.phases.map((p) => p.intervalUs);
  const tree = userProfile(profile, intervals[intervals.length - 1], { window: { startUs: result.startUs, endUs: result.endUs } });
  const stats = functionStats(tree);
  // Offsets of the counted functions are in the instrumented scripts; lines are the same, columns
  // shift on a line with a counter before them. The sampled frames were reported in the same
  // instrumented scripts, so their columns match the counters'.
  const own = opts.statementCounts?.();
  const instrumentedStarts = (url: string): number[] | undefined => (own && url === own.url ? own.lineStarts : counters.lineStartsOf(url));
  addCounterCounts(stats, own ? [...counted, ...own.counted] : counted, instrumentedStarts);
  const countedUrls = counters.countedUrls;
  if (own) countedUrls.add(own.url);
  if (coverage) {
    addCallCounts(stats, coverage.filter((s) => !countedUrls.has(s.url)), new SourceIndex(sources), PACKAGE_DIST_URL);
    for (const s of coverage) countedUrls.add(s.url);
  }
  return { value: result.value, wall: (result.endUs - result.startUs) / 1e6, profile, tree, stats, intervals, countedUrls, coverageUsed: Boolean(coverage), notes };
}

/** pstats' header: `N function calls (M primitive calls) in T seconds`, or the sampling summary when nothing was counted. */
export function callHeader(rows: Iterable<FunctionStats>, wall: number, counted: boolean, tree: UserProfile, intervals: number[]): string {
  if (!counted) return `${tree.sampleCount} samples every ${intervals.join(' then ')} µs (${(tree.sampled / 1e3).toFixed(1)} ms sampled) in ${wall.toFixed(3)} seconds`;
  let calls = 0;
  let primitive = 0;
  for (const r of rows) {
    calls += r.ncalls ?? 0;
    primitive += r.pcalls ?? r.ncalls ?? 0;
  }
  return `${calls} function calls${primitive !== calls ? ` (${primitive} primitive calls)` : ''} in ${wall.toFixed(3)} seconds`;
}

/** What the times rest on, in one line: samples, intervals, the share of the wall time they cover. */
export function samplingNote(tree: UserProfile, intervals: number[], wall: number, fixed: boolean): string {
  const how = intervals.length < 2 || fixed ? `every ${intervals[0]} µs` : wall * 1e3 <= FINE_PHASE_MS ? `every ${intervals[0]} µs: the statement ended within the first ${FINE_PHASE_MS} ms` : `every ${intervals[0]} µs for the first ${FINE_PHASE_MS} ms, then every ${intervals[1]} µs`;
  const share = wall > 0 ? Math.min(100, (tree.sampled / 1e6 / wall) * 100) : 0;
  return `Times from ${tree.sampleCount} sample${tree.sampleCount === 1 ? '' : 's'} (${how}), covering ${(tree.sampled / 1e3).toFixed(2)} ms of ${(wall * 1e3).toFixed(2)} ms (${share.toFixed(0)}%)`;
}

/** %prun's result: the rows, the user's part of the profile, the text as printed. */
export class ProfileResult {
  constructor(
    readonly rows: FunctionStats[],
    /** The user's part of the profile, DevTools format. */
    readonly cpuprofile: CpuProfile,
    readonly text: string,
    readonly wall: number,
    readonly sampleCount: number,
    readonly intervalUs: number,
    readonly exactCounts: boolean,
    /** pstats' header line, as printed. */
    readonly header = '',
    /** The lines under the table: what the times rest on, what was not counted. */
    readonly notes: string[] = [],
    /** Sampling intervals in order (µs): fine, then coarse. */
    readonly intervals: number[] = [intervalUs],
  ) {}

  /** Total calls and primitive calls, as in the header. */
  get calls(): { total: number; primitive: number } {
    let total = 0;
    let primitive = 0;
    for (const r of this.rows) {
      total += r.ncalls ?? 0;
      primitive += r.pcalls ?? r.ncalls ?? 0;
    }
    return { total, primitive };
  }

  /** Row of the first function with this name. */
  get(name: string): FunctionStats | undefined {
    return this.rows.find((r) => r.fn.name === name);
  }

  toString(): string {
    return this.text;
  }
}
