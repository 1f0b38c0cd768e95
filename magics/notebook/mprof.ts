// %mprof / %%mprof: memory over time while a statement or cell runs, async work included
// (mprof run + mprof plot, inside the notebook). A sampler thread reads RSS, the JS heap and V8
// external memory at 200 Hz by default (see v8/memory-sampler.ts for how each is read while the main
// thread is busy); `-f fn` marks when chosen functions ran; a least-squares slope and a stricter
// leak hint than mprof's --slope; a Vega-Lite chart with an SVG fallback.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { parseOptions } from './argv.js';
import { escapeHtml } from '../render/format.js';
import { htmlNotes, htmlTable } from '../render/html.js';
import { chartBundle, spec, type VegaLiteSpec } from '../render/vegalite.js';
import { collectGarbage, downsample, growth, hrtimeMs, MemorySampler, MiB, rssNow, type Growth, type WorkerSamples } from '../engines/v8/memory.js';
import { userGlobal } from '../engines/host.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const DEFAULT_INTERVAL = 0.005;
/** Calls recorded with their times; past this, calls are only counted. */
const MAX_MARKERS = 10_000;
/** Points per series in the chart (the result object keeps every sample). */
const CHART_POINTS = 1500;
const SLOT = Symbol.for('tsprof.mprof');

