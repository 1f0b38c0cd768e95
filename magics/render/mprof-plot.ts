// The chart of an mprof recording (`tsprof mprof plot`): memory over time of the process tree —
// the recorded total, each child's RSS (--multiprocess), each Node process's JS heap — with the calls
// of marked functions as brackets on the chart, or, with `flame`, as a flame-style timeline below it
// (one bar per call, nested calls stacked), as `mprof plot --flame` draws them.
import { downsample } from '../engines/v8/memory.js';
import type { Mprofile } from '../engines/export/mprofile.js';
import { spec, type VegaLiteSpec } from './vegalite.js';

const POINTS = 1500;
/** Above this many calls, brackets would bury the lines: the chart shows calls in flight instead. */
const MAX_BRACKETS = 40;

function shortCommand(command: string | undefined, pid: number): string {
  if (!command) return `pid ${pid}`;
  const words = command.split(' ').filter(Boolean);
  const script = words.find((w, i) => i > 0 && !w.startsWith('-'))?.split('/').at(-1);
  return `${words[0].split('/').at(-1)}${script ? ` ${script}` : ''} (${pid})`;
}

export interface PlotOptions {
  title?: string;
  flame?: boolean;
  /** Leave out the JS heap series. */
  noHeap?: boolean;
}

export function mprofPlotSpec(p: Mprofile, o: PlotOptions = {}): VegaLiteSpec {
  const t0 = Math.min(p.mem[0]?.t ?? Infinity, ...p.funcs.map((f) => f.start)) || 0;
  const rootPid = [...p.procs.keys()][0];
  const values: Array<{ t: number; MiB: number; series: string }> = [];
  const add = (series: string, pts: Array<{ t: number; v: number }>): void => {
    for (const [t, v] of downsample(pts.map((x) => x.t - t0), pts.map((x) => x.v), POINTS)) values.push({ t, MiB: v, series });
  };
  add('memory used (MEM)', p.mem.map((m) => ({ t: m.t, v: m.mib })));
  for (const [pid, pts] of p.children) add(`RSS ${shortCommand(p.procs.get(pid)?.command, pid)}`, pts.map((m) => ({ t: m.t, v: m.mib })));
  if (!o.noHeap) for (const [pid, pts] of p.heap) add(`JS heap ${pid === rootPid ? 'main ' : ''}${shortCommand(p.procs.get(pid)?.command, pid)}`, pts.map((h) => ({ t: h.t, v: h.used })));
  const calls = p.funcs.map((f, i) => ({ name: f.name, label: `${f.name} #${i + 1}`, start: f.start - t0, end: f.end - t0, level: f.level, ms: (f.end - f.start) * 1e3, memStart: f.memStart, memEnd: f.memEnd }));

  const memory: Record<string, unknown>[] = [{
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time (s)' },
      y: { field: 'MiB', type: 'quantitative', title: 'memory (MiB)' },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 360 } },
      tooltip: [{ field: 'series' }, { field: 't', title: 's', format: '.3f' }, { field: 'MiB', format: '.2f' }],
    },
  }];
  if (calls.length && !o.flame) {
    if (calls.length <= MAX_BRACKETS) {
      memory.unshift({ data: { values: calls }, mark: { type: 'rect', opacity: 0.08, color: '#555' }, encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' }, tooltip: [{ field: 'label' }, { field: 'ms', title: 'ms', format: '.2f' }] } });
      memory.push({ data: { values: calls }, mark: { type: 'rule', color: '#555', strokeWidth: 1 }, encoding: { x: { field: 'start', type: 'quantitative' } } });
      memory.push({ data: { values: calls }, mark: { type: 'rule', color: '#555', strokeDash: [3, 3] }, encoding: { x: { field: 'end', type: 'quantitative' } } });
      if (calls.length <= 10) memory.push({ data: { values: calls }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 2, fontSize: 9, color: '#333' }, encoding: { x: { field: 'start', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } } });
    } else {
      const duration = Math.max(...values.map((v) => v.t), ...calls.map((c) => c.end), 1e-3);
      const bins = 120;
      const step = duration / bins;
      const inFlight = Array.from({ length: bins }, (_, i) => ({ t: i * step, calls: 0 }));
      for (const c of calls) for (let i = Math.max(0, Math.floor(c.start / step)); i < bins && i * step <= c.end; i++) inFlight[i].calls++;
      memory.unshift({
        data: { values: inFlight },
        mark: { type: 'area', interpolate: 'step-after', opacity: 0.15, color: '#555' },
        encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'calls', type: 'quantitative', title: `marked calls in flight (${calls.length})`, axis: { orient: 'right' } }, tooltip: [{ field: 't', format: '.3f' }, { field: 'calls' }] },
      });
    }
  }
  const title = o.title ?? (p.cmdline ? `mprof: ${p.cmdline}` : 'memory over time');
  const chart = { width: 640, height: 260, layer: memory, ...(calls.length > MAX_BRACKETS && !o.flame ? { resolve: { scale: { y: 'independent' } } } : {}) };
  if (!o.flame || !calls.length) return spec({ title, ...chart });
  // The flame-style timeline: a bar per call, deeper calls below, on the memory chart's time axis.
  const flame = {
    width: 640,
    height: Math.min(200, 24 * Math.max(...calls.map((c) => c.level))),
    data: { values: calls },
    mark: { type: 'bar', cornerRadius: 2 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: 'time (s)' },
      x2: { field: 'end' },
      y: { field: 'level', type: 'ordinal', title: 'call depth' },
      color: { field: 'name', type: 'nominal', title: 'marked function', legend: { orient: 'bottom' } },
      tooltip: [{ field: 'label' }, { field: 'ms', title: 'ms', format: '.2f' }, { field: 'memStart', title: 'MiB at start', format: '.1f' }, { field: 'memEnd', title: 'MiB at end', format: '.1f' }],
    },
  };
  return spec({ title, vconcat: [chart, flame], resolve: { scale: { x: 'shared', color: 'independent' } } });
}
