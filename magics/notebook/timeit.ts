// %timeit / %%timeit: IPython's flags and output, over the timing engine (engines/timing.ts) and its
// renderer (render/timing.ts); `await` allowed; a compare mode for variants.
import { intOption, parseOptions } from './argv.js';
import { thousands } from '../render/format.js';
import { chartBundle } from '../render/vegalite.js';
import { compareChart, compareHtml, runsChart, shownEmptyLoop, timeitHtml, timeitText } from '../render/timing.js';
import { compareStatements, timeStatement, type Clock, type CompareResult, type TimeitResult, type TimingOptions } from '../engines/timing.js';
import { userGlobal } from '../engines/host.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';
import type { MimeBundle } from '../../kernel/wire/message.js';

export interface TimeitFlags {
  loops: number;
  repeat: number;
  clock: Clock;
  precision: number;
  quiet: boolean;
  returnResult: boolean;
  /** -v NAME: store the result in this variable. */
  saveTo: string | undefined;
  compare: boolean;
}

const OPTIONS: OptionSpec[] = [
  { name: 'n', value: true, metavar: 'N', help: 'execute the statement N times in a loop (default: 1, 10, 100, … until a run takes ≥ 0.2 s)' },
  { name: 'r', value: true, metavar: 'R', help: 'repeat the loop R times and take statistics over the runs (default 7)' },
  { name: 't', help: 'use the wall clock (Date.now) instead of the monotonic high-resolution clock' },
  { name: 'c', help: 'use CPU time of the process (process.cpuUsage, user + system)' },
  { name: 'p', value: true, metavar: 'P', help: 'significant digits in the result (default 3)' },
  { name: 'q', help: 'quiet: show nothing' },
  { name: 'o', help: 'return a TimeitResult (loops, repeat, best, worst, all_runs, timings, average, stdev, median, min, max, opsPerSec, compile_time, emptyLoop, warnings)' },
  { name: 'v', value: true, metavar: 'V', help: 'like -o, but store the TimeitResult in the variable V' },
  { name: 'compare', help: '%%timeit only: time each variant in the cell body (one per line, or blocks headed by `// label`) and rank them' },
];

function parse(args: string): { flags: TimeitFlags; rest: string } {
  const { opts, rest } = parseOptions(args, OPTIONS, 'timeit');
  if (opts.t && opts.c) throw new UsageError('%timeit: -t and -c choose different clocks; give one');
  const saveTo = opts.v === undefined ? undefined : String(opts.v);
  if (saveTo !== undefined && !/^[A-Za-z_$][\w$]*$/.test(saveTo)) throw new UsageError(`%timeit: -v needs a variable name, got ${JSON.stringify(saveTo)}`);
  return {
    flags: {
      loops: intOption(opts, 'n', 'timeit', 1) ?? 0,
      repeat: intOption(opts, 'r', 'timeit', 1) ?? 7,
      clock: opts.c ? 'cpu' : opts.t ? 'wall' : 'perf',
      precision: intOption(opts, 'p', 'timeit', 1) ?? 3,
      quiet: Boolean(opts.q),
      returnResult: Boolean(opts.o),
      saveTo,
      compare: Boolean(opts.compare),
    },
    rest,
  };
}

/**
 * The result as two outputs: the line and table, then the chart. Front ends show one MIME type per
 * output, and JupyterLab ranks HTML above Vega-Lite, so a chart sharing an output with a table
 * would never be seen.
 */
async function resultBundles(r: TimeitResult): Promise<MimeBundle[]> {
  const runs = shownEmptyLoop(r) ? `${r.repeat} runs, each beside an empty loop` : `${r.repeat} runs`;
  return [
    { 'text/plain': timeitText(r), 'text/html': timeitHtml(r) },
    await chartBundle(runsChart(r), `[chart: time per loop in each of the ${runs}]`),
  ];
}

