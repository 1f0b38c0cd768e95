// %memit / %%memit: memory_profiler's magic with an exact peak. Before each run: a full GC and the
// RSS high-water mark reset (`5` → /proc/self/clear_refs); after it: VmHWM. A spike of any length
// is caught, where memory_profiler's 0.1 s poller sees only what is resident at its ticks. Beside
// it, the JS heap and V8 external memory peaks (exact, from v8.GCProfiler) and ArrayBuffers.
import v8 from 'node:v8';
import { intOption, parseOptions } from './argv.js';
import { escapeHtml } from '../render/format.js';
import { htmlNotes, htmlTable } from '../render/html.js';
import { collectGarbage, HeapPeak, hrtimeMs, MemorySampler, peakRss, resetPeakRss, rssNow, TimeoutError, toMiB, type WorkerSamples } from '../engines/v8/memory.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec, type ParsedOptions } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';
import { KeyboardInterrupt } from '../../kernel/session/evaluator.js';

const DEFAULT_INTERVAL = 0.01;

const OPTIONS: OptionSpec[] = [
  { name: 'r', value: true, metavar: 'R', help: 'run the statement R times (default 1); the peak reported is the highest of the runs, as memory_profiler does' },
  { name: 't', value: true, metavar: 'SECONDS', help: 'stop a run that takes longer than SECONDS and report a TimeoutError (memory is collected afterwards)' },
  { name: 'i', value: true, metavar: 'INTERVAL', help: `also sample RSS every INTERVAL seconds from a sampler thread and report what that poller saw (memory_profiler polls every 0.1 s); also the interval of -c and of the sampling fallback (default ${DEFAULT_INTERVAL})` },
  { name: 'c', help: 'include child processes: add the RSS of every descendant process (from /proc, sampled every -i seconds)' },
  { name: 'o', help: 'return a MemitResult (mem_usage, baseline, peak, increment, rss, heap, external, arrayBuffers, runs, …) instead of printing only' },
  { name: 'q', help: 'quiet: show nothing (use with -o)' },
];

/** One kind of memory across the measurement, in MiB. */
export interface MemoryRow {
  /** Before the first run, after a full GC. */
  start: number;
  /** Highest during the runs. */
  peak: number;
  /** peak − start. */
  increment: number;
  /** Right after the last run. */
  end: number;
  /** After the last run and a full GC: what the statement kept. */
  retained: number;
}

export interface MemitRun {
  /** RSS peak of this run (plus children with -c), MiB: memory_profiler's mem_usage entry. */
  peak: number;
  heapPeak: number;
  externalPeak: number;
  /** Seconds. */
  elapsed: number;
  gcCount: number;
}

export class MemitResult {
  constructor(
    /** RSS peak of each run, MiB (memory_profiler's field). */
    readonly mem_usage: number[],
    /** RSS before the first run (after setup and a full GC), MiB. */
    readonly baseline: number,
    readonly repeat: number,
    readonly timeout: number | undefined,
    /** Sampler interval in seconds (used with -i, -c and by the fallback); 0 when nothing sampled. */
    readonly interval: number,
    readonly include_children: boolean,
    /** 'hwm': exact (VmHWM reset per run); 'sampled': polled every `interval` (clear_refs unavailable). */
    readonly method: 'hwm' | 'sampled',
    readonly rss: MemoryRow,
    readonly heap: MemoryRow,
    readonly external: MemoryRow,
    readonly arrayBuffers: { start: number; end: number; increment: number; retained: number },
    readonly runs: MemitRun[],
    /** What a poller at `interval` saw (with -i): its peak and increment over the baseline, MiB. */
    readonly sampled: { interval: number; peak: number; increment: number; samples: number } | undefined,
    /** Descendant processes' RSS (with -c), MiB: the highest sampled sum. */
    readonly children: { peak: number; samples: number } | undefined,
    readonly notes: string[],
  ) {}

  /** Highest RSS of the runs, MiB. */
  get peak(): number {
    return Math.max(...this.mem_usage);
  }

