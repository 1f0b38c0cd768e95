// %timeit / %%timeit: IPython's flags and output line, a statement compiled into its loop,
// `await` allowed, rich table + chart, and a compare mode for variants.
import { intOption, parseOptions } from './argv.js';
import { escapeHtml, formatTime, thousands } from '../render/format.js';
import { htmlNotes, htmlTable } from '../render/html.js';
import { chartBundle, spec } from '../render/vegalite.js';
import { compileStatement, loopFloor, measure, TimeitResult, type Clock, type CompiledStatement } from '../engines/timing.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import type { EngineHost } from '../engines/host.js';
import { displaysAs } from '../../kernel/session/mime.js';
import type { MimeBundle } from '../../kernel/wire/message.js';

export interface TimeitOptions {
  loops: number;
  repeat: number;
  clock: Clock;
  precision: number;
  quiet: boolean;
  returnResult: boolean;
  compare: boolean;
}

const OPTIONS: OptionSpec[] = [
  { name: 'n', value: true, metavar: 'N', help: 'execute the statement N times in a loop (default: 1, 10, 100, … until a run takes ≥ 0.2 s)' },
  { name: 'r', value: true, metavar: 'R', help: 'repeat the loop R times and take statistics over the runs (default 7)' },
  { name: 't', help: 'use the wall clock (Date.now) instead of the monotonic high-resolution clock' },
  { name: 'c', help: 'use CPU time of the process (process.cpuUsage, user + system)' },
  { name: 'p', value: true, metavar: 'P', help: 'significant digits in the result (default 3)' },
  { name: 'q', help: 'quiet: show nothing' },
  { name: 'o', help: 'return a TimeitResult (loops, repeat, best, worst, all_runs, timings, average, stdev, median, min, max, opsPerSec, compile_time)' },
  { name: 'compare', help: '%%timeit only: time each variant in the cell body (one per line, or blocks headed by `// label`) and rank them' },
];

function parse(args: string): { opts: TimeitOptions; rest: string } {
  const { opts, rest } = parseOptions(args, OPTIONS, 'timeit');
  if (opts.t && opts.c) throw new UsageError('%timeit: -t and -c choose different clocks; give one');
  return {
    opts: {
      loops: intOption(opts, 'n', 'timeit', 1) ?? 0,
      repeat: intOption(opts, 'r', 'timeit', 1) ?? 7,
      clock: opts.c ? 'cpu' : opts.t ? 'wall' : 'perf',
      precision: intOption(opts, 'p', 'timeit', 1) ?? 3,
      quiet: Boolean(opts.q),
      returnResult: Boolean(opts.o),
      compare: Boolean(opts.compare),
    },
    rest,
  };
}

/** Warnings IPython prints, plus the "optimized out" check in the mitata spirit (the CLI prints them too). */
export async function warnings(ctx: EngineHost, r: TimeitResult, compiled: CompiledStatement, clock: Clock): Promise<string[]> {
  const notes: string[] = [];
  if (r.worst > 4 * r.best && r.best > 0 && r.worst > 1e-6) {
    notes.push(`The slowest run took ${(r.worst / r.best).toFixed(2)} times longer than the fastest. This could mean that an intermediate result is being cached.`);
  }
  if (r.average < 1e-6) {
    const floor = await loopFloor(ctx, compiled, clock, r.best);
    if (floor.statement < 1.4 * floor.empty) notes.push(`The statement costs about as much as an empty loop (${formatTime(floor.statement)} against ${formatTime(floor.empty)} per iteration): it was likely optimized out. Use its result (e.g. assign it to an outer variable) to measure it.`);
  }
  if (r.compile_time > 0.1) notes.push(`Compiler time: ${r.compile_time.toFixed(2)} s`);
  return notes;
}

function resultTable(r: TimeitResult): string {
  const f = (s: number): string => formatTime(s, r.precision);
  return htmlTable([r], [
    { header: 'mean', cell: (x) => f(x.average) },
    { header: 'std. dev.', cell: (x) => f(x.stdev) },
    { header: 'min', cell: (x) => f(x.min) },
    { header: 'median', cell: (x) => f(x.median) },
    { header: 'max', cell: (x) => f(x.max) },
    { header: 'runs × loops', cell: (x) => `${x.repeat} × ${thousands(x.loops)}` },
    { header: 'ops/s', cell: (x) => thousands(x.opsPerSec) },
  ]);
}