const OPTIONS: OptionSpec[] = [
  { name: 'f', value: true, repeat: true, metavar: 'FUNC', help: 'mark when this function (a name or expression, e.g. step or api.handle) starts and ends; repeatable' },
  { name: 'i', value: true, metavar: 'INTERVAL', help: `seconds between samples (default ${DEFAULT_INTERVAL}: 200 Hz)` },
  { name: 'c', help: 'include child processes: a series with the summed RSS of descendant processes' },
  { name: 'o', help: 'return an MprofResult: the raw series (t, rss, heapUsed, external in MiB), markers, slopes, leak hint' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write the raw series and markers as JSON to FILE' },
  { name: 'q', help: 'quiet: show nothing (use with -o or -D)' },
];

export interface Marker {
  name: string;
  /** 1-based call number of this function. */
  call: number;
  /** Seconds since the run started. */
  start: number;
  /** When it returned, or its promise settled; undefined if it had not when the run ended. */
  end: number | undefined;
  threw: boolean;
}

export interface SeriesSummary {
  /** MiB. */
  start: number;
  peak: number;
  end: number;
  /** After the run and a full GC. */
  retained: number;
  /** MiB/s, least squares over the run. */
  slope: number;
  /** The leak heuristic fired for this series. */
  onlyGrows: boolean;
}

export type SeriesName = 'rss' | 'heapUsed' | 'external' | 'children';
const LABELS: Record<SeriesName, string> = { rss: 'RSS', heapUsed: 'heap used', external: 'external', children: 'children RSS' };

export class MprofResult {
  constructor(
    /** Seconds since the run started. */
    readonly t: number[],
    /** MiB at each t. */
    readonly rss: number[],
    readonly heapUsed: number[],
    readonly external: number[],
    /** Summed RSS of descendant processes (with -c), MiB. */
    readonly children: number[] | undefined,
    readonly markers: Marker[],
    /** Calls per marked function (exact, also past the recorded markers). */
    readonly calls: Record<string, number>,
    readonly summary: Partial<Record<SeriesName, SeriesSummary>>,
    /** Seconds. */
    readonly duration: number,
    /** Seconds between samples asked for. */
    readonly interval: number,
    readonly leak: boolean,
    /** Samples whose heap / external figure was carried from an earlier tick (main thread busy). */
    readonly stale: { heapUsed: number; external: number },
    readonly text: string,
  ) {}

  get samples(): number {
    return this.t.length;
  }

  /** Achieved samples per second. */
  get rate(): number {
    return this.duration > 0 ? this.t.length / this.duration : 0;
  }

  toString(): string {
    return this.text;
  }
}

interface Target {
  expr: string;
  original: Function;
  name: string;
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : v === undefined ? 'undefined' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : `a ${typeof v}`;
}

async function resolveTarget(ctx: MagicContext, expr: string): Promise<Target> {
  let value: unknown;
  try {
    value = await ctx.runCode(`(${expr})`);
  } catch (e) {
    throw new UsageError(`%mprof: -f ${expr}: ${(e as Error).message}`);
  }
  if (typeof value !== 'function') throw new UsageError(`%mprof: -f ${expr} is not a function (it is ${describeValue(value)})`);
  return { expr, original: value as Function, name: (value as Function).name || expr };
}

/** Point the user's binding at `value`: assignment, or a REPL redeclaration for a const. */
async function rebind(ctx: MagicContext, expr: string, value: Function): Promise<void> {
  (userGlobal as unknown as Record<symbol, unknown>)[SLOT] = value;
  try {
    await ctx.runCode(`${expr} = globalThis[Symbol.for('tsprof.mprof')];`);
  } catch (e) {
    if (/^[\w$]+$/.test(expr) && /constant/.test(String((e as Error).message))) await ctx.runCode(`const ${expr} = globalThis[Symbol.for('tsprof.mprof')];`);
    else throw new UsageError(`%mprof: cannot point ${expr} at the marking wrapper: ${(e as Error).message}`);
  } finally {
    delete (userGlobal as unknown as Record<symbol, unknown>)[SLOT];
  }
}

class MarkerLog {
  readonly markers: Marker[] = [];
  readonly calls: Record<string, number> = {};
  /** hrtime ms = performance.now() + offset (one clock with the sampler thread). */
  private readonly offset = hrtimeMs() - performance.now();
  constructor(private readonly t0: number) {}

  private now(): number {
    return (performance.now() + this.offset - this.t0) / 1e3;
  }

  enter(name: string): Marker | undefined {
    const call = (this.calls[name] = (this.calls[name] ?? 0) + 1);
    if (this.markers.length >= MAX_MARKERS) return undefined;
    const m: Marker = { name, call, start: this.now(), end: undefined, threw: false };
    this.markers.push(m);
    return m;
  }

  exit(m: Marker | undefined, threw = false): void {
    if (!m) return;
    m.end = this.now();
    m.threw = threw;
  }

  /**
   * A decorator on the function: the same target, name, length, properties and prototype (a Proxy),
   * recording entry and exit; for a promise-returning call, exit is when the promise settles.
   */
  wrap(fn: Function, name: string): Function {
    const log = this;
    const settle = (m: Marker | undefined, r: unknown): unknown => {
      if (r instanceof Promise) {
        return r.then(
          (v) => (log.exit(m), v),
          (e) => {
            log.exit(m, true);
            throw e;
          },
        );
      }
      log.exit(m);
      return r;
    };
    return new Proxy(fn, {
      apply(target, thisArg, args) {
        const m = log.enter(name);
        let r: unknown;
        try {
          r = Reflect.apply(target, thisArg, args);
        } catch (e) {
          log.exit(m, true);
          throw e;
        }
        return settle(m, r);
      },
      construct(target, args, newTarget) {
        const m = log.enter(name);
        try {
          const r = Reflect.construct(target, args, newTarget) as object;
          log.exit(m);
          return r;
        } catch (e) {
          log.exit(m, true);
          throw e;
        }
      },
    });
  }
}

const mib = (x: number): string => `${x.toFixed(2)} MiB`;
const rate = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)} MiB/s`;

function summaryText(r: Omit<MprofResult, 'text' | 'toString' | 'samples' | 'rate'> & { rate: number; samples: number }, leakNote: string | undefined): string {
  const names = (Object.keys(r.summary) as SeriesName[]);
  const rows = names.map((n) => {
    const s = r.summary[n]!;
    return `${LABELS[n].padEnd(12)} ${mib(s.start).padStart(12)} ${mib(s.peak).padStart(12)} ${mib(s.end).padStart(12)} ${mib(s.retained).padStart(12)} ${rate(s.slope).padStart(14)}`;
  });
  const out = [
    `mprof: ${r.duration.toFixed(3)} s, ${r.samples} samples (${Math.round(r.rate)} Hz)`,
    `${''.padEnd(12)} ${'start'.padStart(12)} ${'peak'.padStart(12)} ${'end'.padStart(12)} ${'after GC'.padStart(12)} ${'slope'.padStart(14)}`,
    ...rows,
  ];
  for (const [name, calls] of Object.entries(r.calls)) {
    const ms = r.markers.filter((m) => m.name === name);
    const ends = ms.map((m) => m.end).filter((e): e is number => e !== undefined);
    out.push(`${name}: ${calls} ${calls === 1 ? 'call' : 'calls'}${ms.length ? `, first started at ${ms[0].start.toFixed(3)} s, last ended at ${ends.length ? Math.max(...ends).toFixed(3) : '?'} s` : ''}`);
  }
  if (leakNote) out.push(leakNote);
  else out.push('no steady growth (memory did not only grow, or a GC gave it back)');
  return out.join('\n');
}

/** Above this many function calls, markers become a "calls in flight" band. */
const MAX_MARKED_CALLS = 40;

export function mprofChart(r: MprofResult): VegaLiteSpec {
  const values: Array<{ t: number; series: string; MiB: number }> = [];
  const add = (name: SeriesName, v: number[] | undefined): void => {
    if (!v) return;
    for (const [t, y] of downsample(r.t, v, CHART_POINTS)) values.push({ t, series: LABELS[name], MiB: y });
  };
  add('rss', r.rss);
  add('heapUsed', r.heapUsed);
  add('external', r.external);
  add('children', r.children);
  const shown = r.markers.slice(0, 500).map((m) => ({ label: `${m.name} #${m.call}`, name: m.name, start: m.start, end: m.end ?? r.duration }));
  const labels = shown.length <= 20;
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time (s)' },
        y: { field: 'MiB', type: 'quantitative', title: 'MiB' },
        color: { field: 'series', type: 'nominal', title: null, sort: ['RSS', 'heap used', 'external', 'children RSS'] },
        tooltip: [{ field: 'series' }, { field: 't', title: 's', format: '.3f' }, { field: 'MiB', format: '.2f' }],
      },
    },
  ];
  if (shown.length > MAX_MARKED_CALLS) {
    // Hundreds of calls (a server under load) as rules would bury the lines: show how many calls
    // were running at each moment instead, on an axis of its own.
    const bins = 120;
    const step = r.duration / bins || 1;
    const inFlight = Array.from({ length: bins }, (_, i) => ({ t: i * step, calls: 0 }));
    for (const m of shown) {
      for (let i = Math.max(0, Math.floor(m.start / step)); i < bins && i * step <= m.end; i++) inFlight[i].calls++;
    }
    layers.unshift({
      data: { values: inFlight },
      mark: { type: 'area', interpolate: 'step-after', opacity: 0.15, color: '#555' },
      encoding: {
        x: { field: 't', type: 'quantitative' },
        y: { field: 'calls', type: 'quantitative', title: `calls in flight (${shown.length} marked)`, axis: { orient: 'right' } },
        tooltip: [{ field: 't', title: 's', format: '.3f' }, { field: 'calls' }],
      },
    });
  } else if (shown.length) {
    layers.unshift({
      data: { values: shown },
      mark: { type: 'rect', opacity: 0.08, color: '#555' },
      encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' }, tooltip: [{ field: 'label' }, { field: 'start', format: '.3f' }, { field: 'end', format: '.3f' }] },
    });
    layers.push({ data: { values: shown }, mark: { type: 'rule', color: '#555', strokeWidth: 1 }, encoding: { x: { field: 'start', type: 'quantitative' } } });
    layers.push({ data: { values: shown }, mark: { type: 'rule', color: '#555', strokeWidth: 1, strokeDash: [3, 3] }, encoding: { x: { field: 'end', type: 'quantitative' } } });
    if (labels) {
      layers.push({
        data: { values: shown },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 2, angle: 0, fontSize: 9, color: '#333' },
        encoding: { x: { field: 'start', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      });
    }
  }
  return spec({
    ...(shown.length > MAX_MARKED_CALLS ? { resolve: { scale: { y: 'independent' } } } : {}),
    title: `memory over time${r.leak ? ' — only grows' : ''}`,
    width: 560,
    height: 220,
    layer: layers,
    resolve: { scale: { x: 'shared' } },
  });
}

