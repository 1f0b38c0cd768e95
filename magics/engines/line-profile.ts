// The line profiler's measurement (%lprun, `tsprof lprun`, the library's lineProfile): hits and
// time per line of chosen functions, in one run of the statement.
//
// A function defined in a cell runs as a fresh copy with probes (instrument.ts decides where,
// probes.ts what):
//   default — counters for hits, and a stack of current lines that a sampling thread reads every
//             ~50-150 µs (line-clock.ts): a line's time includes its callees, at 1.1-1.5× plain;
//   exact (-x) — counters, and every line timed with a clock another thread publishes in shared
//             memory (a few ns a read where performance.now() costs 25-55 ns).
// The instrumented copy is kept between runs (same source, same mode), so a second %lprun of a
// function runs code V8 has already optimized; its arrays are zeroed before each run.
// A function from a file cannot take probes (LiveEdit leaves existing closures as they were): it is
// recompiled in place under V8's block coverage for hits, and its time comes from the V8 sampling
// profiler (own ticks per line, callee time put on the line that calls the callee by name).
import type { Instrumentation } from './instrument.js';
import { clockProbes, stackProbes } from './probes.js';
import { CLOCK_PER_MS, CLOCK_SLOT, clockArray, sampleStack, settle, watchHelper, withClock, withLineSampler } from './line-clock.js';
import { threadWaitMs } from './cpu-wait.js';
import { userProfile, type UserProfile } from './v8/calltree.js';
import { withCpuProfile, withPreciseCoverage } from './v8/cpu.js';
import { hitsPerLine } from './v8/lines.js';
import { activate, counterSlots, deactivate, freshScript, inTarget, measuredCoverage, bindCopy, unbindCopy, compileFresh, type Target } from './targets.js';
import type { ScriptCoverage } from './v8/inspector.js';
import { displayFile } from './v8/sources.js';
import { EngineUsageError, type EngineHost } from './host.js';

/** The unit the Time column is recorded in (seconds): line_profiler's default on Linux. */
export const TIMER_UNIT = 1e-9;

export interface LineStats {
  /** 1-based line in the cell (the TypeScript line). */
  line: number;
  hits?: number;
  /** Seconds. */
  time: number;
  perHit?: number;
  percent: number;
  contents: string;
}

export interface FunctionLines {
  name: string;
  file: string;
  /** 1-based first line. */
  line: number;
  /** Seconds: the sum of the Time column, as line_profiler's Total time. */
  total: number;
  calls: number;
  lines: LineStats[];
}

export interface LineHits {
  /** 0-based line → hits; the function's first line carries its calls. */
  hits: Map<number, number>;
  calls: number;
  /** The JS whose lines the profile's line numbers refer to. */
  source: string;
}

/** What one profiled run gives: the tables, and the statement's error if it threw (the tables are still there). */
export interface LineProfileRun {
  functions: FunctionLines[];
  error?: unknown;
  /** Wall time of the statement (seconds). */
  wall: number;
  /**
   * Exact mode: the share of the statement's wall time the clock advanced smoothly through. Below 1
   * the clock thread waited for a CPU (an overloaded machine): the clock stood still, then jumped,
   * and the jump went to whichever lines were current.
   */
  clockShare?: number;
  /**
   * Default mode: the share of the statement's wall time the sampler thread watched (it woke no
   * more than 1 ms later than its interval asks). Below 1 it waited for a CPU, and the time it did
   * not see is missing from the Time column or guessed.
   */
  samplerShare?: number;
  /** Milliseconds the statement's thread waited for a CPU while it ran (Linux), counted in the lines that were current. */
  waitedMs?: number;
}

// ---- instrumented copies, kept between runs ------------------------------------------------------

interface Copy {
  fn: Function;
  hits: Float64Array;
  /** Exact mode: clock units (CLOCK_PER_MS) per line. */
  time?: Float64Array;
  /** Default mode: where this copy's lines start in the sampler's slots. */
  base?: number;
}

const copies = new Map<string, { fn: Function; state: unknown }>();
const MAX_COPIES = 64;
/** Sampler slots handed out so far: each copy's lines get slots of their own, for the life of the kernel. */
let slotsUsed = 0;

