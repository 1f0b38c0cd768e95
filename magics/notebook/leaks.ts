// %%leaks: run a cell N times and report what grows on every run, over the leaks engine
// (engines/leaks.ts: warm-up, snapshots, analysis in the heap worker) and its renderer (render/heap.ts).
import { intOption, parseOptions } from './argv.js';
import { leaksHtml } from '../render/heap.js';
import { DEFAULT_RUNS, findLeaks } from '../engines/leaks.js';
import { UsageError, type Magic, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const OPTIONS: OptionSpec[] = [
  { name: 'n', value: true, metavar: 'N', help: `run the cell N times after one warm-up run, with a heap snapshot after each (default ${DEFAULT_RUNS}, at least 2)` },
  { name: 'a', help: 'also show V8-internal classes that grew (compiled code, hidden classes, internal arrays, closure scopes)' },
  { name: 'l', value: true, metavar: 'LIMIT', help: 'show at most LIMIT classes (default 20)' },
  { name: 's', help: 'do not track allocations in the last run (faster for allocation-heavy cells; per-class sites are then missing, the sampled per-function table remains)' },
  { name: 'i', value: true, metavar: 'BYTES', help: 'sampling interval of the allocation sampler in bytes (default: chosen from the warm-up so the runs give ~8,000 samples; 128 at least)' },
  { name: 'o', help: 'return a LeakResult (rows with counts and sizes per snapshot, sites, timings)' },
  { name: 'q', help: 'quiet: show nothing (use with -o)' },
];

export const leaks: Magic = {
  name: 'leaks',
  kinds: ['cell'],
  summary: 'Run the cell N times and report what grows on every run: classes, per-run growth, the retainer path that keeps them, and where they were allocated.',
  usage: '%%leaks [-n N] [-a] [-l LIMIT] [-s] [-i BYTES] [-o] [-q]\nbody',
  options: OPTIONS,
  details: `After one warm-up run (so lazy initialisation is not reported), the cell runs N times with a full
GC and a heap snapshot after each. A class is reported when its instance count (or its total size)
increases at every run; count/run and bytes/run are the median growth per run, retained/run the
growth of what its instances keep alive (last snapshot minus baseline, per run). The retainer path leads from a GC root (the global object
first; weak references skipped) to one new instance, e.g. cache (Map) → table → Entry; a closure
shows what its scope captures. "allocated at" is exact for the last run (allocation tracking) and
names the innermost frame in your code, cell-N:LINE(function) (LINE: where the function starts);
the second table is V8's sampling heap profiler over all runs, objects that survived only
(estimates). Clean code reports "no growth found". Rows come from comparing class totals, so a
class the kernel also uses (Object, Array, string) can be off by one in a run; the median absorbs it.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'leaks');
    if (rest) throw new UsageError(`%%leaks: unexpected text after the options: ${JSON.stringify(rest)} (the cell body is what runs)`);
    const body = call.body ?? '';
    if (!body.trim()) throw new UsageError(`%%leaks: the cell is empty; put the code to run N times below the magic line\nusage: ${leaks.usage.split('\n')[0]}`);
    const N = intOption(opts, 'n', 'leaks', 2) ?? DEFAULT_RUNS;
    const limit = intOption(opts, 'l', 'leaks', 1) ?? 20;
    const interval = intOption(opts, 'i', 'leaks', 128);
    const run = ctx.prepareCode(body, call.line + 1);
    const result = await findLeaks(run, { iterations: N, interval, noTrack: Boolean(opts.s), limit, all: Boolean(opts.a), interrupted: () => ctx.interrupted, fallbackUrl: `cell-${ctx.cell.cell}` });
    const text = result.text;
    if (!opts.q) ctx.display.bundle({ 'text/plain': text, 'text/html': leaksHtml(result.report, result.timings) });
    if (!opts.o) return undefined;
    displaysAs(result, () => text);
    return result;
  },
};
