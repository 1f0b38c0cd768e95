// `tsprof lprun -f NAME [-f NAME…] SCRIPT [ARGS…]`: kernprof -l -v for Node. The chosen functions
// — by name, or marked in the source with `@profile` or `// @tsprof-profile` — get %lprun's probes
// as their module loads; the script runs as node would run it; then line_profiler's table.
import { DEFAULT_INTERVAL_US } from '../engines/v8/cpu.js';
import { toCpuProfile } from '../engines/v8/calltree.js';
import { CliUsageError, listOpt, numberOpt, stringOpt, type CliOption } from './argv.js';
import { lineProfile, scriptTree, TIMER_UNIT } from './engines.js';
import { exportFormatsHelp, lineTableExport, writeExports } from './exports.js';
import { commandLine, launch, noCapture } from './launch.js';
import { functionOption, outputOptions, reportRun, runNotes } from './lines.js';
import type { Tool } from './tool.js';

const OPTIONS: CliOption[] = [
  functionOption('primes'),
  { short: 'x', long: 'exact', help: 'time every line with the clock (a probe before each statement, like line_profiler), not by sampling' },
  { short: 'u', long: 'unit', value: true, metavar: 'UNIT', help: 'unit of the Time columns in seconds, e.g. 1e-3 (default 1e-9)' },
  { short: 'z', long: 'skip-zero', help: 'hide functions that were never called' },
  { short: 'i', long: 'interval', value: true, metavar: 'US', help: `sampling interval for the Time column, µs (default ${DEFAULT_INTERVAL_US})` },
  ...outputOptions(exportFormatsHelp),
];

export const lprunTool: Tool = {
  name: 'lprun',
  usage: 'tsprof lprun [-f NAME …] [-x] [-u UNIT] [-z] [-i US] [-o FILE] [-q] SCRIPT.ts|SCRIPT.js [ARGS…]',
  summary: "Line-by-line profile of chosen functions of a script, in line_profiler's layout (kernprof -l -v, %lprun).",
  options: OPTIONS,
  details: `Choose functions with -f NAME, or mark them in the source, as kernprof's @profile does:
  // @tsprof-profile            on the line above a function, a method or \`const f = () => …\`
  @profile                     a decorator on a class method (removed before the code runs)
Hits are exact: a counter before each statement of the chosen functions, put into their module as it
loads (lines never move). Time is sampled in the same run (every -i µs), a line's time including the
calls it makes; with -x each line is timed with the clock instead (slower). The script runs as node
would run it (ES modules, CommonJS, TypeScript, its argv, stdin, exit status); its table is printed
when it ends, however it ends.`,
  async run({ opts, rest }) {
    const names = listOpt(opts, 'function');
    const unitText = stringOpt(opts, 'unit');
    const unit = unitText === undefined ? TIMER_UNIT : Number(unitText);
    if (!(unit > 0)) throw new CliUsageError(`tsprof lprun: -u needs a positive number of seconds, got ${JSON.stringify(unitText)}`);
    const intervalUs = numberOpt(opts, 'interval', 'tsprof lprun', { min: 1, integer: true, flag: '-i' }) ?? DEFAULT_INTERVAL_US;
    const outputs = writeExports.plan(listOpt(opts, 'output'), stringOpt(opts, 'format'), 'lprun');
    const [script, ...args] = rest;
    const exact = Boolean(opts.exact);
    const run = await launch({
      command: 'tsprof lprun', script, args, quiet: Boolean(opts.quiet),
      config: { intervalUs: exact ? 0 : intervalUs, coverage: false, transform: { probes: exact ? 'time' : 'count', names, marked: true } },
    });
    const c = run.capture;
    if (!c) {
      process.stderr.write(`${noCapture('tsprof lprun', run)}\n`);
      return run.status;
    }
    const p = lineProfile(c, run.sources, unit, Boolean(opts['skip-zero']));
    const notes = runNotes(names, c);
    if (p.note) notes.push(p.note);
    const cpuprofile = c.profile && toCpuProfile(scriptTree(c.profile, c.intervalUs), c.profile);
    reportRun(Boolean(opts.quiet) && outputs.length > 0, p.text, notes, outputs, lineTableExport(p.functions, p.text, cpuprofile, { command: commandLine(script, args), tool: 'tsprof lprun', durationNs: c.wall * 1e9 }));
    return run.status;
  },
};