/** Per-run time per loop as bars, with the mean as a rule. */
export function runsChart(r: TimeitResult) {
  const values = r.timings.map((t, i) => ({ run: i + 1, us: t * 1e6 }));
  return spec({
    title: 'time per loop, each run',
    width: 320,
    height: 120,
    data: { values },
    layer: [
      { mark: { type: 'bar', color: '#3178c6' }, encoding: { x: { field: 'run', type: 'ordinal', title: 'run' }, y: { field: 'us', type: 'quantitative', title: 'µs per loop' }, tooltip: [{ field: 'run' }, { field: 'us', title: 'µs per loop', format: '.4g' }] } },
      { mark: { type: 'rule', color: '#d62728' }, encoding: { y: { aggregate: 'mean', field: 'us', type: 'quantitative' } } },
    ],
  });
}

/**
 * The result as two outputs: the line and table, then the chart. Front ends show one MIME type per
 * output, and JupyterLab ranks HTML above Vega-Lite, so a chart sharing an output with a table
 * would never be seen.
 */
async function resultBundles(r: TimeitResult, notes: string[]): Promise<MimeBundle[]> {
  const line = r.toString();
  return [
    { 'text/plain': [...notes, line].join('\n'), 'text/html': `<div class="tsprof-timeit"><p><code>${escapeHtml(line)}</code></p>${resultTable(r)}${htmlNotes(notes)}</div>` },
    await chartBundle(runsChart(r), `[chart: time per loop in each of the ${r.repeat} runs]`),
  ];
}

/** A TimeitResult that displays as its line, the way IPython's does. */
function withDisplay(r: TimeitResult): TimeitResult {
  displaysAs(r, () => r.toString());
  return r;
}

/** Progress shown in place while a long measurement runs; the result replaces it. */
function progress(ctx: MagicContext, label: string) {
  const started = performance.now();
  let handle: ReturnType<MagicContext['display']['handle']> | undefined;
  return {
    // Only measurements that take a while get a progress line; quick ones show just the result.
    onRun(done: number, total: number, loops: number) {
      if (done === total || (!handle && performance.now() - started < 1000)) return;
      const text = `${label}run ${done}/${total} done (${thousands(loops)} loops each)…`;
      if (handle) handle.update(text);
      else (handle = ctx.display.handle()).display(text);
    },
    finish(bundles: MimeBundle[]) {
      const [first, ...rest] = bundles;
      if (handle) handle.update(first, { raw: true });
      else ctx.display.bundle(first);
      for (const b of rest) ctx.display.bundle(b);
    },
  };
}

export async function timeStatement(ctx: MagicContext, stmt: string, setup: string, opts: TimeitOptions, label = ''): Promise<TimeitResult> {
  const compiled = compileStatement(ctx, stmt, setup, opts.clock);
  const shown = opts.quiet ? undefined : progress(ctx, label);
  const result = await measure(ctx, compiled, { loops: opts.loops, repeat: opts.repeat, clock: opts.clock, precision: opts.precision, onRun: shown?.onRun });
  if (shown) shown.finish(await resultBundles(result, await warnings(ctx, result, compiled, opts.clock)));
  return withDisplay(result);
}

/** Variants of a compare cell: `// label` headed blocks, or one per non-empty line. */
export function splitVariants(body: string): Array<{ label: string; code: string }> {
  const lines = body.split('\n');
  const headed = lines.some((l) => /^\s*\/\/\s*\S/.test(l));
  if (!headed) return lines.filter((l) => l.trim()).map((l) => ({ label: l.trim(), code: l }));
  const variants: Array<{ label: string; code: string }> = [];
  for (const l of lines) {
    const h = /^\s*\/\/\s*(.+?)\s*$/.exec(l);
    if (h) variants.push({ label: h[1], code: '' });
    else if (variants.length) variants.at(-1)!.code += `${l}\n`;
    else if (l.trim()) throw new UsageError('%%timeit --compare: code before the first `// label` line');
  }
  return variants.filter((v) => v.code.trim());
}

export class CompareResult {
  constructor(readonly variants: Array<{ label: string; result: TimeitResult; ratio: number }>) {}
  toString(): string {
    const w = Math.max(...this.variants.map((v) => v.label.length));
    return this.variants.map((v) => `${v.label.padEnd(w)}  ${v.result.toString()}  ${v.ratio === 1 ? 'fastest' : `${v.ratio.toFixed(2)}× slower`}`).join('\n');
  }
}

