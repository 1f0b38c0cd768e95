// %prun / %%prun: the statement under V8's sampling CPU profiler, shown as pstats shows cProfile,
// with exact call counts on request (a second pass under precise coverage), a flame graph, a
// top-N chart, and a `.cpuprofile` for DevTools / speedscope.
import { writeFileSync } from 'node:fs';
import { intOption, parseOptions, statementOf } from './argv.js';
import { escapeHtml, thousands } from '../render/format.js';
import { addCallCounts, functionStats, labelOf, limitRows, pstatsText, sortRows, type FunctionStats } from '../engines/pstats.js';
import { PROFILE_MIME, type FlameNode, type ProfileBundle } from '../render/profile-bundle.js';
import { htmlTable } from '../render/html.js';
import { flameLayout, flameSpec, topSpec } from '../render/flame.js';
import { chartBundle } from '../render/vegalite.js';
import { PACKAGE_DIST_URL, toCpuProfile, userProfile, type UserProfile } from '../engines/v8/calltree.js';
import { DEFAULT_INTERVAL_US, withCpuProfile, withPreciseCoverage } from '../engines/v8/cpu.js';
import type { CpuProfile } from '../engines/v8/inspector.js';
import { SourceIndex, displayFile } from '../engines/v8/sources.js';
import { type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const OPTIONS: OptionSpec[] = [
  { name: 's', value: true, repeat: true, metavar: 'KEY', help: 'sort by KEY (repeatable): time (default), cumulative, calls, name, file, line, stdname, nfl; pstats aliases tottime, cumtime, ncalls, filename' },
  { name: 'l', value: true, repeat: true, metavar: 'LIMIT', help: 'restrict rows (repeatable, in order): an integer count, a fraction like 0.25, or a regex on filename:lineno(function)' },
  { name: 'r', help: 'return the profile object (rows, the .cpuprofile, the text)' },
  { name: 'T', value: true, metavar: 'FILE', help: 'also write the text report to FILE' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write a .cpuprofile to FILE (opens in Chrome DevTools and speedscope)' },
  { name: 'q', help: 'quiet: show nothing (use with -r, -T or -D)' },
  { name: 'c', help: 'count calls exactly: runs the statement a second time under V8 precise call counting (slower; never mixed with the timing run)' },
  { name: 'i', value: true, metavar: 'US', help: `sampling interval in microseconds (default ${DEFAULT_INTERVAL_US}; V8's floor is about 80)` },
];

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
  ) {}

  /** Row of the first function with this name. */
  get(name: string): FunctionStats | undefined {
    return this.rows.find((r) => r.fn.name === name);
  }

  toString(): string {
    return this.text;
  }
}

