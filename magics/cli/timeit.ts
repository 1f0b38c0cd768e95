// `tsprof timeit [-n N] [-r R] [-s SETUP] STATEMENT…`: IPython's %timeit from the shell, with
// `python -m timeit`'s flags — the same timing engine as the magic (statement compiled into its
// loop, autorange, GC before each run), TypeScript and `await` accepted, `-s` may import modules.
import { plural, thousands, toPrecision } from '../render/format.js';
import { CliUsageError, listOpt, numberOpt, stringOpt, type CliOption } from './argv.js';
import { importsAsAwaits, processHost } from '../library/host.js';
import { Progress } from './progress.js';
import { registerHooks } from './runner/register.js';
import { timeStatement } from './engines.js';
import type { Tool } from './tool.js';

const OPTIONS: CliOption[] = [
  { short: 'n', long: 'number', value: true, metavar: 'N', help: 'run the statement N times per run (default: 1, 10, 100, … until a run takes ≥ 0.2 s)' },
  { short: 'r', long: 'repeat', value: true, metavar: 'R', help: 'number of runs (default 7, as IPython)' },
  { short: 's', long: 'setup', value: true, repeat: true, metavar: 'SETUP', help: 'code run once before each run, not timed (repeatable, joined by newlines); `import … from` works' },
  { short: 't', help: 'time with the wall clock (Date.now)' },
  { short: 'c', long: 'process', help: 'time the CPU of this process (user + system) instead of elapsed time (python -m timeit -p)' },
  { short: 'p', long: 'precision', value: true, metavar: 'P', help: 'significant digits in the result (default 3)' },
  { short: 'u', long: 'unit', value: true, metavar: 'UNIT', help: 'print times in nsec, usec, msec or sec (as python -m timeit)' },
  { short: 'q', long: 'quiet', help: 'print only the result line: no warnings, no progress' },
  { long: 'json', help: 'print the result as JSON (IPython\'s TimeitResult fields: loops, repeat, best, worst, all_runs, average, stdev, …)' },
];

const UNITS: Record<string, number> = { nsec: 1e-9, usec: 1e-6, msec: 1e-3, sec: 1 };

/** The result line with times in a fixed unit (`-u`), else IPython's own line. */
function resultLine(r: { average: number; stdev: number; repeat: number; loops: number; toString(): string }, unit: string | undefined, precision: number): string {
  if (!unit) return r.toString();
  const f = (s: number): string => `${toPrecision(s / UNITS[unit], precision)} ${unit}`;
  return `${f(r.average)} ± ${f(r.stdev)} per loop (mean ± std. dev. of ${r.repeat} ${plural(r.repeat, 'run')}, ${thousands(r.loops)} ${plural(r.loops, 'loop')} each)`;
}

export const timeitTool: Tool = {
  name: 'timeit',
  usage: "tsprof timeit [-n N] [-r R] [-s SETUP] [-t | -c] [-p P] [-u UNIT] [-q] [--json] 'STATEMENT' […]",
  summary: 'Time a TypeScript/JavaScript statement: mean ± std. dev. of R runs of N loops, as IPython\'s %timeit prints it.',
  options: OPTIONS,
  details: `Several STATEMENT arguments are joined by newlines, as python -m timeit does. The statement is
compiled into the timing loop (no call per iteration), in this process's global scope; -s code runs
before the loop of every run and may declare what the statement uses, e.g.
  tsprof timeit -s "const a = Array.from({ length: 1e4 }, (_, i) => i)" "a.map((x) => x * 2)"
  tsprof timeit -s "import { primes } from './primes.ts'" "primes(2000)"
\`await\` works in both. Same engine as %timeit: same loop, autorange, GC before each run, same warnings.`,
  async run({ opts, rest }) {
    const stmt = rest.join('\n');
    if (!stmt.trim()) throw new CliUsageError('tsprof timeit: no statement to time (give it as an argument, quoted)');
    if (opts.t && opts.process) throw new CliUsageError('tsprof timeit: -t and -c choose different clocks; give one');
    const unit = stringOpt(opts, 'unit');
    if (unit !== undefined && !(unit in UNITS)) throw new CliUsageError(`tsprof timeit: -u must be one of ${Object.keys(UNITS).join(', ')}, got ${JSON.stringify(unit)}`);
    const precision = numberOpt(opts, 'precision', 'tsprof timeit', { min: 1, integer: true, flag: '-p' }) ?? 3;
    const plan = {
      loops: numberOpt(opts, 'number', 'tsprof timeit', { min: 1, integer: true, flag: '-n' }) ?? 0,
      repeat: numberOpt(opts, 'repeat', 'tsprof timeit', { min: 1, integer: true, flag: '-r' }) ?? 7,
      clock: opts.process ? 'cpu' as const : opts.t ? 'wall' as const : 'perf' as const,
      precision,
    };
    // `-s "import … from './x.ts'"`: TypeScript files load as they do under the other tools.
    registerHooks({ names: [], marked: false });
    const setup = importsAsAwaits(listOpt(opts, 'setup').join('\n'));
    const quiet = Boolean(opts.quiet || opts.json);
    let state = 'calibrating';
    const progress = new Progress('tsprof timeit', () => state, { quiet });
    let result;
    let notes: string[];
    try {
      ({ result, notes } = await timeStatement(processHost(), stmt, setup, plan, (done, total, loops) => {
        state = `run ${done}/${total} done (${thousands(loops)} ${plural(loops, 'loop')} each)`;
        progress.draw();
      }));
    } finally {
      progress.done();
    }
    if (opts.json) {
      const { loops, repeat, best, worst, all_runs, timings, average, stdev, median, min, max, opsPerSec, compile_time } = result;
      process.stdout.write(JSON.stringify({ loops, repeat, best, worst, all_runs, timings, average, stdev, median, min, max, opsPerSec, compile_time }) + '\n');
      return 0;
    }
    if (!opts.quiet) for (const n of notes) process.stdout.write(`${n}\n`);
    process.stdout.write(`${resultLine(result, unit, precision)}\n`);
    return 0;
  },
};