/**
 * A kept instrumented copy of a cell's function: compiled once per (kind, source text) with the
 * probes `make` gives, and returned with the state those probes write (the caller resets it).
 */
export function keptCopy<S>(t: Target, kind: string, make: () => { instrumentation: Instrumentation; state: S }): { fn: Function; state: S } {
  if (t.kind !== 'cell') throw new EngineUsageError(`-f ${t.expr} is defined in ${t.url}: statement probes (%lprun -x, %mprun) need a function defined in a notebook cell; %lprun without -x profiles it`);
  const key = `${kind}\n${t.url}\n${freshScript(t)}`;
  let c = copies.get(key) as { fn: Function; state: S } | undefined;
  if (c) {
    copies.delete(key); // most recently used last
    copies.set(key, c);
    return c;
  }
  const { instrumentation, state } = make();
  c = { fn: compileFresh(t, instrumentation), state };
  copies.set(key, c);
  if (copies.size > MAX_COPIES) copies.delete(copies.keys().next().value!);
  return c;
}

/** The instrumented copy of a cell's function for a %lprun mode, its arrays zeroed. */
function copyOf(t: Target, mode: 'exact' | 'sampled'): Copy {
  const slots = counterSlots(t);
  const { fn, state } = keptCopy<Omit<Copy, 'fn'>>(t, mode, () => {
    const hits = new Float64Array(slots);
    if (mode === 'exact') {
      const time = new Float64Array(slots);
      return { instrumentation: clockProbes(hits, time, clockArray(), CLOCK_SLOT), state: { hits, time } };
    }
    const base = slotsUsed;
    slotsUsed += slots;
    return { instrumentation: stackProbes(hits, sampleStack(), base), state: { hits, base } };
  });
  state.hits.fill(0);
  state.time?.fill(0);
  return { fn, ...state };
}

/** What runBound gives: the statement's error (not thrown), its wall time, and how the machine treated it. */
export interface BoundRun {
  error?: unknown;
  /** Seconds. */
  wall: number;
  /** Milliseconds the statement's thread waited for a CPU (Linux). */
  waitedMs?: number;
  /** Share of the statement the clock or sampler thread had a CPU (see watchHelper). */
  helperShare?: number;
}

/** Run the statement with the copies bound, always rebinding the originals; its error is returned, not thrown. */
export async function runBound(ctx: EngineHost, targets: Target[], fns: Function[], statement: () => Promise<unknown>): Promise<BoundRun> {
  const run: BoundRun = { wall: 0 };
  const bound: Target[] = [];
  try {
    for (const [i, t] of targets.entries()) {
      await bindCopy(ctx, t, fns[i]);
      bound.push(t);
    }
    settle();
    const w0 = threadWaitMs();
    const share = watchHelper();
    const t0 = performance.now();
    try {
      await statement();
    } catch (e) {
      run.error = e ?? new Error(String(e));
    }
    const t1 = performance.now();
    const w1 = threadWaitMs();
    run.wall = (t1 - t0) / 1e3;
    run.helperShare = share(t1);
    // A wait that began after t1 (before the read) would count too: no more than the wall time is said.
    if (w0 !== undefined && w1 !== undefined) run.waitedMs = Math.min(w1 - w0, t1 - t0);
  } finally {
    for (const t of bound) await unbindCopy(ctx, t);
  }
  return run;
}

function tsLinesOf(ctx: EngineHost, t: Target): string[] {
  return (ctx.sources.get(t.url)?.ts ?? t.js).split('\n');
}

// ---- exact mode --------------------------------------------------------------------------------

/** -x: statement probes timed with the shared clock; hits and time per line are counted, not sampled. */
export async function exactLines(ctx: EngineHost, targets: Target[], statement: () => Promise<unknown>): Promise<LineProfileRun> {
  const cs = targets.map((t) => copyOf(t, 'exact'));
  const { error, wall, waitedMs, helperShare } = await withClock(() => runBound(ctx, targets, cs.map((c) => c.fn), statement));
  const functions = targets.map((t, i) => timedLines(t, { hits: cs[i].hits, time: cs[i].time!.map((u) => u / CLOCK_PER_MS), calls: cs[i].hits[cs[i].hits.length - 1] }, tsLinesOf(ctx, t)));
  return { functions, error, wall, clockShare: helperShare, waitedMs };
}

