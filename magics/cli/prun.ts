// `tsprof prun [-s KEY] [-l LIMIT] [-o FILE] SCRIPT [ARGS…]`: `python -m cProfile` for Node. The
// script runs as `node SCRIPT ARGS…` would run it, under V8's sampling CPU profiler (%prun's engine
// and default interval) with V8's exact call counts, then the pstats table; -o writes the profile
// for DevTools, speedscope, KCachegrind or pprof.
import { DEFAULT_INTERVAL_US } from '../engines/v8/cpu.js';
import { listOpt, numberOpt, stringOpt, type CliOption } from './argv.js';
import { callProfile, countedFunctions, limitRows, sortRows } from './engines.js';
import { exportFormatsHelp, writeExports, callTreeExport } from './exports.js';
import { commandLine, launch, noCapture } from './launch.js';
import type { Tool } from './tool.js';

const OPTIONS: CliOption[] = [
  { short: 's', long: 'sort', value: true, repeat: true, metavar: 'KEY', help: 'sort by KEY (repeatable): time (default), cumulative, calls, name, file, line, stdname, nfl; pstats aliases tottime, cumtime, ncalls, filename' },
  { short: 'l', long: 'limit', value: true, repeat: true, metavar: 'LIMIT', help: 'restrict rows (repeatable, in order): a count, a fraction like 0.25, or a regex on filename:lineno(function)' },
  { short: 'o', long: 'output', value: true, repeat: true, metavar: 'FILE', help: `write the profile to FILE (repeatable); the format from the name or --format: ${exportFormatsHelp}` },
  { long: 'format', value: true, metavar: 'FORMAT', help: 'format of the -o files whose name does not say it: cpuprofile, callgrind, pprof, speedscope, text' },
  { short: 'q', long: 'quiet', help: 'print no table (with -o), and no progress line' },
  { short: 'i', long: 'interval', value: true, metavar: 'US', help: `sampling interval in microseconds (default ${DEFAULT_INTERVAL_US}, as %prun; V8's floor is about 80)` },
  { short: 'c', long: 'coverage', help: "count the packages' functions too (node_modules), with V8's precise coverage from the start (about 2× slower on call-heavy code); the script's own files are always counted" },
  { long: 'no-calls', help: 'sampling only: no call counters' },
];

export const prunTool: Tool = {
  name: 'prun',
  usage: 'tsprof prun [-s KEY] [-l LIMIT] [-o FILE] [--format F] [-i US] [-q] [-c] [--no-calls] SCRIPT.ts|SCRIPT.js [ARGS…]',
  summary: "Run a script under V8's CPU profiler and print the pstats table, with exact call counts (python -m cProfile, %prun).",
  options: OPTIONS,
  details: `The script runs as node would run it: ES modules and CommonJS, TypeScript (.ts, .mts, .cts; types
stripped with every line kept), its own arguments, stdin, environment and exit status (128+N when a
signal ended it). Its profile is printed when it ends, however it ends: returning, process.exit(), an
uncaught error, or Ctrl-C. Times are sampled every -i µs (tottime: on top of the stack; cumtime:
anywhere on it); ncalls are exact, as %prun's: its counters, compiled into the functions of the
script's own files as they load (not node_modules), give calls and primitive calls (cProfile's
242785/1 for a recursion) at a cost of 0-5%; -c also counts the packages' functions with V8's
precise coverage from the start (about 2x slower). Rows are the script's functions and its packages'; Node's internals and idle time are left
out. Worker threads and cluster workers run but are not profiled (profile the worker script itself).`,
  async run({ opts, rest }) {
    const intervalUs = numberOpt(opts, 'interval', 'tsprof prun', { min: 1, integer: true, flag: '-i' }) ?? DEFAULT_INTERVAL_US;
    const sortKeys = listOpt(opts, 'sort');
    const limits = listOpt(opts, 'limit');
    const outputs = listOpt(opts, 'output');
    const format = stringOpt(opts, 'format');
    // Checked before the script runs: a typo must not cost a long run.
    sortRows([], sortKeys.length ? sortKeys : ['time']);
    limitRows([], limits);
    const exports = writeExports.plan(outputs, format, 'prun');
    const [script, ...args] = rest;
    const run = await launch({ command: 'tsprof prun', script, args, quiet: Boolean(opts.quiet), config: { intervalUs, coverage: Boolean(opts.coverage) && !opts['no-calls'], transform: { names: [], marked: false, countCalls: !opts['no-calls'] } }, describe: () => `sampling every ${intervalUs} µs` });
    const c = run.capture;
    if (!c?.profile) {
      process.stderr.write(`${noCapture('tsprof prun', run)}\n`);
      return run.status;
    }
    const p = callProfile(c.profile, c.intervalUs, c.wall, c.coverage, run.sources, sortKeys.length ? sortKeys : ['time'], limits, countedFunctions(c.calls, run.counted), run.counted.keys());
    const packages = !c.coverage && !opts['no-calls'] && p.rows.some((r) => r.ncalls === undefined && r.fn.url.includes('/node_modules/'));
    const notes = [...c.notes, ...(packages ? ["ncalls '-' on a package's function (node_modules): -c counts those too, at about 2x the run time"] : [])].map((n) => `*** ${n}\n`).join('');
    if (!opts.quiet || !outputs.length) process.stdout.write(notes + p.text);
    writeExports.write(exports, callTreeExport(p, commandLine(script, args), 'tsprof prun'), (file, what) => process.stderr.write(`*** Profile written to ${file} (${what})\n`));
    return run.status;
  },
};
