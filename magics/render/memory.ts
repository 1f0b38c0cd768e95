// Memory results as text, HTML tables and Vega-Lite charts: %memit's peaks (MemitResult) and
// %mprof's series (MprofResult). Pure functions of the results.
import { escapeHtml } from './format.js';
import { htmlNotes, htmlTable } from './html.js';
import { spec, type VegaLiteSpec } from './vegalite.js';
import { downsample } from '../engines/v8/memory.js';
import type { MemitResult } from '../engines/memit.js';
import type { MprofResult, SeriesName, SeriesSummary } from '../engines/mprof.js';

export const mib = (x: number): string => `${x.toFixed(2)} MiB`;
export const signedMiB = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)} MiB`;
const rate = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)} MiB/s`;

/** memory_profiler's %memit line: `peak memory: 45.30 MiB, increment: 7.60 MiB`. */
export function memitLine(r: Pick<MemitResult, 'peak' | 'increment'>): string {
  return `peak memory: ${r.peak.toFixed(2)} MiB, increment: ${r.increment.toFixed(2)} MiB`;
}

/** The line, then the notes. */
export function memitText(r: MemitResult): string {
  return [memitLine(r), ...r.notes].join('\n');
}

export function memitHtml(r: MemitResult): string {
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
    { header: 'increment', cell: (x) => (x.peak === undefined && x.what === 'ArrayBuffers' ? `${signedMiB(x.increment)} (end − start)` : signedMiB(x.increment)) },
    { header: 'end', cell: (x) => cell(x.end) },
    { header: 'after GC', cell: (x) => cell(x.retained) },
  ]);
  const runs = r.runs.length > 1
    ? `<p style="margin:2px 0">runs: ${r.runs.map((x, i) => `#${i + 1} ${mib(x.peak)} in ${(x.elapsed * 1e3).toFixed(1)} ms`).join(' · ')}</p>`
    : `<p style="margin:2px 0">ran in ${(r.runs[0].elapsed * 1e3).toFixed(1)} ms, ${r.runs[0].gcCount} GCs during the run</p>`;
  return `<div class="tsprof-memit"><p><code>${escapeHtml(memitLine(r))}</code></p>${table}${runs}${htmlNotes(r.notes)}</div>`;
}

/** Points per series in the chart (the result object keeps every sample). */
const CHART_POINTS = 1500;
const LABELS: Record<SeriesName, string> = { rss: 'RSS', heapUsed: 'heap used', external: 'external', children: 'children RSS' };

/** The legend's names of the series a result has, in order. */
export function seriesLabels(r: Pick<MprofResult, 'summary'>): string[] {
  return (Object.keys(r.summary) as SeriesName[]).map((s) => LABELS[s]);
}

export function mprofSummaryText(r: Omit<MprofResult, 'text' | 'toString' | 'samples' | 'rate' | 'notes'> & { rate: number; samples: number }, leakNote: string | undefined): string {
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

export function mprofHtml(r: MprofResult): string {
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
  return `<div class="tsprof-mprof"><p><code>${escapeHtml(r.text.split('\n')[0])}</code></p>${table}${marks ? `<p style="margin:2px 0">${marks}</p>` : ''}${htmlNotes(r.notes)}</div>`;
}

/**
 * The hint needs the JS heap or external memory to only grow: RSS alone is not evidence, because
 * the allocator keeps freed pages mapped, so RSS rarely shrinks after a GC even when nothing leaks.
 */
export function leakMessage(summary: Partial<Record<SeriesName, SeriesSummary>>): string | undefined {
  const grown = (Object.keys(summary) as SeriesName[]).filter((n) => summary[n]!.onlyGrows);
  if (!grown.some((n) => n === 'heapUsed' || n === 'external')) return undefined;
  const parts = grown.map((n) => `${LABELS[n]} ${rate(summary[n]!.slope)}, +${(summary[n]!.retained - summary[n]!.start).toFixed(2)} MiB still held after a full GC`);
  return `⚠ memory only grows (${parts.join('; ')}): a leak? %%leaks finds what grows and what keeps it.`;
}

