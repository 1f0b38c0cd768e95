// The command line's adapters onto the measuring engines: each function here is the one place a
// CLI command calls an engine (magics/engines/) or a renderer (magics/render/); the commands
// themselves never do.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EngineHost } from '../engines/host.js';
import { addCallCounts, functionStats, limitRows, pstatsText, sortRows, type FunctionStats } from '../engines/pstats.js';
import { PACKAGE_DIST_URL, toCpuProfile, userProfile, type UserProfile } from '../engines/v8/calltree.js';
import type { CallFrame, CpuProfile, ScriptCoverage } from '../engines/v8/inspector.js';
import { SourceIndex } from '../engines/v8/sources.js';
import { timeStatement as timeWithEngine, type Clock, type TimeitResult } from '../engines/timing.js';
import { warningText } from '../render/timing.js';
import { lineStarts } from '../engines/v8/lines.js';
import type { Target } from '../engines/targets.js';
import { countedHits, lineTimes, sampledLines, timedLines, TIMER_UNIT, type FunctionLines } from '../engines/line-profile.js';
import { lprunText, unsampledNote } from '../render/line-table.js';
import { memoryLines, type MemFunction } from '../engines/memory-lines.js';
import { formatText, GC_UNMATCHED } from '../render/memory-lines.js';
import type { Capture } from './runner/config.js';
import type { CountedMeta } from './runner/transform.js';
import { addCounterCounts, callHeader } from '../engines/call-profile.js';
import type { CountedFunction } from '../engines/call-counts.js';
import type { ProbedFunction } from './runner/inplace.js';

export interface TimingPlan {
  loops: number;
  repeat: number;
  clock: Clock;
  precision: number;
}

/** %timeit's measurement: compile into the loop, autorange, R runs; plus the warnings %timeit prints. */
export async function timeStatement(host: EngineHost, stmt: string, setup: string, plan: TimingPlan, onRun?: (done: number, total: number, loops: number) => void): Promise<{ result: TimeitResult; notes: string[] }> {
  const result = await timeWithEngine(host, stmt, { setup, loops: plan.loops, repeat: plan.repeat, clock: plan.clock, precision: plan.precision, onRun });
  return { result, notes: result.warnings.map((w) => warningText(w, plan.precision)) };
}

// ---- prun ------------------------------------------------------------------------------------


/** A script's own frames: files, not tsprof's (the runner), not Node's internals (`node:…`). */
export const isScriptFrame = (f: CallFrame): boolean => f.url.startsWith('file:') && !f.url.startsWith(PACKAGE_DIST_URL);

/** The runner's exit and signal listeners writing the profile: its time, not the script's. */
const PRELOAD_URL = new URL('./runner/preload.js', import.meta.url).href;
const SCRIPT_STACKS = { isStart: isScriptFrame, exclude: (f: CallFrame): boolean => f.url === PRELOAD_URL };

/** pstats' sort keys and restrictions, checked before a script runs; line_profiler's timer unit. */
export { limitRows, sortRows, TIMER_UNIT };

/** The counters' readings joined to the functions the loader counted (offsets in the JavaScript V8 ran). */
export function countedFunctions(calls: Capture['calls'], meta: ReadonlyMap<string, CountedMeta[]>): CountedFunction[] {
  return (calls ?? []).flatMap(({ url, calls: c, self }) => (meta.get(url) ?? []).filter((f) => (c[f.slot] ?? 0) > 0).map((f) => ({ ...f, url, calls: c[f.slot], selfCalls: Math.min(c[f.slot], self[f.slot] ?? 0) })));
}

/** The script's stacks of a CPU profile from the runner. */
export function scriptTree(profile: CpuProfile, intervalUs: number): UserProfile {
  return userProfile(profile, intervalUs, SCRIPT_STACKS);
}

export interface CallProfile {
  /** Every function, sorted; `rows` after the -l restrictions. */
  sorted: FunctionStats[];
  rows: FunctionStats[];
  header: string;
  orderedBy: string;
  text: string;
  tree: UserProfile;
  /** The script's part of the CPU profile, DevTools format. */
  cpuprofile: CpuProfile;
  exactCounts: boolean;
  /** Seconds the run took. */
  wallSeconds: number;
}

/** Source text of the scripts the profile names: what the loader gave V8, else the file on disk. */
export function sourceIndex(sources: ReadonlyMap<string, string>): SourceIndex {
  return new SourceIndex(new Map([...sources].map(([url, js]) => [url, { ts: js, js }])));
}

/**
 * %prun's table from a script's run: the sampled call tree, with exact calls from %prun's counters
 * (compiled in by the loader: calls and primitive calls) and V8's coverage for the rest, joined and
 * rendered by the same pstats and call-profile functions as %prun.
 */