async function compare(ctx: MagicContext, setup: string, body: string, opts: TimeitOptions): Promise<CompareResult> {
  const variants = splitVariants(body);
  if (variants.length < 2) throw new UsageError('%%timeit --compare needs at least two variants (one per line, or blocks headed by `// label`)');
  const measured: Array<{ label: string; result: TimeitResult }> = [];
  for (const v of variants) measured.push({ label: v.label, result: await timeStatement(ctx, v.code, setup, { ...opts, quiet: true }, `${v.label}: `) });
  measured.sort((a, b) => a.result.average - b.result.average);
  const fastest = measured[0].result.average;
  const result = new CompareResult(measured.map((m) => ({ ...m, ratio: m.result.average / fastest })));
  if (!opts.quiet) {
    const f = (s: number): string => formatTime(s, opts.precision);
    const table = htmlTable(result.variants, [
      { header: 'variant', cell: (v) => v.label, align: 'left' },
      { header: 'mean ± std. dev.', cell: (v) => `${f(v.result.average)} ± ${f(v.result.stdev)}` },
      { header: 'min', cell: (v) => f(v.result.min) },
      { header: 'median', cell: (v) => f(v.result.median) },
      { header: 'runs × loops', cell: (v) => `${v.result.repeat} × ${thousands(v.result.loops)}` },
      { header: 'vs fastest', cell: (v) => (v.ratio === 1 ? 'fastest' : `${v.ratio.toFixed(2)}× slower`) },
    ]);
    const chart = spec({
      title: 'mean time per loop (lower is faster)',
      width: 360,
      data: { values: result.variants.map((v) => ({ variant: v.label, us: v.result.average * 1e6, sd: v.result.stdev * 1e6, ratio: v.ratio })) },
      layer: [
        { mark: { type: 'bar', color: '#3178c6' }, encoding: { y: { field: 'variant', type: 'nominal', sort: null, title: null }, x: { field: 'us', type: 'quantitative', title: 'µs per loop' }, tooltip: [{ field: 'variant' }, { field: 'us', title: 'µs per loop', format: '.4g' }, { field: 'ratio', title: '× fastest', format: '.2f' }] } },
        { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { y: { field: 'variant', type: 'nominal', sort: null }, x: { field: 'us', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.2f' } } },
      ],
    });
    const text = result.toString();
    ctx.display.bundle({ 'text/plain': text, 'text/html': table });
    ctx.display.bundle(await chartBundle(chart, `[chart: mean time per loop of ${result.variants.length} variants]`));
  }
  displaysAs(result, () => result.toString());
  return result;
}

export const timeit: Magic = {
  name: 'timeit',
  kinds: ['line', 'cell'],
  summary: 'Time a statement: the mean ± std. dev. of R runs of N loops, as IPython does, with `await` allowed.',
  usage: '%timeit [-n N] [-r R] [-t | -c] [-p P] [-q] [-o] statement\n%%timeit [-n N] [-r R] [-t | -c] [-p P] [-q] [-o] [--compare] [setup]\nbody',
  options: OPTIONS,
  details: `The statement is compiled into the timing loop (no function call per iteration) in the notebook's
global scope: it sees the variables and functions of earlier cells. In cell mode the first line (after
the options) is setup, run once per run and not timed. Without -n, the loop count grows 1, 10, 100, …
until a run takes at least 0.2 s (these calibration runs are the warm-up); with -n the statement runs
exactly N × R times. GC runs before every run. A result within 1.4× of an empty loop is flagged as
likely optimized out. Compare: %%timeit --compare, then one variant per line or blocks headed by
"// label"; each is timed the same way and ranked fastest first.`,
  async run(ctx, call) {
    const { opts, rest } = parse(call.args);
    const cellMode = call.body !== undefined;
    if (opts.compare && !cellMode) throw new UsageError('%timeit: --compare works with %%timeit (one variant per line in the cell body)');
    const setup = cellMode ? rest : '';
    const stmt = cellMode ? call.body! : rest;
    if (!stmt.trim()) throw new UsageError(`%timeit: no statement to time\nusage: ${timeit.usage.split('\n')[0]}`);
    const result = opts.compare ? await compare(ctx, setup, stmt, opts) : await timeStatement(ctx, stmt, setup, opts);
    return opts.returnResult ? result : undefined;
  },
};
