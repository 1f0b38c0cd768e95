// %lprun / %%lprun: line-by-line profile of chosen functions, in line_profiler's layout.
//
// Hits are exact: a cell's function is compiled afresh from its source (same lines, same global
// scope) with a counter before each statement, and its binding points at the fresh copy while the
// statement runs; a function from a file is recompiled in place under V8's block coverage (counters
// exist only in code compiled while it is on). Time comes from the sampling profiler's per-line ticks in the same run; time in a
// callee is put on the line that calls it (found by the callee's name; split by hits when several
// lines call it).
import { writeFileSync } from 'node:fs';
import { functionOptions, intOption, parseOptions, statementOf } from './argv.js';
import { escapeHtml } from '../render/format.js';
import { htmlTable } from '../render/html.js';
import { userProfile, type UserProfile } from '../engines/v8/calltree.js';
import { DEFAULT_INTERVAL_US, withCpuProfile, withPreciseCoverage } from '../engines/v8/cpu.js';
import { hitsPerLine } from '../engines/v8/lines.js';
import { countingProbes, recorderProbes, TimeRecorder } from '../engines/probes.js';
import { activate, counterSlots, deactivate, inTarget, measuredCoverage, resolveTarget, type Target } from '../engines/targets.js';
import type { ScriptCoverage } from '../engines/v8/inspector.js';
import { PROFILE_MIME, type ProfileBundle } from '../render/profile-bundle.js';
import { displayFile } from '../engines/v8/sources.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const OPTIONS: OptionSpec[] = [
  { name: 'f', value: true, repeat: true, metavar: 'FUNC', help: 'profile this function (an expression naming it, e.g. primes or obj.method); repeatable' },
  { name: 'u', value: true, metavar: 'UNIT', help: 'unit of the Time columns in seconds, e.g. 1e-3 for ms (default 1e-9: ns, the timer unit)' },
  { name: 'z', help: 'hide functions that were never called' },
  { name: 'r', help: 'return the result object (functions → lines with hits, time, per hit, % time)' },
  { name: 'T', value: true, metavar: 'FILE', help: 'also write the text report to FILE' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write the raw result as JSON to FILE' },
  { name: 'q', help: 'quiet: show nothing (use with -r, -T or -D)' },
  { name: 'i', value: true, metavar: 'US', help: `sampling interval in microseconds for the Time column (default ${DEFAULT_INTERVAL_US})` },
  { name: 'x', help: 'exact mode: instrument every statement and time it with the clock (deterministic, like line_profiler: a line includes the time of what it calls, so a recursive function counts each level again; costs a probe per statement, about 45-100 ns)' },
];

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
  /** Seconds. */
  total: number;
  calls: number;
  lines: LineStats[];
}

export class LineProfileResult {
  constructor(readonly functions: FunctionLines[], readonly text: string, readonly unit: number) {}
  toString(): string {
    return this.text;
  }
}

/** Per-line time (µs) of one function: its own ticks, plus callee time on the line that calls the callee. */
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
  // Own ticks: every tree node of the fresh function carries per-line self time.
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

export function formatFunction(f: FunctionLines, unit: number): string {
  const scale = TIMER_UNIT / unit;
  const header = `${'Line #'.padStart(6)} ${'Hits'.padStart(9)} ${'Time'.padStart(12)} ${'Per Hit'.padStart(8)} ${'% Time'.padStart(8)}  Line Contents`;
  const out = [`Total time: ${Number(f.total.toPrecision(6))} s`, `File: ${f.file}`, `Function: ${f.name} at line ${f.line}`, '', header, '='.repeat(header.length)];
  for (const l of f.lines) {
    if (l.hits === undefined && l.time === 0) {
      out.push(`${String(l.line).padStart(6)} ${''.padStart(9)} ${''.padStart(12)} ${''.padStart(8)} ${''.padStart(8)}  ${l.contents}`);
      continue;
    }
    const time = (l.time / TIMER_UNIT) * scale;
    const per = l.hits ? time / l.hits : undefined;
    out.push(`${String(l.line).padStart(6)} ${String(l.hits ?? '').padStart(9)} ${time.toFixed(1).padStart(12)} ${(per === undefined ? '' : per.toFixed(1)).padStart(8)} ${l.percent.toFixed(1).padStart(8)}  ${l.contents}`);
  }
  return out.join('\n');
}