export function callProfile(profile: CpuProfile, intervalUs: number, wall: number, coverage: ScriptCoverage[] | undefined, sources: ReadonlyMap<string, string>, sortKeys: string[], limits: string[], counted: CountedFunction[] = [], countedFiles: Iterable<string> = []): CallProfile {
  const tree = userProfile(profile, intervalUs, SCRIPT_STACKS);
  const stats = functionStats(tree);
  if (coverage) addCallCounts(stats, coverage, sourceIndex(sources), PACKAGE_DIST_URL);
  // %prun's counters (calls, and self calls for cProfile's `total/primitive`) where the loader compiled them in.
  const starts = new Map<string, number[]>();
  addCounterCounts(stats, counted, (url) => {
    if (!starts.has(url) && sources.has(url)) starts.set(url, lineStarts(sources.get(url)!));
    return starts.get(url);
  });
  // A counted file's top level ran once, as cProfile's `<module>` (coverage, when on, counted it already).
  const countedUrls = new Set([...countedFiles, ...counted.map((f) => f.url)]);
  for (const r of stats.values()) if (countedUrls.has(r.fn.url) && r.fn.line === 0 && r.fn.column === 0 && r.ncalls === undefined) r.ncalls = 1;
  const all = [...stats.values()];
  const { rows: sorted, orderedBy } = sortRows(all, sortKeys);
  const rows = limitRows(sorted, limits);
  const exactCounts = coverage !== undefined || countedUrls.size > 0;
  const header = callHeader(all, wall, exactCounts, tree, [intervalUs]);
  const restricted = rows.length < sorted.length ? `List reduced from ${sorted.length} to ${rows.length} due to restriction <${limits.map((l) => JSON.stringify(l)).join(', ')}>` : undefined;
  return { sorted, rows, header, orderedBy, text: pstatsText(rows, header, orderedBy, restricted), tree, cpuprofile: toCpuProfile(tree, profile), exactCounts, wallSeconds: wall };
}

// ---- lprun / mprun -------------------------------------------------------------------------------

/**
 * A function the runner instrumented, as the line engines take it: a function from a file (its
 * script found in the profile by URL). Only positions and names are read; `original` is never called.
 */
function asTarget(f: ProbedFunction, profile: CpuProfile | undefined, js: string): Target {
  const scriptId = profile?.nodes.find((n) => n.callFrame.url === f.url)?.callFrame.scriptId;
  const starts = lineStarts(js);
  return {
    expr: f.name, original: () => undefined, name: f.name, kind: 'script', url: f.url, scriptId, js,
    startOffset: starts[f.firstLine] ?? 0, endOffset: starts[f.lastLine + 1] ?? js.length, firstLine: f.firstLine, lastLine: f.lastLine, freshUrl: f.url,
  };
}

/** The lines to show: the file as the user wrote it (TypeScript keeps its lines in the JavaScript V8 ran). */
function displayLines(url: string, fallback: string): string[] {
  try {
    return readFileSync(fileURLToPath(url), 'utf8').split('\n');
  } catch {
    return fallback.split('\n');
  }
}

export interface LineProfile {
  functions: FunctionLines[];
  text: string;
  /** Said under the table when no sample landed in functions that ran. */
  note?: string;
}

/**
 * %lprun's tables from a script's run: exact hits from the probes' counters and time per line
 * sampled in the same run (or, with -x, the clock per line). The line engine's
 * functions and line_profiler's text renderer, as %lprun's.
 */
export function lineProfile(c: Capture, sources: ReadonlyMap<string, string>, unit: number, hideUncalled: boolean): LineProfile {
  const tree = c.profile && userProfile(c.profile, c.intervalUs, SCRIPT_STACKS);
  const functions = c.functions.flatMap((f): FunctionLines[] => {
    const js = sources.get(f.url) ?? '';
    const tsLines = displayLines(f.url, js);
    const r = f.record;
    if (r?.probes === 'time') return [timedLines(f, r, tsLines)];
    if (r?.probes !== 'count') return [];
    const t = asTarget(f, c.profile, js);
    const { hits, calls } = countedHits(t, r.hits);
    const times = tree ? lineTimes(tree, t, hits, tsLines) : new Map<number, number>();
    return [sampledLines(t, hits, calls, times, tsLines)];
  });
  const shown = hideUncalled ? functions.filter((f) => f.calls > 0 || f.total > 0) : functions;
  const sampled = c.functions.some((f) => f.record?.probes === 'count');
  return { functions, text: lprunText(shown, unit), note: sampled ? unsampledNote(functions, c.intervalUs) : undefined };
}

export interface MemoryProfile {
  functions: MemFunction[];
  text: string;
}

/** %mprun's tables from a script's run: the memory engine's tables, memory_profiler's text renderer. */
export function memoryProfile(c: Capture): MemoryProfile {
  let matched = true;
  const functions = c.functions.flatMap((f): MemFunction[] => {
    const r = f.record;
    if (r?.probes !== 'memory') return [];
    matched &&= r.gcMatched;
    return [memoryLines(f, r, displayLines(f.url, ''))];
  });
  return { functions, text: [...functions.map((f) => formatText(f) + '\n'), ...(matched ? [] : [GC_UNMATCHED])].join('\n') };
}