  /** peak − baseline, MiB (memory_profiler's increment). */
  get increment(): number {
    return this.peak - this.baseline;
  }

  toString(): string {
    return `peak memory: ${this.peak.toFixed(2)} MiB, increment: ${this.increment.toFixed(2)} MiB`;
  }
}

function numberOption(opts: ParsedOptions, name: string, min: number): number | undefined {
  const raw = opts[name];
  if (raw === undefined) return undefined;
  const s = String(Array.isArray(raw) ? raw.at(-1) : raw);
  const n = Number(s);
  if (!Number.isFinite(n) || n <= min) throw new UsageError(`%memit: option -${name} needs a number of seconds > ${min}, got ${JSON.stringify(s)}`);
  return n;
}

const mib = (x: number): string => `${x.toFixed(2)} MiB`;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)} MiB`;

function htmlReport(r: MemitResult): string {
  type Row = { what: string; start: number; peak?: number; increment: number; end: number; retained: number };
  const rows: Row[] = [
    { what: r.method === 'hwm' ? 'RSS (exact peak: VmHWM)' : `RSS (sampled every ${r.interval * 1e3} ms)`, ...r.rss },
    { what: 'JS heap used', ...r.heap },
    { what: 'V8 external', ...r.external },
    { what: 'ArrayBuffers', start: r.arrayBuffers.start, increment: r.arrayBuffers.increment, end: r.arrayBuffers.end, retained: r.arrayBuffers.retained },
  ];
  if (r.children) rows.push({ what: `child processes (sampled every ${r.interval * 1e3} ms)`, start: 0, peak: r.children.peak, increment: r.children.peak, end: NaN, retained: NaN });
  if (r.sampled) rows.push({ what: `RSS as a ${r.sampled.interval} s poller saw it`, start: r.baseline, peak: r.sampled.peak, increment: r.sampled.increment, end: NaN, retained: NaN });
  const cell = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : mib(x));
  const table = htmlTable(rows, [
    { header: '', cell: (x) => x.what, align: 'left' },
    { header: 'start', cell: (x) => cell(x.start) },
    { header: 'peak', cell: (x) => cell(x.peak) },
    { header: 'increment', cell: (x) => (x.peak === undefined && x.what === 'ArrayBuffers' ? `${signed(x.increment)} (end − start)` : signed(x.increment)) },
    { header: 'end', cell: (x) => cell(x.end) },
    { header: 'after GC', cell: (x) => cell(x.retained) },
  ]);
  const runs = r.runs.length > 1
    ? `<p style="margin:2px 0">runs: ${r.runs.map((x, i) => `#${i + 1} ${mib(x.peak)} in ${(x.elapsed * 1e3).toFixed(1)} ms`).join(' · ')}</p>`
    : `<p style="margin:2px 0">ran in ${(r.runs[0].elapsed * 1e3).toFixed(1)} ms, ${r.runs[0].gcCount} GCs during the run</p>`;
  return `<div class="tsprof-memit"><p><code>${escapeHtml(r.toString())}</code></p>${table}${runs}${htmlNotes(r.notes)}</div>`;
}

/** Samples of a sampler run within [from, to] (hrtime ms). */
function within(s: WorkerSamples, from: number, to: number, series: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.t.length; i++) if (s.t[i] >= from && s.t[i] <= to) out.push(series[i]);
  return out;
}

interface RunWindow {
  from: number;
  to: number;
  rssStart: number;
  hwm: number;
  rssEnd: number;
  heap: ReturnType<HeapPeak['stop']>;
  elapsed: number;
}

/** Run `statement` once with the watchdog armed (when `timeout`); TimeoutError when it fires. */
async function runTimed(statement: () => Promise<unknown>, sampler: MemorySampler | undefined, timeout: number | undefined): Promise<void> {
  if (!sampler || timeout === undefined) {
    await statement();
    return;
  }
  let fire!: () => void;
  const timedOut = new Promise<'timeout'>((resolve) => (fire = () => resolve('timeout')));
  sampler.arm(timeout, fire);
  const running = statement();
  running.catch(() => undefined); // when the timeout wins, a later rejection is not unhandled
  let threw: unknown;
  let outcome: unknown;
  try {
    outcome = await Promise.race([running, timedOut]);
  } catch (e) {
    threw = e;
  }
  const fired = await sampler.disarm(threw instanceof KeyboardInterrupt);
  if (fired || outcome === 'timeout') {
    const abandoned = !(threw instanceof KeyboardInterrupt);
    throw new TimeoutError(
      `%memit: the statement ran longer than the timeout (-t ${timeout} s) and was stopped` +
        (abandoned ? ' while it was awaiting (work it started, such as timers, may still be running)' : ''),
    );
  }
  if (threw !== undefined) throw threw;
}

export async function measureMemory(ctx: MagicContext, stmt: string, setup: string, firstLine: number, opts: { repeat: number; timeout?: number; interval?: number; children: boolean }): Promise<MemitResult> {
  if (setup.trim()) await ctx.runCode(setup, firstLine - 1);
  const statement = ctx.prepareCode(stmt, firstLine);
  const notes: string[] = [];

  const fallback = resetPeakRss();
  const method: 'hwm' | 'sampled' = fallback ? 'sampled' : 'hwm';
  if (fallback) notes.push(`RSS peak sampled every ${(opts.interval ?? DEFAULT_INTERVAL) * 1e3} ms, not exact: ${fallback}. A spike shorter than the interval can be missed.`);
  const needSampler = opts.interval !== undefined || opts.children || opts.timeout !== undefined || method === 'sampled';
  const samplingInterval = opts.interval !== undefined || opts.children || method === 'sampled' ? (opts.interval ?? DEFAULT_INTERVAL) : 0;
  const sampler = needSampler ? await MemorySampler.start({ intervalMs: samplingInterval * 1e3, children: opts.children }) : undefined;

  const windows: RunWindow[] = [];
  let samples: WorkerSamples | undefined;
  let baseline = 0;
  let heapStart = 0;
  let externalStart = 0;
  let buffersStart = 0;
  try {
    // One full GC per run, just before it (GCs are the fixed cost of %memit: ~10 ms each here).
    sampler?.begin();
    for (let run = 0; run < opts.repeat; run++) {
      collectGarbage();
      if (method === 'hwm') resetPeakRss();
      const rssStart = rssNow();
      if (run === 0) baseline = rssStart;
      const heap = new HeapPeak();
      const fromHr = hrtimeMs();
      const t0 = performance.now();
      await runTimed(statement, sampler, opts.timeout);
      const elapsed = (performance.now() - t0) / 1e3;
      const hwm = method === 'hwm' ? peakRss() : 0;
      const stats = heap.stop();
      const rssEnd = rssNow();
      windows.push({ from: fromHr, to: hrtimeMs(), rssStart, hwm, rssEnd, heap: stats, elapsed });
      if (run === 0) {
        heapStart = stats.heap.start;
        externalStart = stats.external.start;
        buffersStart = stats.arrayBuffers.start;
      }
    }
    if (sampler) samples = await sampler.stop();
  } catch (e) {
    collectGarbage();
    const now = rssNow();
    await sampler?.close();
    if (e instanceof TimeoutError) {
      e.message += `; after a GC, RSS is ${mib(toMiB(now))} (${signed(toMiB(now - baseline))} on the baseline before the run)`;
    }
    throw e;
  }

  const last = windows.at(-1)!;
  const endHeap = last.heap;
  collectGarbage();
  const after = process.memoryUsage();
  const afterHeap = v8.getHeapStatistics();
  await sampler?.close();

  const runs: MemitRun[] = windows.map((w) => {
    let peak = Math.max(w.rssStart, w.rssEnd, w.hwm);
    let childPeak = 0;
    if (samples) {
      const inRun = within(samples, w.from, w.to + 1, samples.rss);
      if (method === 'sampled') peak = Math.max(peak, ...inRun);
      if (opts.children) childPeak = Math.max(0, ...within(samples, w.from, w.to + 1, samples.children));
    }
    return { peak: toMiB(peak + childPeak), heapPeak: toMiB(w.heap.heap.peak), externalPeak: toMiB(w.heap.external.peak), elapsed: w.elapsed, gcCount: w.heap.gcCount };
  });
  const ownPeak = Math.max(...windows.map((w) => (method === 'hwm' ? Math.max(w.rssStart, w.rssEnd, w.hwm) : Math.max(w.rssStart, w.rssEnd, ...(samples ? within(samples, w.from, w.to + 1, samples.rss) : [])))));
  const row = (start: number, peak: number, end: number, retained: number): MemoryRow => ({ start: toMiB(start), peak: toMiB(peak), increment: toMiB(peak - start), end: toMiB(end), retained: toMiB(retained) });
  const rss = row(baseline, ownPeak, last.rssEnd, after.rss);
  const heap = row(heapStart, Math.max(...windows.map((w) => w.heap.heap.peak)), endHeap.heap.end, afterHeap.used_heap_size);
  const external = row(externalStart, Math.max(...windows.map((w) => w.heap.external.peak)), endHeap.external.end, afterHeap.external_memory);
  const arrayBuffers = { start: toMiB(buffersStart), end: toMiB(endHeap.arrayBuffers.end), increment: toMiB(endHeap.arrayBuffers.end - buffersStart), retained: toMiB(after.arrayBuffers) };

  let sampled: MemitResult['sampled'];
  if (samples && opts.interval !== undefined) {
    const all = within(samples, windows[0].from - 1, last.to + 1e9, samples.rss);
    const peak = toMiB(Math.max(baseline, ...all));
    sampled = { interval: opts.interval, peak, increment: peak - toMiB(baseline), samples: all.length };
  }
  let children: MemitResult['children'];
  if (samples && opts.children) children = { peak: toMiB(Math.max(0, ...samples.children)), samples: samples.children.length };

  // RSS can lag what V8 accounts for: zero-filled buffers are mapped lazily (the OS counts a page
  // when it is first written), and memory that malloc kept from earlier frees (glibc keeps freed
  // blocks under its mmap threshold, which grows up to 32 MiB) is reused without growing RSS.
  const bufferGrowth = Math.max(external.increment, arrayBuffers.increment);
  if (bufferGrowth > 8 && bufferGrowth > 2 * Math.max(rss.increment, 0) + 4) {
    notes.push(`ArrayBuffers/external memory grew by ${bufferGrowth.toFixed(2)} MiB but RSS by only ${rss.increment.toFixed(2)} MiB: zero-filled buffers take physical memory only when their pages are first written, and memory the allocator kept from earlier frees is reused without growing RSS.`);
  }
  if (sampled && method === 'hwm' && rss.increment - sampled.increment > 1) {
    notes.push(`A ${sampled.interval} s poller (memory_profiler's method) would have reported an increment of ${sampled.increment.toFixed(2)} MiB: it missed ${(rss.increment - sampled.increment).toFixed(2)} MiB of the peak.`);
  }

  return new MemitResult(
    runs.map((r) => r.peak), toMiB(baseline), opts.repeat, opts.timeout, samplingInterval, opts.children, method,
    rss, heap, external, arrayBuffers, runs, sampled, children, notes,
  );
}

export const memit: Magic = {
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
    if (!stmt.trim()) throw new UsageError(`%memit: no statement to measure\nusage: ${memit.usage.split('\n')[0]}`);
    const repeat = intOption(opts, 'r', 'memit', 1) ?? 1;
    const timeout = numberOption(opts, 't', 0);
    const interval = numberOption(opts, 'i', 0);
    if (interval !== undefined && interval < 0.001) throw new UsageError('%memit: option -i needs an interval ≥ 0.001 s');
    const result = await measureMemory(ctx, stmt, setup, cellMode ? call.line + 1 : call.line, { repeat, timeout, interval, children: Boolean(opts.c) });
    const line = result.toString();
    if (!opts.q) ctx.display.bundle({ 'text/plain': [line, ...result.notes].join('\n'), 'text/html': htmlReport(result) });
    if (!opts.o) return undefined;
    displaysAs(result, () => line);
    return result;
  },
};