function htmlFunction(f: FunctionLines, unit: number): string {
  const scale = TIMER_UNIT / unit;
  const max = Math.max(...f.lines.map((l) => l.percent), 1e-9);
  const bar = (p: number): string => `<div style="background:#f0f0f0;width:120px;height:10px"><div style="background:#d62728;height:10px;width:${((120 * p) / max).toFixed(1)}px"></div></div>`;
  const table = htmlTable(f.lines, [
    { header: 'Line #', cell: (l) => l.line },
    { header: 'Hits', cell: (l) => l.hits ?? '' },
    { header: 'Time', cell: (l) => (l.time ? ((l.time / TIMER_UNIT) * scale).toFixed(1) : '') },
    { header: 'Per Hit', cell: (l) => (l.hits && l.time ? ((l.time / TIMER_UNIT) * scale / l.hits).toFixed(1) : '') },
    { header: '% Time', cell: (l) => (l.hits !== undefined || l.time ? l.percent.toFixed(1) : '') },
    { header: '', cell: (l) => (l.percent > 0 ? bar(l.percent) : ''), html: true, align: 'left' },
    { header: 'Line Contents', cell: (l) => `<pre style="margin:0">${escapeHtml(l.contents)}</pre>`, html: true, align: 'left' },
  ]);
  return `<p><code>Function: ${escapeHtml(f.name)} at line ${f.line} · File: ${escapeHtml(f.file)} · Total time: ${Number(f.total.toPrecision(6))} s</code></p>${table}`;
}

/**
 * Default mode, one run: time from the sampling profiler; hits from bare counters in a cell
 * function's fresh copy, or from V8's block coverage for a function from a file (LiveEdit cannot
 * give it probes). Coverage starts only when such a function is profiled: it costs 2–2.7× where
 * the counters cost 1.1–1.4×.
 */
export async function sampledMode(ctx: MagicContext, targets: Target[], statement: () => Promise<unknown>, interval: number): Promise<FunctionLines[]> {
  const counters = targets.map((t) => (t.kind === 'cell' ? new Float64Array(counterSlots(t)) : undefined));
  let profileRun: Awaited<ReturnType<typeof withCpuProfile>> | undefined;
  const run = async (): Promise<void> => {
    try {
      for (const [i, t] of targets.entries()) {
        const hits = counters[i];
        await activate(ctx, t, hits && countingProbes(hits));
      }
      profileRun = await withCpuProfile(interval, statement);
    } finally {
      for (const t of targets) await deactivate(ctx, t);
    }
  };
  const coverage = targets.some((t) => t.kind === 'script') ? (await withPreciseCoverage(true, run)).coverage : (await run(), []);
  const up = userProfile(profileRun!.profile, interval);

  const functions: FunctionLines[] = [];
  for (const [i, t] of targets.entries()) {
    const counts = counters[i];
    const { hits, calls, source } = counts ? countedHits(t, counts) : coveredHits(t, coverage);
    const tsLines = (ctx.sources.get(t.url)?.ts ?? t.js).split('\n');
    functions.push(sampledLines(t, hits, calls, lineTimes(up, t, hits, source.split('\n')), tsLines));
  }
  return functions;
}

/** One function's table from exact hits and sampled time per line (µs), both by 0-based line. */
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

export interface LineHits {
  /** 0-based line → hits; the function's first line carries its calls. */
  hits: Map<number, number>;
  calls: number;
  /** The JS whose lines the profile's line numbers refer to. */
  source: string;
}

/** Hits from a fresh copy's counters: lines that ran, and the calls on the function's line. */
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

/** -x: statement probes in fresh copies; hits and wall time per line are counted, not sampled. */
async function exactMode(ctx: MagicContext, targets: Target[], statement: () => Promise<unknown>): Promise<FunctionLines[]> {
  const recorders = targets.map((t) => new TimeRecorder(t.lastLine + 1));
  try {
    for (const [i, t] of targets.entries()) await activate(ctx, t, recorderProbes(recorders[i]));
    await statement();
  } finally {
    for (const t of targets) await deactivate(ctx, t);
  }
  return targets.map((t, i) => timedLines(t, recorders[i], (ctx.sources.get(t.url)?.ts ?? t.js).split('\n')));
}

/** One function's table from a TimeRecorder's hits and clock time (ms) per 0-based line. */
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

