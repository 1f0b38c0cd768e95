// %prun / %%prun: the statement run once with exact call counts and sampled times (the
// call-profile engine), shown as pstats shows cProfile, with a flame graph, a top-N chart, and a
// `.cpuprofile` for DevTools / speedscope.
import { writeFileSync } from 'node:fs';
import { intOption, parseOptions, statementOf } from './argv.js';
import { escapeHtml, thousands } from '../render/format.js';
import { labelOf, limitRows, pstatsText, sortRows, type FunctionStats } from '../engines/pstats.js';
import { countStatement } from '../engines/call-counts.js';
import { lineStarts } from '../engines/v8/lines.js';
import { callHeader, FINE_INTERVAL_US, FINE_PHASE_MS, profileCalls, samplingNote, type CallProfile } from '../engines/call-profile.js';
import { PROFILE_MIME, type FlameNode, type ProfileBundle } from '../render/profile-bundle.js';
import { htmlTable } from '../render/html.js';
import { flameLayout, flameSpec, topSpec } from '../render/flame.js';
import { chartBundle } from '../render/vegalite.js';
import { toCpuProfile, type UserProfile } from '../engines/v8/calltree.js';
import { DEFAULT_INTERVAL_US } from '../engines/v8/cpu.js';
import type { CpuProfile } from '../engines/v8/inspector.js';
import { displayFile } from '../engines/v8/sources.js';
import { type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';
import { ProfileResult } from '../engines/call-profile.js';

// The engine's result, where other modules have imported it from.
export { ProfileResult } from '../engines/call-profile.js';

const OPTIONS: OptionSpec[] = [
  { name: 's', value: true, repeat: true, metavar: 'KEY', help: 'sort by KEY (repeatable): time (default), cumulative, calls, name, file, line, stdname, nfl; pstats aliases tottime, cumtime, ncalls, filename' },
  { name: 'l', value: true, repeat: true, metavar: 'LIMIT', help: 'restrict rows (repeatable, in order): an integer count, a fraction like 0.25, or a regex on filename:lineno(function)' },
  { name: 'r', help: 'return the profile object (rows, the .cpuprofile, the text)' },
  { name: 'T', value: true, metavar: 'FILE', help: 'also write the text report to FILE' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write a .cpuprofile to FILE (opens in Chrome DevTools and speedscope)' },
  { name: 'q', help: 'quiet: show nothing (use with -r, -T or -D)' },
  { name: 'c', help: "count the calls of every script's functions too (files, packages), with V8's precise coverage in the same run (about 2x slower); the cells' functions are always counted" },
  { name: 'i', value: true, metavar: 'US', help: `sampling interval in microseconds, throughout (default: every ${FINE_INTERVAL_US} µs for the first ${FINE_PHASE_MS} ms, then every ${DEFAULT_INTERVAL_US})` },
];

function htmlRows(rows: FunctionStats[]): string {
  const f = (x: number): string => x.toFixed(3);
  return htmlTable(rows, [
    { header: 'ncalls', cell: (r) => (r.ncalls === undefined ? '-' : r.pcalls !== undefined && r.pcalls !== r.ncalls ? `${thousands(r.ncalls)}/${thousands(r.pcalls)}` : thousands(r.ncalls)) },
    { header: 'tottime', cell: (r) => f(r.tottime) },
    { header: 'percall', cell: (r) => (r.ncalls ? (r.tottime / r.ncalls).toExponential(2) : '-') },
    { header: 'cumtime', cell: (r) => f(r.cumtime) },
    { header: 'percall', cell: (r) => ((r.pcalls ?? r.ncalls) ? (r.cumtime / (r.pcalls ?? r.ncalls)!).toExponential(2) : '-') },
    { header: 'samples', cell: (r) => r.samples },
    { header: 'filename:lineno(function)', cell: (r) => `<code>${escapeHtml(r.label)}</code>`, align: 'left', html: true },
  ]);
}

/** The call tree for the extension's flame graph (ms), with exact calls where counted. */
function flameTree(n: UserProfile['root'], calls: Map<string, number>): FlameNode {
  const label = n.fn.key === '(root)' ? 'all' : labelOf(n.fn);
  return {
    name: n.fn.name, label, file: n.fn.key === '(root)' ? '' : displayFile(n.fn.url), line: n.fn.line + 1,
    selfMs: n.self / 1e3, totalMs: n.total / 1e3, calls: calls.get(n.fn.key),
    children: [...n.children.values()].sort((a, b) => b.total - a.total).map((c) => flameTree(c, calls)),
  };
}

/** Under this many samples a flame graph is a sketch, and says so. */
const FEW_SAMPLES = 10;

/** What the reader needs to know to trust the table: what is not counted, and when times are thin. */
function prunNotes(cp: CallProfile, rows: FunctionStats[], statementUrls: string[]): string[] {
  const notes = [...cp.notes];
  const uncounted = rows.filter((r) => r.ncalls === undefined);
  if (uncounted.some((r) => statementUrls.includes(r.fn.url))) notes.push("ncalls '-' on the statement's own lines: the functions of a statement that holds a magic line are not counted (define them in a cell before %prun)");
  if (!cp.coverageUsed && uncounted.some((r) => !statementUrls.includes(r.fn.url))) notes.push("ncalls '-': a function outside the notebook's cells (a file or a package); %prun -c counts those too, at about 2x the run time");
  const n = cp.tree.sampleCount;
  if (n === 0) notes.push(`No sample landed in the statement (it ran ${(cp.wall * 1e3).toFixed(2)} ms): tottime and cumtime read 0; the call counts are exact. A smaller -i samples more often.`);
  else if (n < FEW_SAMPLES) notes.push(`Only ${n} sample${n === 1 ? '' : 's'}: the times are rough (each sample stands for ~${(cp.tree.sampled / n / 1e3).toFixed(2)} ms).`);
  return notes;
}

async function showProfile(ctx: MagicContext, up: UserProfile, rows: FunctionStats[], text: string, header: string, wall: number, exact: boolean, notes: string[]): Promise<void> {
  const calls = new Map(rows.filter((r) => r.ncalls !== undefined).map((r) => [r.fn.key, r.ncalls!]));
  const bundle: ProfileBundle = {
    version: 1, kind: 'prun', title: '%prun', header, wall, exactCounts: exact,
    rows: rows.map((r) => ({ label: r.label, name: r.fn.name, file: r.file, line: r.line, ncalls: r.ncalls, pcalls: r.pcalls, tottime: r.tottime, cumtime: r.cumtime, samples: r.samples })),
    flame: flameTree(up.root, calls), samples: up.sampleCount, notes,
  };
  const notesHtml = notes.map((n) => `<p class="tsprof-note">${escapeHtml(n)}</p>`).join('');
  ctx.display.bundle({ [PROFILE_MIME]: bundle, 'text/plain': text, 'text/html': `<div class="tsprof-prun"><p><code>${escapeHtml(header)}</code></p>${htmlRows(rows)}${notesHtml}</div>` });
  const cells = flameLayout(up.root);
  if (cells.length) {
    const few = up.sampleCount < FEW_SAMPLES ? ` — from ${up.sampleCount} sample${up.sampleCount === 1 ? '' : 's'} only: a sketch, not a measurement` : '';
    const flame = flameSpec(cells, `flame graph (callers above callees; width = time; ${(up.root.total / 1e3).toFixed(2)} ms sampled)${few}`);
    ctx.display.bundle(await chartBundle(flame, `flame graph: ${cells.length} frames from ${up.sampleCount} samples`, 'prun'));
    const byTime = [...rows].sort((a, b) => b.tottime - a.tottime).filter((r) => r.tottime > 0);
    if (byTime.length) ctx.display.bundle(await chartBundle(topSpec(byTime), `top ${Math.min(15, byTime.length)} functions by self time`, 'prun'));
  }
}

export const prun: Magic = {
  name: 'prun',
  kinds: ['line', 'cell'],
  summary: "Profile a statement: exact calls of the cells' functions and sampled times, shown the way pstats shows cProfile.",
  usage: '%prun [-s KEY] [-l LIMIT] [-r] [-T FILE] [-D FILE] [-q] [-c] [-i US] statement\n%%prun [options]\nbody',
  options: OPTIONS,
  details: `One run gives every figure. ncalls is exact for every function defined in a notebook cell: a counter
is compiled into each of them for the run (V8 LiveEdit; the originals are put back after), and a
recursive function shows total/primitive calls (242785/1) as cProfile does; -c counts the functions of
files and packages as well. Times are sampled: every ${FINE_INTERVAL_US} µs for the first ${FINE_PHASE_MS} ms (a 1 ms statement
still gets samples), then every ${DEFAULT_INTERVAL_US} µs (-i sets one interval throughout). tottime is time on top of
the stack, cumtime anywhere on it (recursion counted once); both stay within the statement's wall time.
Cell functions show as cell-N:LINE(name) with the TypeScript line; the kernel's own frames are
removed. The statement runs in the notebook's scope, so its assignments stay.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'prun');
    const { stmt, firstLine } = statementOf(prun, call, rest);
    const givenInterval = intOption(opts, 'i', 'prun', 1);
    const interval = givenInterval ?? DEFAULT_INTERVAL_US;
    const sortKeys = (opts.s as string[] | undefined) ?? ['time'];
    const limits = (opts.l as string[] | undefined) ?? [];
    // Checked before the statement runs: a typo must not cost a long run.
    sortRows([], sortKeys);
    limitRows([], limits);

    const before = new Set(ctx.sources.keys());
    // Functions the statement defines carry counters of their own (cells' functions get theirs by LiveEdit).
    const own = countStatement(stmt);
    const statement = ctx.prepareCode(own?.code ?? stmt, firstLine);
    const statementUrls = [...ctx.sources.keys()].filter((u) => !before.has(u));
    const pad = Math.max(0, firstLine - 1);
    const statementCounts = own && statementUrls.length === 1
      ? () => ({ counted: own.read(statementUrls[0], pad), url: statementUrls[0], lineStarts: lineStarts('\n'.repeat(pad) + own.code) })
      : undefined;
    const mentioned = new Set(stmt.match(/[A-Za-z_$][\w$]*/g) ?? []);
    const cp = await profileCalls(statement, ctx.sources, { intervalUs: interval, fixedInterval: givenInterval !== undefined, countCells: true, coverage: Boolean(opts.c), statementCounts, mentioned });
    // The statement's own script ran once, as cProfile's `<string>:1(<module>)`.
    for (const r of cp.stats.values()) if (statementUrls.includes(r.fn.url) && r.fn.line === 0 && r.fn.column === 0 && r.ncalls === undefined) r.ncalls = 1;
    const up = cp.tree;
    const all = [...cp.stats.values()];
    const { rows: sorted, orderedBy } = sortRows(all, sortKeys);
    const rows = limitRows(sorted, limits);
    const header = callHeader(all, cp.wall, true, up, cp.intervals);
    const notes = [samplingNote(up, cp.intervals, cp.wall, givenInterval !== undefined), ...prunNotes(cp, rows, statementUrls)];
    const restricted = rows.length < sorted.length ? `List reduced from ${sorted.length} to ${rows.length} due to restriction <${limits.map((l) => JSON.stringify(l)).join(', ')}>` : undefined;
    const text = pstatsText(rows, header, orderedBy, restricted) + notes.map((n) => `   ${n}\n`).join('');
    const cpuprofile = toCpuProfile(up, cp.profile);
    if (typeof opts.T === 'string') {
      writeFileSync(opts.T, text);
      process.stdout.write(`*** Profile printout saved to text file '${opts.T}'.\n`);
    }
    if (typeof opts.D === 'string') {
      writeFileSync(opts.D, JSON.stringify(cpuprofile));
      const empty = up.sampleCount === 0 ? ` It holds no samples: the statement ran ${(cp.wall * 1e3).toFixed(2)} ms and no sample landed in it (sampling every ${cp.intervals.join(' then ')} µs); the call counts are in the table.` : '';
      process.stdout.write(`*** Profile stats saved to '${opts.D}' (open it in Chrome DevTools or speedscope).${empty}\n`);
    }
    if (!opts.q) await showProfile(ctx, up, rows, text, header, cp.wall, true, notes);
    if (!opts.r) return undefined;
    const result = new ProfileResult(sorted, cpuprofile, text, cp.wall, up.sampleCount, cp.intervals[cp.intervals.length - 1], true, header, notes, cp.intervals);
    displaysAs(result, () => text);
    return result;
  },
};
