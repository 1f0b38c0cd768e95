// The library's one door to the CPU and line profilers. Today (main at 6c25cc5) their measuring code
// lives in the %prun and %lprun magics (magics/notebook/prun.ts: the run body; lprun.ts: sampledMode
// and formatFunction, exported for this); the `prun` and `lines` branches are moving it into engines.
// When they land, only this file changes: point profileRun and lineProfileRun at the new engine
// functions. Nothing else in magics/library/ imports the profilers.
import vm from 'node:vm';
import { addCallCounts, functionStats, limitRows, pstatsText, sortRows } from '../engines/pstats.js';
import { PACKAGE_DIST_URL, toCpuProfile, userProfile } from '../engines/v8/calltree.js';
import { DEFAULT_INTERVAL_US, withCpuProfile, withPreciseCoverage } from '../engines/v8/cpu.js';
import { displayFile, SourceIndex } from '../engines/v8/sources.js';
import { post, type CpuProfile, type ScriptCoverage } from '../engines/v8/inspector.js';
import { measuredCoverage, resolveTarget, type Target } from '../engines/targets.js';
import { EngineUsageError, userGlobal } from '../engines/host.js';
import { ProfileResult } from '../notebook/prun.js';
import { coveredHits, formatFunction, lineTimes, LineProfileResult, sampledMode, unsampledNote, type FunctionLines, type LineStats } from '../notebook/lprun.js';
import type { MagicContext } from '../notebook/types.js';
import { processHost } from './host.js';

export { ProfileResult, LineProfileResult };
export { DEFAULT_INTERVAL_US };

/**
 * The profilers keep the frames below the first `cell-…` script (in the kernel, the cell that runs
 * the statement) and drop everything above it. A library call has no cell, so the function runs
 * through a one-line script named like one; its own row is removed from the results.
 */
const RUNNER_URL = 'cell-tsprof-library';
const runStatement = vm.runInThisContext('(function tsprof_statement(fn) { return fn() })', { filename: RUNNER_URL }) as (fn: () => unknown) => unknown;
const statementOf = (fn: () => unknown) => async (): Promise<unknown> => await runStatement(fn);

export interface ProfileRunOptions {
  /** Sampling interval, µs (default 500). */
  intervalUs: number;
  /** Count every call exactly: a second run of the function under V8's precise call counting. */
  exactCalls: boolean;
  /** pstats sort keys (default ['time']). */
  sort: string[];
  /** pstats restrictions: a count, a fraction, or a regex on filename:lineno(function). */
  limit: string[];
}

export async function profileRun(fn: () => unknown, options: ProfileRunOptions): Promise<ProfileResult> {
  const statement = statementOf(fn);
  const run = await withCpuProfile(options.intervalUs, statement);
  const up = userProfile(run.profile, options.intervalUs, { window: { startUs: run.startUs, endUs: run.endUs } });
  const stats = functionStats(up);
  if (options.exactCalls) {
    const { coverage } = await withPreciseCoverage(false, statement);
    addCallCounts(stats, coverage, new SourceIndex(new Map()), PACKAGE_DIST_URL);
  }
  for (const [key, row] of stats) if (row.fn.url === RUNNER_URL) stats.delete(key);
  const all = [...stats.values()];
  const { rows: sorted, orderedBy } = sortRows(all, options.sort);
  const rows = limitRows(sorted, options.limit);
  const header = options.exactCalls
    ? `${all.reduce((a, r) => a + (r.ncalls ?? 0), 0)} function calls in ${run.wall.toFixed(3)} seconds`
    : `${up.sampleCount} samples every ${options.intervalUs} µs (${(up.sampled / 1e3).toFixed(1)} ms sampled) in ${run.wall.toFixed(3)} seconds`;
  const restricted = rows.length < sorted.length ? `List reduced from ${sorted.length} to ${rows.length} due to restriction <${options.limit.map((l) => JSON.stringify(l)).join(', ')}>` : undefined;
  const text = pstatsText(rows, header, orderedBy, restricted);
  return new ProfileResult(sorted, toCpuProfile(up, run.profile), text, run.wall, up.sampleCount, options.intervalUs, options.exactCalls);
}