/** One function's table from hits and clock time (ms) per 0-based line. */
export function timedLines(t: Pick<Target, 'name' | 'url' | 'firstLine' | 'lastLine'>, rec: { hits: ArrayLike<number>; time: ArrayLike<number>; calls: number }, tsLines: string[]): FunctionLines {
  let totalMs = 0;
  for (let l = t.firstLine; l <= t.lastLine; l++) totalMs += rec.time[l];
  const lines: LineStats[] = [];
  for (let l = t.firstLine; l <= t.lastLine; l++) {
    const hits = rec.hits[l] || undefined;
    const s = rec.time[l] / 1e3;
    lines.push({ line: l + 1, hits, time: s, perHit: hits ? s / hits : undefined, percent: totalMs > 0 ? (100 * rec.time[l]) / totalMs : 0, contents: tsLines[l] ?? '' });
  }
  // The function's own line counts its calls, as a one-line function's statement would.
  if (!lines[0].hits && rec.calls) lines[0].hits = rec.calls;
  return { name: t.name, file: displayFile(t.url), line: t.firstLine + 1, total: totalMs / 1e3, calls: rec.calls, lines };
}

// ---- default mode ------------------------------------------------------------------------------

/**
 * Default mode, one run. Cell functions: counters and the line sampler thread. Functions from files:
 * block coverage for hits and the V8 sampling profiler (every `intervalUs`) for time.
 */
export async function sampledLinesRun(ctx: EngineHost, targets: Target[], statement: () => Promise<unknown>, intervalUs: number, samplerUs?: number): Promise<LineProfileRun> {
  const cells = targets.map((t) => (t.kind === 'cell' ? copyOf(t, 'sampled') : undefined));
  const files = targets.filter((t) => t.kind !== 'cell');
  const ticks = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, slotsUsed)));
  let outcome: BoundRun = { wall: 0 };
  let profile: Awaited<ReturnType<typeof withCpuProfile>>['profile'] | undefined;
  let coverage: ScriptCoverage[] = [];
  const bound = async (): Promise<void> => {
    outcome = await runBound(ctx, targets.filter((t) => t.kind === 'cell'), cells.filter((c) => c).map((c) => c!.fn), statement);
  };
  const sampled = (): Promise<void> => withLineSampler(ticks, bound, samplerUs);
  if (files.length === 0) await sampled();
  else {
    // Functions from files: recompiled under coverage, timed by the V8 profiler, in the same run.
    const run = async (): Promise<void> => {
      try {
        for (const t of files) await activate(ctx, t);
        profile = (await withCpuProfile(intervalUs, sampled)).profile;
      } finally {
        for (const t of files) await deactivate(ctx, t);
      }
    };
    coverage = (await withPreciseCoverage(true, run)).coverage;
  }
  const up = profile && userProfile(profile, intervalUs);
  const functions = targets.map((t, i) => {
    const c = cells[i];
    if (c) {
      const { hits, calls } = countedHits(t, c.hits);
      const times = new Map<number, number>();
      for (let l = t.firstLine; l <= t.lastLine; l++) if (ticks[c.base! + l] > 0) times.set(l, ticks[c.base! + l] * 1e3);
      return sampledLines(t, hits, calls, times, tsLinesOf(ctx, t));
    }
    const { hits, calls, source } = t.counted ? countedHits(t, t.counted) : coveredHits(t, coverage);
    return sampledLines(t, hits, calls, lineTimes(up!, t, hits, source.split('\n')), tsLinesOf(ctx, t));
  });
  // Functions from files are timed by V8's profiler, which runs on its own thread: the share is the line sampler's, for cells.
  return { functions, error: outcome.error, wall: outcome.wall, waitedMs: outcome.waitedMs, samplerShare: cells.some((c) => c) ? outcome.helperShare : undefined };
}