/** The whole text report: the timer unit, then each function's table (line_profiler's layout). */
export function lprunText(functions: FunctionLines[], unit: number): string {
  return [`Timer unit: ${TIMER_UNIT.toExponential(0).replace('e-9', 'e-09')} s`, ...(unit !== TIMER_UNIT ? [`Output unit: ${unit} s`] : []), '', ...functions.map((f) => formatFunction(f, unit) + '\n')].join('\n');
}

/** Said when functions ran but no sample landed in them: an empty Time column needs a reason and a way out. */
export function unsampledNote(functions: FunctionLines[], intervalUs: number): string | undefined {
  if (!functions.some((f) => f.calls > 0) || functions.some((f) => f.total > 0)) return undefined;
  return `No sample landed in ${functions.map((f) => f.name).join(', ')} (sampled every ${intervalUs} µs), so the Time column is empty; hits are exact. Profile a longer run, sample more often (-i 50), or time every line with -x.`;
}

export const lprun: Magic = {
  name: 'lprun',
  kinds: ['line', 'cell'],
  summary: 'Line-by-line profile of chosen functions: exact hits per line, time per line, in line_profiler\'s layout.',
  usage: '%lprun -f FUNC [-f FUNC2 …] [-u UNIT] [-z] [-r] [-T FILE] [-D FILE] [-q] [-i US] statement\n%%lprun -f FUNC [options]\nbody',
  options: OPTIONS,
  details: `Hits are exact: a counter before every statement of the function (for a function from a file,
V8 block coverage), mapped to the TypeScript lines of the cell. Time is sampled (every -i µs) in the
same run: each line's own time plus, for a line that calls another function, that call's time.
Measured cost while the statement runs: about 1.2× plain for call-heavy code, 1.8× for tight loops
(block coverage, used for functions from files: 2-2.7×); compare lines with each other. Each function
is compiled again for the run: a cell's function as a fresh copy its binding points at (a function
defined inside another function cannot be copied this way: profile the outer one); a function from a
file or an npm package (CommonJS or ES module) in place, with V8's LiveEdit, keeping its module state.
Async functions work (lines after an await are counted). -x (statement probes) needs a function
defined in a cell.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'lprun');
    const exprs = functionOptions(lprun, opts);
    const { stmt, firstLine } = statementOf(lprun, call, rest);
    const unit = opts.u === undefined ? TIMER_UNIT : Number(opts.u);
    if (!(unit > 0)) throw new UsageError(`%lprun: option -u needs a positive number of seconds, got ${JSON.stringify(opts.u)}`);
    const interval = intOption(opts, 'i', 'lprun', 1) ?? DEFAULT_INTERVAL_US;
    const targets: Target[] = [];
    for (const e of exprs) targets.push(await resolveTarget(ctx, e));
    const statement = ctx.prepareCode(stmt, firstLine);
    const functions = opts.x ? await exactMode(ctx, targets, statement) : await sampledMode(ctx, targets, statement, interval);
    const shown = opts.z ? functions.filter((f) => f.calls > 0 || f.total > 0) : functions;
    const text = lprunText(shown, unit);
    const result = new LineProfileResult(functions, text, unit);
    if (typeof opts.T === 'string') {
      writeFileSync(opts.T, text);
      process.stdout.write(`*** Profile printout saved to text file '${opts.T}'.\n`);
    }
    if (typeof opts.D === 'string') {
      writeFileSync(opts.D, JSON.stringify({ unit, timerUnit: TIMER_UNIT, functions }, null, 1));
      process.stdout.write(`*** Profile stats saved to '${opts.D}'.\n`);
    }
    const bundle: ProfileBundle = { version: 1, kind: 'lprun', title: '%lprun', unit, functions: shown.map((f) => ({ name: f.name, file: f.file, line: f.line, total: f.total, calls: f.calls, lines: f.lines.map((l) => ({ line: l.line, contents: l.contents, hits: l.hits, time: l.time, percent: l.percent })) })) };
    if (!opts.q) {
      ctx.display.bundle({ [PROFILE_MIME]: bundle, 'text/plain': text, 'text/html': `<div class="tsprof-lprun"><p><code>Timer unit: 1e-09 s</code></p>${shown.map((f) => htmlFunction(f, unit)).join('')}</div>` });
      const note = opts.x ? undefined : unsampledNote(functions, interval);
      if (note) ctx.display.bundle({ 'text/plain': note, 'text/html': `<p class="tsprof-note">${escapeHtml(note)}</p>` });
    }
    if (!opts.r) return undefined;
    displaysAs(result, () => text);
    return result;
  },
};
