// `tsprof mprun -f NAME [-f NAME…] SCRIPT [ARGS…]`: `python -m memory_profiler script.py` for Node.
// The chosen functions (by name, or marked @profile / `// @tsprof-profile`) get %mprun's memory
// probes as their module loads; then memory_profiler's table, with %mprun's Allocated column.
import { listOpt, stringOpt, type CliOption } from './argv.js';
import { memoryProfile } from './engines.js';
import { memoryTableExport, writeExports } from './exports.js';
import { commandLine, launch, noCapture } from './launch.js';
import { functionOption, outputOptions, reportRun, runNotes } from './lines.js';
import type { Tool } from './tool.js';

const OPTIONS: CliOption[] = [
  functionOption('build'),
  { short: 'c', long: 'every-run', help: 'measure every run of every line (no skipping of lines seen allocating nothing; slower)' },
  ...outputOptions('callgrind.out.* or .callgrind, .pb.gz or .pprof, .speedscope.json, .txt'),
];

export const mprunTool: Tool = {
  name: 'mprun',
  usage: 'tsprof mprun [-f NAME …] [-c] [-o FILE] [-q] SCRIPT.ts|SCRIPT.js [ARGS…]',
  summary: "Memory line by line for chosen functions of a script, in memory_profiler's layout, with an Allocated column GC cannot hide (%mprun).",
  options: OPTIONS,
  details: `Choose functions with -f NAME or mark them (// @tsprof-profile above a function, @profile on a
method), as with tsprof lprun. Mem usage is the JS heap in use plus external memory (Buffers,
ArrayBuffers) after the line, the largest over its occurrences; Increment the net change over all
occurrences; Allocated adds back what the GC freed while the line ran: what the line allocated.
Same probes and recorder as %mprun, put into the module as it loads.`,
  async run({ opts, rest }) {
    const names = listOpt(opts, 'function');
    const outputs = writeExports.plan(listOpt(opts, 'output'), stringOpt(opts, 'format'), 'mprun', ['callgrind', 'pprof', 'speedscope', 'text']);
    const [script, ...args] = rest;
    const run = await launch({
      command: 'tsprof mprun', script, args, quiet: Boolean(opts.quiet),
      config: { intervalUs: 0, coverage: false, measureAll: Boolean(opts['every-run']), transform: { probes: 'memory', names, marked: true } },
    });
    const c = run.capture;
    if (!c) {
      process.stderr.write(`${noCapture('tsprof mprun', run)}\n`);
      return run.status;
    }
    const p = memoryProfile(c);
    const notes = runNotes(names, c);
    reportRun(Boolean(opts.quiet) && outputs.length > 0, p.text, notes, outputs, memoryTableExport(p.functions, p.text, { command: commandLine(script, args), tool: 'tsprof mprun', durationNs: c.wall * 1e9 }));
    return run.status;
  },
};