function htmlReport(r: MprofResult, notes: string[]): string {
  const names = Object.keys(r.summary) as SeriesName[];
  const table = htmlTable(names, [
    { header: '', cell: (n) => LABELS[n], align: 'left' },
    { header: 'start', cell: (n) => mib(r.summary[n]!.start) },
    { header: 'peak', cell: (n) => mib(r.summary[n]!.peak) },
    { header: 'end', cell: (n) => mib(r.summary[n]!.end) },
    { header: 'after GC', cell: (n) => mib(r.summary[n]!.retained) },
    { header: 'slope', cell: (n) => rate(r.summary[n]!.slope) },
    { header: 'only grows', cell: (n) => (r.summary[n]!.onlyGrows ? 'yes' : 'no') },
  ]);
  const marks = Object.entries(r.calls).map(([n, c]) => `${escapeHtml(n)}: ${c} ${c === 1 ? 'call' : 'calls'}`).join(' · ');
  return `<div class="tsprof-mprof"><p><code>${escapeHtml(r.text.split('\n')[0])}</code></p>${table}${marks ? `<p style="margin:2px 0">${marks}</p>` : ''}${htmlNotes(notes)}</div>`;
}

/**
 * The hint needs the JS heap or external memory to only grow: RSS alone is not evidence, because
 * the allocator keeps freed pages mapped, so RSS rarely shrinks after a GC even when nothing leaks.
 */
