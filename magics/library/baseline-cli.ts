// `tsprof baseline …`: the command-line side of timing baselines, for CI. The CLI front end
// (bin/tsprof.ts) dispatches `tsprof baseline ARGS` to baselineCommand(ARGS); this module also runs
// on its own (`node dist/magics/library/baseline-cli.js check BASE CURRENT`).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { comparisonTable, compareBaselines, readBaseline, type BaselineStat } from './baseline.js';
import { formatTime } from '../render/format.js';

export const BASELINE_USAGE = `usage:
  tsprof baseline check BASE.json CURRENT.json [--factor F] [--stat median|mean|min|p95]
        compare CURRENT with BASE; exit 1 and list the regressions when a function's statistic
        (default median) is more than F (default 1.5) times its baseline
  tsprof baseline show FILE.json
        list a baseline's functions and figures

A baseline is written by a process that uses tsprof's library (watch, @timed, recordTimeit) with
TSPROF_BASELINE=FILE in its environment, or by writeBaseline(FILE).`;

class UsageError extends Error {}

function parse(args: string[]): { positional: string[]; factor?: number; stat?: BaselineStat } {
  const positional: string[] = [];
  let factor: number | undefined;
  let stat: BaselineStat | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${a.split('=')[0]} needs a value`);
      return v;
    };
    if (a === '--factor' || a.startsWith('--factor=')) {
      factor = Number(value());
      if (!(factor > 1)) throw new UsageError(`--factor needs a number > 1, got ${JSON.stringify(args[i])}`);
    } else if (a === '--stat' || a.startsWith('--stat=')) stat = value() as BaselineStat;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, factor, stat };
}

/** Run `tsprof baseline ARGS`: prints to stdout/stderr, returns the exit code (0 ok, 1 regressions, 2 usage). */
export async function baselineCommand(args: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === undefined || sub === '-h' || sub === '--help') {
      (sub ? out : err)(`${BASELINE_USAGE}\n`);
      return sub ? 0 : 2;
    }
    const { positional, factor, stat } = parse(rest);
    if (sub === 'check') {
      if (positional.length !== 2) throw new UsageError(`check needs BASE and CURRENT files, got ${positional.length}`);
      const comparison = compareBaselines(readBaseline(positional[0]), readBaseline(positional[1]), { factor, stat });
      out(`${comparisonTable(comparison)}\n`);
      return comparison.regressions.length ? 1 : 0;
    }
    if (sub === 'show') {
      if (positional.length !== 1) throw new UsageError('show needs one FILE');
      const b = readBaseline(positional[0]);
      out(`${positional[0]}: ${Object.keys(b.functions).length} functions, ${b.commit ? `commit ${b.commit}, ` : ''}${b.created}\n`);
      for (const [name, e] of Object.entries(b.functions)) out(`  ${name}: ${e.calls} calls, median ${formatTime(e.median)}, mean ${formatTime(e.mean)}, min ${formatTime(e.min)}, p95 ${formatTime(e.p95)}\n`);
      return 0;
    }
    throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
  } catch (e) {
    const usage = e instanceof UsageError;
    err(`tsprof baseline: ${(e as Error).message}${usage ? `\n\n${BASELINE_USAGE}` : ''}\n`);
    return 2;
  }
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) baselineCommand(process.argv.slice(2)).then((code) => (process.exitCode = code));