function htmlRows(rows: FunctionStats[]): string {
  const f = (x: number): string => x.toFixed(3);
  return htmlTable(rows, [
    { header: 'ncalls', cell: (r) => (r.ncalls === undefined ? '-' : thousands(r.ncalls)) },
    { header: 'tottime', cell: (r) => f(r.tottime) },
    { header: 'percall', cell: (r) => (r.ncalls ? (r.tottime / r.ncalls).toExponential(2) : '-') },
    { header: 'cumtime', cell: (r) => f(r.cumtime) },
    { header: 'percall', cell: (r) => (r.ncalls ? (r.cumtime / r.ncalls).toExponential(2) : '-') },
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

async function showProfile(ctx: MagicContext, up: UserProfile, rows: FunctionStats[], text: string, header: string, wall: number, exact: boolean): Promise<void> {
  const calls = new Map(rows.filter((r) => r.ncalls !== undefined).map((r) => [r.fn.key, r.ncalls!]));
  const bundle: ProfileBundle = {
    version: 1, kind: 'prun', title: '%prun', header, wall, exactCounts: exact,
    rows: rows.map((r) => ({ label: r.label, name: r.fn.name, file: r.file, line: r.line, ncalls: r.ncalls, tottime: r.tottime, cumtime: r.cumtime, samples: r.samples })),
    flame: flameTree(up.root, calls),
  };
  ctx.display.bundle({ [PROFILE_MIME]: bundle, 'text/plain': text, 'text/html': `<div class="tsprof-prun"><p><code>${escapeHtml(header)}</code></p>${htmlRows(rows)}</div>` });
  const cells = flameLayout(up.root);
  if (cells.length) {
    const flame = flameSpec(cells, 'flame graph (callers above callees; width = time)');
    ctx.display.bundle(await chartBundle(flame, `flame graph: ${cells.length} frames`, 'prun'));
    const byTime = [...rows].sort((a, b) => b.tottime - a.tottime).filter((r) => r.tottime > 0);
    if (byTime.length) ctx.display.bundle(await chartBundle(topSpec(byTime), `top ${Math.min(15, byTime.length)} functions by self time`, 'prun'));
  }
}

export const prun: Magic = {
  name: 'prun',
  kinds: ['line', 'cell'],
  summary: "Profile a statement with V8's sampling CPU profiler and show it the way pstats shows cProfile.",
  usage: '%prun [-s KEY] [-l LIMIT] [-r] [-T FILE] [-D FILE] [-q] [-c] [-i US] statement\n%%prun [options]\nbody',
  options: OPTIONS,
  details: `Times come from sampling (every -i microseconds, 500 by default: measured 0-4% cost at 1000 µs, 5-20% at 100 µs), so a function that never
ran during a sample has no time; tottime is time on top of the stack, cumtime anywhere on it (recursion
counted once). ncalls needs -c: a second run of the statement under precise coverage counts every call
exactly. Cell functions show as cell-N:LINE(name) with the TypeScript line; the kernel's own frames are
removed. The statement runs in the notebook's scope, so its assignments stay.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'prun');
    const { stmt, firstLine } = statementOf(prun, call, rest);
    const interval = intOption(opts, 'i', 'prun', 1) ?? DEFAULT_INTERVAL_US;
    const sortKeys = (opts.s as string[] | undefined) ?? ['time'];
    const limits = (opts.l as string[] | undefined) ?? [];

    const statement = ctx.prepareCode(stmt, firstLine);
    const run = await withCpuProfile(interval, statement);
    const up = userProfile(run.profile, interval);
    const stats = functionStats(up);
    const exact = Boolean(opts.c);
    if (exact) {
      const { coverage } = await withPreciseCoverage(false, statement);
      addCallCounts(stats, coverage, new SourceIndex(ctx.sources), PACKAGE_DIST_URL);
    }
    const all = [...stats.values()];
    const { rows: sorted, orderedBy } = sortRows(all, sortKeys);
    const rows = limitRows(sorted, limits);
    const header = exact
      ? `${all.reduce((a, r) => a + (r.ncalls ?? 0), 0)} function calls in ${run.wall.toFixed(3)} seconds`
      : `${up.sampleCount} samples every ${interval} µs (${(up.sampled / 1e3).toFixed(1)} ms sampled) in ${run.wall.toFixed(3)} seconds`;
    const restricted = rows.length < sorted.length ? `List reduced from ${sorted.length} to ${rows.length} due to restriction <${limits.map((l) => JSON.stringify(l)).join(', ')}>` : undefined;
    const text = pstatsText(rows, header, orderedBy, restricted);
    const cpuprofile = toCpuProfile(up, run.profile);
    if (typeof opts.T === 'string') {
      writeFileSync(opts.T, text);
      process.stdout.write(`*** Profile printout saved to text file '${opts.T}'.\n`);
    }
    if (typeof opts.D === 'string') {
      writeFileSync(opts.D, JSON.stringify(cpuprofile));
      process.stdout.write(`*** Profile stats saved to '${opts.D}' (open it in Chrome DevTools or speedscope).\n`);
    }
    if (!opts.q) await showProfile(ctx, up, rows, text, header, run.wall, exact);
    if (!opts.r) return undefined;
    const result = new ProfileResult(sorted, cpuprofile, text, run.wall, up.sampleCount, interval, exact);
    displaysAs(result, () => text);
    return result;
  },
};
