// %lprun / %%lprun: line-by-line profile of chosen functions, in line_profiler's layout.
//
// The measurement is the line engine's (magics/engines/line-profile.ts): exact hits from counters
// compiled into a copy of each function, and time per line in the same run — sampled by a helper
// thread by default, timed with a shared-memory clock at every line with -x. Both put a callee's
// time on the line that calls it, as line_profiler does.
import { writeFileSync } from 'node:fs';
import { functionOptions, intOption, parseOptions, statementOf } from './argv.js';
import { escapeHtml } from '../render/format.js';
import { htmlTable } from '../render/html.js';
import { DEFAULT_INTERVAL_US } from '../engines/v8/cpu.js';
import { SAMPLE_INTERVAL_US } from '../engines/line-clock.js';
import { exactLines, sampledLinesRun, TIMER_UNIT, type FunctionLines, type LineProfileRun } from '../engines/line-profile.js';
import { classNotReachedNote, inPlace, resolveTarget, type Target } from '../engines/targets.js';
import { PROFILE_MIME, type ProfileBundle } from '../render/profile-bundle.js';
import { UsageError, type Magic, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

import { busyMachineNotes, LineProfileResult, lprunText, pyG, STARVED_SHARE, stripZeros, unsampledNote } from '../render/line-table.js';

// The engine's and the renderer's exports, where other modules have imported them from.
export { coveredHits, countedHits, lineTimes, sampledLines, sampledMode, timedLines, TIMER_UNIT, type FunctionLines, type LineHits, type LineStats } from '../engines/line-profile.js';
export { formatFunction, LineProfileResult, lprunText, pyG, stripZeros, unsampledNote } from '../render/line-table.js';

const OPTIONS: OptionSpec[] = [
  { name: 'f', value: true, repeat: true, metavar: 'FUNC', help: 'profile this function (an expression naming it, e.g. primes or obj.method); repeatable' },
  { name: 'u', value: true, metavar: 'UNIT', help: 'unit of the Time columns in seconds, e.g. 1e-3 for ms (default 1e-9: ns, the timer unit)' },
  { name: 'z', help: 'hide functions that were never called' },
  { name: 'r', help: 'return the result object (functions → lines with hits, time, per hit, % time)' },
  { name: 'T', value: true, metavar: 'FILE', help: 'also write the text report to FILE' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write the raw result as JSON to FILE' },
  { name: 'q', help: 'quiet: show nothing (use with -r, -T or -D)' },
  { name: 's', help: 'strip zeros: leave out functions with no time recorded (line_profiler\'s -s)' },
  { name: 'i', value: true, metavar: 'US', help: `sampling interval in microseconds for the Time column (default ${SAMPLE_INTERVAL_US} for functions from cells, ${DEFAULT_INTERVAL_US} for functions from files)` },
  { name: 'x', help: 'exact mode: time every line with a clock (deterministic, like line_profiler: a line includes the time of what it calls, so a recursive function counts each level again); about 1.3-4× plain once the function has run under -x before' },
];

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
  return `<p><code>Function: ${escapeHtml(f.name)} at line ${f.line} · File: ${escapeHtml(f.file)} · Total time: ${pyG(f.total)} s</code></p>${table}`;
}

/** What line_profiler prints under the table when the statement exited or was interrupted; other errors propagate. */
export function caughtMessage(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'ProcessExit') return `*** ${(error as Error).message.replace(/ was called.*$/s, '')} exception caught in code being profiled.`;
  if (name === 'KeyboardInterrupt') return '*** KeyboardInterrupt exception caught in code being profiled.';
  return undefined;
}

export const lprun: Magic = {
  name: 'lprun',
  kinds: ['line', 'cell'],
  summary: 'Line-by-line profile of chosen functions: exact hits per line, time per line, in line_profiler\'s layout.',
  usage: '%lprun -f FUNC [-f FUNC2 …] [-u UNIT] [-z] [-s] [-r] [-T FILE] [-D FILE] [-q] [-i US] [-x] statement\n%%lprun -f FUNC [options]\nbody',
  options: OPTIONS,
  details: `Hits are exact: a counter before every statement of the function (for a function from a file,
V8 block coverage), mapped to the TypeScript lines of the cell. Time is measured in the same run,
and a line's time includes what it calls (line_profiler's semantics): by default a helper thread
samples the current line of every active call of the function every ${SAMPLE_INTERVAL_US}-150 µs, so any statement
that runs 1 ms or more gets times; -x times every line with a clock another thread publishes in
shared memory (resolution 0.3-2 µs). The instrumented copy is kept, so running %lprun again on the
same function runs already-optimized code. A function from a file is timed by V8's sampling
profiler instead (every ${DEFAULT_INTERVAL_US} µs), its callees' time put on the line that calls them by name. Each function
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
    const asked = intOption(opts, 'i', 'lprun', 1);
    const interval = asked ?? DEFAULT_INTERVAL_US;
    const targets: Target[] = [];
    for (const e of exprs) {
      const t = await resolveTarget(ctx, e);
      // Without -x no probes are needed: a class or a method is edited in place, so the objects made
      // before the run are measured too (a fresh copy reaches only the ones the statement makes).
      targets.push(opts.x ? t : await inPlace(t, 'lprun'));
    }
    const statement = ctx.prepareCode(stmt, firstLine);
    const run: LineProfileRun = opts.x ? await exactLines(ctx, targets, statement) : await sampledLinesRun(ctx, targets, statement, interval, asked ?? SAMPLE_INTERVAL_US);
    const caught = run.error === undefined ? undefined : caughtMessage(run.error);
    if (run.error !== undefined && caught === undefined) throw run.error;
    const functions = run.functions;
    let shown = opts.z ? functions.filter((f) => f.calls > 0 || f.total > 0) : functions;
    if (opts.s) shown = stripZeros(shown);
    const text = lprunText(shown, unit) + (caught ? `\n${caught}` : '');
    const result = new LineProfileResult(functions, text, unit);
    result.clockShare = run.clockShare;
    result.samplerShare = run.samplerShare;
    result.waitedMs = run.waitedMs;
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
      ctx.display.bundle({ [PROFILE_MIME]: bundle, 'text/plain': text, 'text/html': `<div class="tsprof-lprun"><p><code>Timer unit: ${pyG(unit)} s</code></p>${shown.map((f) => htmlFunction(f, unit)).join('')}${caught ? `<p><code>${escapeHtml(caught)}</code></p>` : ''}</div>` });
      const busy = busyMachineNotes(run);
      // A starved sampler is the reason for an empty Time column, not the statement's length.
      const unsampled = opts.x || (run.samplerShare ?? 1) < STARVED_SHARE ? undefined : unsampledNote(functions, targets.some((t) => t.kind === 'cell') ? asked ?? SAMPLE_INTERVAL_US : interval);
      const notes = [...targets.map((t, i) => classNotReachedNote(t, functions[i].lines.some((l) => (l.hits ?? 0) > 0))), unsampled, ...busy];
      for (const n of notes) if (n) ctx.display.bundle({ 'text/plain': n, 'text/html': `<p class="tsprof-note">${escapeHtml(n)}</p>` });
    }
    if (!opts.r) return undefined;
    displaysAs(result, () => text);
    return result;
  },
};