function leakMessage(summary: Partial<Record<SeriesName, SeriesSummary>>): string | undefined {
  const grown = (Object.keys(summary) as SeriesName[]).filter((n) => summary[n]!.onlyGrows);
  if (!grown.some((n) => n === 'heapUsed' || n === 'external')) return undefined;
  const parts = grown.map((n) => `${LABELS[n]} ${rate(summary[n]!.slope)}, +${(summary[n]!.retained - summary[n]!.start).toFixed(2)} MiB still held after a full GC`);
  return `⚠ memory only grows (${parts.join('; ')}): a leak? %%leaks finds what grows and what keeps it.`;
}

export const mprof: Magic = {
  name: 'mprof',
  kinds: ['line', 'cell'],
  summary: 'Memory over time while a statement or cell runs (async work included): RSS, JS heap and external memory at 200 Hz, function markers, trend and a leak hint, as a chart.',
  usage: '%mprof [-f FUNC …] [-i INTERVAL] [-c] [-o] [-D FILE] [-q] statement\n%%mprof [-f FUNC …] [-i INTERVAL] [-c] [-o] [-D FILE] [-q]\nbody',
  options: OPTIONS,
  details: `A sampler thread reads RSS (/proc), the main thread's used JS heap (an inspector request V8
answers even while the main thread computes) and V8 external memory (published by the main thread
whenever its event loop turns) every INTERVAL seconds, from the start of the statement until the
promise it returns settles — an awaited server under load is measured with its async work. -f wraps the
named global binding for the run, like a decorator, and records when each call started and ended (an
async function ends when its promise settles): calls that look the name up during the run are marked,
references taken earlier are not. The slope is least squares over the whole run. The leak hint fires
when a series only grows: positive slope, the last third of the run never below the first third's
maximum, and most of the growth still held after a full GC at the end (garbage not yet collected is
not a leak).`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'mprof');
    const cellMode = call.body !== undefined;
    if (cellMode && rest) throw new UsageError(`%%mprof: unexpected text after the options: ${JSON.stringify(rest)} (the statement is the cell body)`);
    const stmt = cellMode ? call.body! : rest;
    if (!stmt.trim()) throw new UsageError(`%mprof: no statement to profile\nusage: ${mprof.usage.split('\n')[0]}`);
    let interval = DEFAULT_INTERVAL;
    if (opts.i !== undefined) {
      interval = Number(opts.i);
      if (!(interval >= 0.001 && interval <= 10)) throw new UsageError(`%mprof: option -i needs seconds between 0.001 and 10, got ${JSON.stringify(opts.i)}`);
    }
    const exprs = (opts.f as string[] | undefined) ?? [];
    const targets: Target[] = [];
    for (const e of exprs) targets.push(await resolveTarget(ctx, e));
    const statement = ctx.prepareCode(stmt, cellMode ? call.line + 1 : call.line);

    const sampler = await MemorySampler.start({ intervalMs: interval * 1e3, heap: true, external: true, children: Boolean(opts.c) });
    let samples: WorkerSamples;
    let log: MarkerLog;
    let t0: number;
    let t1: number;
    const rebound: Target[] = [];
    try {
      collectGarbage();
      t0 = hrtimeMs();
      log = new MarkerLog(t0);
      for (const t of targets) {
        await rebind(ctx, t.expr, log.wrap(t.original, t.name));
        rebound.push(t);
      }
      sampler.begin();
      try {
        await statement();
      } finally {
        t1 = hrtimeMs();
        samples = await sampler.stop();
      }
    } catch (e) {
      await sampler.close();
      throw e;
    } finally {
      for (const t of rebound) await rebind(ctx, t.expr, t.original);
      collectGarbage();
    }
    // Read while the sampler thread still exists: the series include its memory.
    const retained = { rss: rssNow(), heapUsed: v8.getHeapStatistics().used_heap_size, external: v8.getHeapStatistics().external_memory, children: 0 };
    await sampler.close();

    const n = samples.t.length;
    const t = Array.from(samples.t, (x) => (x - t0) / 1e3);
    const toMiBs = (a: Float64Array): number[] => Array.from(a, (x) => x / MiB);
    const series: Partial<Record<SeriesName, number[]>> = { rss: toMiBs(samples.rss), heapUsed: toMiBs(samples.heapUsed), external: toMiBs(samples.external) };
    if (opts.c) series.children = toMiBs(samples.children);
    if (opts.c && samples.children.length) retained.children = samples.children[n - 1];
    const summary: Partial<Record<SeriesName, SeriesSummary>> = {};
    for (const name of Object.keys(series) as SeriesName[]) {
      const v = series[name]!;
      const bytes = name === 'rss' ? samples.rss : name === 'heapUsed' ? samples.heapUsed : name === 'external' ? samples.external : samples.children;
      const g: Growth = growth(samples.t.map((x) => x / 1e3), bytes, retained[name], undefined, name === 'heapUsed');
      summary[name] = { start: v[0] ?? 0, peak: Math.max(...v), end: v.at(-1) ?? 0, retained: retained[name] / MiB, slope: g.slope, onlyGrows: g.onlyGrows };
    }
    const duration = (t1! - t0!) / 1e3;
    const leakNote = leakMessage(summary);
    const notes: string[] = [];
    if (leakNote) notes.push(leakNote.replace(/^⚠ /, ''));
    if (n < 3) notes.push(`only ${n} samples: the statement ran ${(duration * 1e3).toFixed(1)} ms; use a smaller -i for short statements`);
    if (samples.staleHeap > n / 4) notes.push(`heap used was carried over from the previous sample in ${samples.staleHeap} of ${n} samples: the main thread was inside one long native operation (a large fill or copy, synchronous I/O) and answered late`);
    const base = { t, rss: series.rss!, heapUsed: series.heapUsed!, external: series.external!, children: series.children, markers: log!.markers, calls: log!.calls, summary, duration, interval, leak: Boolean(leakNote), stale: { heapUsed: samples.staleHeap, external: samples.staleExternal }, samples: n, rate: duration > 0 ? n / duration : 0 };
    const text = summaryText(base, leakNote);
    const result = new MprofResult(base.t, base.rss, base.heapUsed, base.external, base.children, base.markers, base.calls, summary, duration, interval, base.leak, base.stale, text);

    if (typeof opts.D === 'string') {
      writeFileSync(opts.D, JSON.stringify({ interval, duration, t, ...series, markers: result.markers, calls: result.calls, summary, leak: result.leak }));
      process.stdout.write(`*** Memory series saved to '${opts.D}'.\n`);
    }
    if (!opts.q) {
      // Two displays: a frontend shows one representation per display, and both the table and the chart should show.
      ctx.display.bundle({ 'text/plain': text, 'text/html': htmlReport(result, notes) });
      const series = Object.keys(summary).map((s) => LABELS[s as SeriesName]).join(', ');
      ctx.display.bundle(await chartBundle(mprofChart(result), `[chart: memory over time (${series}) with ${result.markers.length} markers]`));
    }
    if (!opts.o) return undefined;
    displaysAs(result, () => text);
    return result;
  },
};