export interface LineProfileRunOptions {
  intervalUs: number;
  /** Unit of the Time columns in seconds (default 1e-9). */
  unit: number;
}

const TIMER_UNIT = 1e-9;
const SLOT = (i: number): string => `tsprof.library.target.${i}`;

/** A function a script defined, as a line-profiler target (recompiled in place under block coverage for the run). */
async function targetOf(fn: Function, i: number): Promise<Target> {
  (userGlobal as unknown as Record<symbol, unknown>)[Symbol.for(SLOT(i))] = fn;
  try {
    return await resolveTarget(processHost(), `globalThis[Symbol.for(${JSON.stringify(SLOT(i))})]`, 'lineProfile');
  } catch (e) {
    throw new EngineUsageError(String((e as Error).message).replace(/^%lineProfile: -f globalThis\[Symbol\.for\("[^"]+"\)\]/, `lineProfile: ${fn.name || 'the function'}`));
  } finally {
    delete (userGlobal as unknown as Record<symbol, unknown>)[Symbol.for(SLOT(i))];
  }
}

function lineText(functions: FunctionLines[], unit: number, intervalUs: number): string {
  const note = unsampledNote(functions, intervalUs);
  const header = [`Timer unit: 1e-09 s`, ...(unit !== TIMER_UNIT ? [`Output unit: ${unit} s`] : []), ''];
  return [...header, ...functions.map((f) => formatFunction(f, unit) + '\n'), ...(note ? [note] : [])].join('\n');
}

export async function lineProfileRun(fn: () => unknown, targetsOf: Function[], options: LineProfileRunOptions): Promise<LineProfileResult> {
  const targets: Target[] = [];
  for (const [i, f] of targetsOf.entries()) targets.push(await targetOf(f, i));
  // sampledMode reads only the EngineHost part of a magic's context (and `sources`, empty here).
  const host = processHost() as unknown as MagicContext;
  const functions = await sampledMode(host, targets, statementOf(fn), options.intervalUs);
  return new LineProfileResult(functions, lineText(functions, options.unit, options.intervalUs), options.unit);
}

// ---------------------------------------------------------------------------------------------
// @profile: one recording for the whole process

export interface DecoratedTarget {
  fn: Function;
  name: string;
  lines: boolean;
  calls: number;
}

/**
 * What @profile records: the CPU profiler runs from the first decorated method's definition to the
 * report, and decorated calls run through the statement script, so the profile keeps exactly the
 * samples taken inside them. With `lines`, V8's block coverage starts when the method is defined:
 * V8 compiles a function when it is first called, so the method is compiled under coverage and its
 * blocks are counted without recompiling it. Both start synchronously (the inspector answers an
 * in-process session before `post` returns), so a call in the same tick as the class is measured.
 */
export class DecoratorSession {
  readonly targets: DecoratedTarget[] = [];
  private profiling = false;
  private covering = false;
  private startedAt = 0;

  constructor(private readonly intervalUs: number) {}

  get active(): boolean {
    return this.profiling;
  }

  add(target: DecoratedTarget): void {
    this.targets.push(target);
    this.start(target.lines);
  }

  /** Start what is not running yet (called at definition and before each decorated call). */
  start(lines: boolean): void {
    if (!this.profiling) {
      void post('Profiler.enable');
      void post('Profiler.setSamplingInterval', { interval: this.intervalUs });
      void post('Profiler.start');
      this.profiling = true;
      this.startedAt = performance.now();
    }
    if (lines && !this.covering) {
      void post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
      this.covering = true;
    }
  }

  /** Run a decorated call inside the statement script (what the profiles keep). */
  call<T>(run: () => T): T {
    return runStatement(run) as T;
  }

  /** Stop, and turn what was recorded into the same results profile() and lineProfile() return. */
  async finish(unit = TIMER_UNIT): Promise<{ calls?: ProfileResult; lines?: LineProfileResult }> {
    if (!this.profiling) return {};
    const wall = (performance.now() - this.startedAt) / 1e3;
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    this.profiling = false;
    let coverage: ScriptCoverage[] = [];
    if (this.covering) {
      coverage = (await post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage')).result;
      await post('Profiler.stopPreciseCoverage');
      this.covering = false;
    }
    const up = userProfile(profile, this.intervalUs);
    const out: { calls?: ProfileResult; lines?: LineProfileResult } = {};
    const callTargets = this.targets.filter((t) => !t.lines);
    if (callTargets.length) {
      const stats = functionStats(up);
      // GC samples carry no stack, so over a whole process they cannot be told from GC outside the
      // decorated calls: they are left out.
      for (const [key, row] of stats) if (row.fn.url === RUNNER_URL || key === '(garbage collector)') stats.delete(key);
      const { rows, orderedBy } = sortRows([...stats.values()], ['cumulative']);
      const sampled = rows.reduce((a, r) => a + r.tottime, 0);
      const header = `${rows.reduce((a, r) => a + r.samples, 0)} samples every ${this.intervalUs} µs (${(sampled * 1e3).toFixed(1)} ms, garbage collection left out) in ${callTargets.map((t) => `${t.name} (${t.calls} ${t.calls === 1 ? 'call' : 'calls'})`).join(', ')}, over ${wall.toFixed(3)} seconds`;
      const empty = rows.length ? '' : `No sample landed in the decorated calls: together they ran for less than the sampling interval (${this.intervalUs} µs) at the moments it fired.\n`;
      out.calls = new ProfileResult(rows, toCpuProfile(up, profile), pstatsText(rows, header, orderedBy, undefined) + empty, wall, up.sampleCount, this.intervalUs, false);
    }
    const lineTargets = this.targets.filter((t) => t.lines);
    if (lineTargets.length) {
      const functions: FunctionLines[] = [];
      const notes: string[] = [];
      for (const [i, d] of lineTargets.entries()) {
        const t = await targetOf(d.fn, i);
        // V8 counts blocks only in code compiled while coverage is on: a function that had already
        // been compiled when the recording started has its calls counted, not its lines.
        const measured = measuredCoverage(t, coverage);
        const own = measured.functions?.find((f) => f.ranges[0]?.startOffset === measured.start);
        const blocks = own?.isBlockCoverage === true;
        const { hits, calls, source } = coveredHits(t, coverage);
        if (!blocks) for (const l of hits.keys()) if (l !== t.firstLine) hits.delete(l);
        const times = lineTimes(up, t, hits, source.split('\n'));
        const totalUs = [...times.values()].reduce((a, b) => a + b, 0);
        const jsLines = t.js.split('\n');
        const lines: LineStats[] = [];
        for (let l = t.firstLine; l <= t.lastLine; l++) {
          const us = times.get(l) ?? 0;
          const h = hits.get(l);
          lines.push({ line: l + 1, hits: h, time: us / 1e6, perHit: h ? us / 1e6 / h : undefined, percent: totalUs > 0 ? (100 * us) / totalUs : 0, contents: jsLines[l] ?? '' });
        }
        functions.push({ name: d.name, file: displayFile(t.url), line: t.firstLine + 1, total: totalUs / 1e6, calls, lines });
        if (calls > 0 && !blocks) notes.push(`${d.name} had already been compiled when the recording started, so only its calls are counted: wrap or decorate it before its first call.`);
      }
      out.lines = new LineProfileResult(functions, [lineText(functions, unit, this.intervalUs), ...notes].join('\n'), unit);
    }
    return out;
  }
}
