// %memit / %%memit: memory_profiler's magic with an exact peak, over the memit engine
// (engines/memit.ts) and its renderer (render/memory.ts).
import { intOption, parseOptions } from './argv.js';
import { DEFAULT_MEMIT_INTERVAL as DEFAULT_INTERVAL, memit } from '../engines/memit.js';
import { memitHtml, memitText } from '../render/memory.js';
import { UsageError, type Magic, type OptionSpec, type ParsedOptions } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const OPTIONS: OptionSpec[] = [
  { name: 'r', value: true, metavar: 'R', help: 'run the statement R times (default 1); the peak reported is the highest of the runs, as memory_profiler does' },
  { name: 't', value: true, metavar: 'SECONDS', help: 'stop a run that takes longer than SECONDS and report a TimeoutError (memory is collected afterwards)' },
  { name: 'i', value: true, metavar: 'INTERVAL', help: `also sample RSS every INTERVAL seconds from a sampler thread and report what that poller saw (memory_profiler polls every 0.1 s); also the interval of -c and of the sampling fallback (default ${DEFAULT_INTERVAL})` },
  { name: 'c', help: 'include child processes: add the RSS of every descendant process (from /proc, sampled every -i seconds)' },
  { name: 'o', help: 'return a MemitResult (mem_usage, baseline, peak, increment, rss, heap, external, arrayBuffers, runs, …) instead of printing only' },
  { name: 'q', help: 'quiet: show nothing (use with -o)' },
];

function numberOption(opts: ParsedOptions, name: string, min: number): number | undefined {
  const raw = opts[name];
  if (raw === undefined) return undefined;
  const s = String(Array.isArray(raw) ? raw.at(-1) : raw);
  const n = Number(s);
  if (!Number.isFinite(n) || n <= min) throw new UsageError(`%memit: option -${name} needs a number of seconds > ${min}, got ${JSON.stringify(s)}`);
  return n;
}

export const memitMagic: Magic = {
  name: 'memit',
  kinds: ['line', 'cell'],
  summary: 'Peak memory of a statement, as memory_profiler\'s %memit prints it, but exact: the RSS high-water mark, plus JS heap, external and ArrayBuffer memory.',
  usage: '%memit [-r R] [-t SECONDS] [-i INTERVAL] [-c] [-o] [-q] statement\n%%memit [-r R] [-t SECONDS] [-i INTERVAL] [-c] [-o] [-q] [setup]\nbody',
  options: OPTIONS,
  details: `Before each run: a full GC, then the RSS high-water mark is reset (Linux: '5' written to
/proc/self/clear_refs); after it, VmHWM is the exact peak, however short the spike (memory_profiler
polls every 0.1 s and misses spikes shorter than that). "increment" is the peak minus the RSS before
the first run. The JS heap peak is exact too (the largest of the start, the used size before every GC
during the run, and the end: v8.GCProfiler); V8 external memory likewise. "after GC" is what is still
held once the run is over and a GC ran. In cell mode the first line (after the options) is setup, run
once before the measurement and not measured. \`await\` works in the statement.
-i starts a sampler thread that reads RSS every INTERVAL seconds while the statement runs; it does not
change the exact peak: it shows what a poller at that interval (memory_profiler's method, -i 0.1) would
have reported. Where clear_refs cannot be written (not Linux, or not permitted), the peak falls back to
that sampler (every -i, default 10 ms) and the output says so.
-c adds the RSS of descendant processes, sampled every -i seconds. -t stops a synchronous statement
when the time is up (the sampler thread sends SIGINT; Node's watchdog ends the script) and abandons one
that is awaiting (timers it set may still run later); like the kernel's interrupt, it cannot stop code
that computes forever after an await.
Zero-filled buffers (new Float64Array(n)) are counted by V8 at once but take RSS only when written.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'memit');
    const cellMode = call.body !== undefined;
    const setup = cellMode ? rest : '';
    const stmt = cellMode ? call.body! : rest;
    if (!stmt.trim()) throw new UsageError(`%memit: no statement to measure\nusage: ${memitMagic.usage.split('\n')[0]}`);
    const repeat = intOption(opts, 'r', 'memit', 1) ?? 1;
    const timeout = numberOption(opts, 't', 0);
    const interval = numberOption(opts, 'i', 0);
    if (interval !== undefined && interval < 0.001) throw new UsageError('%memit: option -i needs an interval ≥ 0.001 s');
    const firstLine = cellMode ? call.line + 1 : call.line;
    if (setup.trim()) await ctx.runCode(setup, firstLine - 1);
    const result = await memit(ctx.prepareCode(stmt, firstLine), { repeat, timeout, interval, children: Boolean(opts.c) }).catch((e: Error) => {
      if (e.name === 'TimeoutError') e.message = `%memit: ${e.message.replace('the timeout (', 'the timeout (-t ')}`;
      throw e;
    });
    const line = result.toString();
    if (!opts.q) ctx.display.bundle({ 'text/plain': memitText(result), 'text/html': memitHtml(result) });
    if (!opts.o) return undefined;
    displaysAs(result, () => line);
    return result;
  },
};