/** Progress shown in place while a long measurement runs; the result replaces it. */
function progress(ctx: MagicContext, label: () => string) {
  const started = performance.now();
  let handle: ReturnType<MagicContext['display']['handle']> | undefined;
  return {
    // Only measurements that take a while get a progress line; quick ones show just the result.
    onRun(done: number, total: number, loops: number) {
      if (done === total || (!handle && performance.now() - started < 1000)) return;
      const text = `${label()}run ${done}/${total} done (${thousands(loops)} loops each)…`;
      if (handle) handle.update(text);
      else (handle = ctx.display.handle()).display(text);
    },
    finish(bundles: MimeBundle[]) {
      const [first, ...rest] = bundles;
      if (handle) handle.update(first, { raw: true });
      else if (first) ctx.display.bundle(first);
      for (const b of rest) ctx.display.bundle(b);
    },
  };
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

const SLOT = Symbol.for('tsprof.timeit.result');

/** IPython's -v: the result in a user variable (assigned, or redeclared when it is a const). */
async function saveResult(ctx: MagicContext, name: string, value: unknown): Promise<void> {
  (userGlobal as unknown as Record<symbol, unknown>)[SLOT] = value;
  const read = `globalThis[Symbol.for('tsprof.timeit.result')]`;
  try {
    await ctx.runCode(`${name} = ${read};`);
  } catch (e) {
    if (!/constant/.test(String((e as Error).message))) throw e;
    await ctx.runCode(`const ${name} = ${read};`);
  } finally {
    delete (userGlobal as unknown as Record<symbol, unknown>)[SLOT];
  }
}

async function timeOne(ctx: MagicContext, stmt: string, setup: string, flags: TimeitFlags): Promise<TimeitResult> {
  const shown = flags.quiet ? undefined : progress(ctx, () => '');
  const options: TimingOptions & { setup: string } = { loops: flags.loops, repeat: flags.repeat, clock: flags.clock, precision: flags.precision, setup, onRun: shown?.onRun };
  const result = await timeStatement(ctx, stmt, options);
  if (shown) shown.finish(await resultBundles(result));
  displaysAs(result, () => result.toString());
  return result;
}

async function compare(ctx: MagicContext, setup: string, body: string, flags: TimeitFlags): Promise<CompareResult> {
  const variants = splitVariants(body);
  if (variants.length < 2) throw new UsageError('%%timeit --compare needs at least two variants (one per line, or blocks headed by `// label`)');
  let current = '';
  const shown = flags.quiet ? undefined : progress(ctx, () => `${current}: `);
  const result = await compareStatements(ctx, variants, {
    loops: flags.loops, repeat: flags.repeat, clock: flags.clock, precision: flags.precision, setup, onRun: shown?.onRun, onVariant: (label) => (current = label),
  });
  for (const v of result.variants) displaysAs(v.result, () => v.result.toString());
  if (shown) shown.finish([{ 'text/plain': result.toString(), 'text/html': compareHtml(result) }, await chartBundle(compareChart(result), `[chart: mean time per loop of ${result.variants.length} variants]`)]);
  displaysAs(result, () => result.toString());
  return result;
}

export const timeit: Magic = {
  name: 'timeit',
  kinds: ['line', 'cell'],
  summary: 'Time a statement: the mean ± std. dev. of R runs of N loops, as IPython does, with `await` allowed.',
  usage: '%timeit [-n N] [-r R] [-t | -c] [-p P] [-q] [-o | -v V] statement\n%%timeit [-n N] [-r R] [-t | -c] [-p P] [-q] [-o | -v V] [--compare] [setup]\nbody',
  options: OPTIONS,
  details: `The statement is compiled into the timing loop (no function call per iteration) in the notebook's
global scope: it sees the variables and functions of earlier cells. It must be valid on its own (a
\`return\` or \`break\` is a SyntaxError, as in IPython). In cell mode the first line (after the options)
is setup, run once per run and not timed. Without -n, the loop count grows 1, 10, 100, … until a run
takes at least 0.2 s (these calibration runs are the warm-up); with -n the statement runs exactly
N × R times. GC runs before every run. An empty loop with the same N is timed right after each run;
a statement whose fastest run is within 1.4× of the empty loop's is flagged as likely optimized out
(under 1 μs per loop, the table and chart show the empty loop too). Compare: %%timeit --compare, then one variant per
line or blocks headed by "// label"; each is timed the same way and ranked fastest first.`,
  async run(ctx, call) {
    const { flags, rest } = parse(call.args);
    const cellMode = call.body !== undefined;
    if (flags.compare && !cellMode) throw new UsageError('%timeit: --compare works with %%timeit (one variant per line in the cell body)');
    const setup = cellMode ? rest : '';
    const stmt = cellMode ? call.body! : rest;
    if (!stmt.trim()) throw new UsageError(`%timeit: no statement to time\nusage: ${timeit.usage.split('\n')[0]}`);
    const result = flags.compare ? await compare(ctx, setup, stmt, flags) : await timeOne(ctx, stmt, setup, flags);
    if (flags.saveTo) await saveResult(ctx, flags.saveTo, result);
    return flags.returnResult ? result : undefined;
  },
};