/** Default mode for callers that want the statement's error thrown (the library). */
export async function sampledMode(ctx: EngineHost, targets: Target[], statement: () => Promise<unknown>, interval: number): Promise<FunctionLines[]> {
  const r = await sampledLinesRun(ctx, targets, statement, interval);
  if (r.error !== undefined) throw r.error;
  return r.functions;
}

/** Per-line time (µs) of one function from the V8 profile: its own ticks, plus callee time on the line that calls the callee. */
export function lineTimes(up: UserProfile, t: Target, hits: Map<number, number>, lines: string[]): Map<number, number> {
  const times = new Map<number, number>();
  const add = (line: number, us: number): void => void times.set(line, (times.get(line) ?? 0) + us);
  const callers = new Map<string, number[]>();
  const callLines = (callee: string): number[] => {
    let c = callers.get(callee);
    if (!c) {
      const re = new RegExp(`(^|[^\\w$])${callee.replace(/[$]/g, '\\$')}\\s*(<[^>]*>)?\\s*\\(`);
      c = [];
      for (let l = t.firstLine; l <= t.lastLine; l++) if (re.test(lines[l] ?? '')) c.push(l);
      callers.set(callee, c);
    }
    return c;
  };
  // Own ticks: every tree node of the function carries per-line self time.
  const visit = (n: UserProfile['root']): void => {
    if (inTarget(t, n.fn)) for (const [line, us] of n.lines) add(line - 1, us);
    for (const c of n.children.values()) visit(c);
  };
  visit(up.root);
  // Callee time: the innermost frame of this function on each stack is the one whose line is running.
  for (const { frames, duration } of up.stacks) {
    let i = -1;
    for (let k = frames.length - 1; k >= 0; k--) if (inTarget(t, frames[k])) { i = k; break; }
    if (i < 0 || i === frames.length - 1) continue;
    const candidates = callLines(frames[i + 1].name);
    if (candidates.length === 0) continue;
    const weights = candidates.map((l) => hits.get(l) ?? 0);
    const sum = weights.reduce((a, b) => a + b, 0);
    candidates.forEach((l, j) => add(l, duration * (sum > 0 ? weights[j] / sum : 1 / candidates.length)));
  }
  return times;
}

/** One function's table from exact hits and time per line (µs), both by 0-based line. */
export function sampledLines(t: Pick<Target, 'name' | 'url' | 'firstLine' | 'lastLine'>, hits: Map<number, number>, calls: number, times: Map<number, number>, tsLines: string[]): FunctionLines {
  const totalUs = [...times.values()].reduce((a, b) => a + b, 0);
  const lines: LineStats[] = [];
  for (let l = t.firstLine; l <= t.lastLine; l++) {
    const us = times.get(l) ?? 0;
    const h = hits.get(l);
    lines.push({ line: l + 1, hits: h, time: us / 1e6, perHit: h ? us / 1e6 / h : undefined, percent: totalUs > 0 ? (100 * us) / totalUs : 0, contents: tsLines[l] ?? '' });
  }
  return { name: t.name, file: displayFile(t.url), line: t.firstLine + 1, total: totalUs / 1e6, calls, lines };
}

/** Hits from a copy's counters: lines that ran, and the calls on the function's line. */
export function countedHits(t: Target, counts: ArrayLike<number>): LineHits {
  const hits = new Map<number, number>();
  for (let l = t.firstLine; l <= t.lastLine; l++) if (counts[l] > 0) hits.set(l, counts[l]);
  const calls = counts[counterSlots(t) - 1];
  hits.set(t.firstLine, calls);
  return { hits, calls, source: t.js };
}

/** Hits from block coverage of the recompiled function. */
export function coveredHits(t: Target, coverage: ScriptCoverage[]): LineHits {
  const measured = measuredCoverage(t, coverage);
  const hits = measured.functions ? hitsPerLine(measured.source, measured.functions, t.firstLine, t.lastLine) : new Map<number, number>();
  // The function's first line counts its calls (its text may begin after other code on that line).
  const calls = measured.functions?.find((f) => f.ranges[0]?.startOffset === measured.start)?.ranges[0].count ?? 0;
  hits.set(t.firstLine, calls);
  return { hits, calls, source: measured.source };
}
