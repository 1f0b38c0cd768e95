// A TimeitResult (and a comparison of several) as text, an HTML table and Vega-Lite charts. Every
// figure shown is a field of the result, formatted the same way wherever it appears, so the line,
// the table, the chart and the warnings can be checked against each other.
import { EMPTY_LOOP_SHOWN_BELOW, type CompareResult, type TimeitResult, type TimeResult, type TimingWarning } from '../engines/timing.js';
import { escapeHtml, formatTime, thousands } from './format.js';
import { htmlNotes, htmlTable } from './html.js';
import { spec, type VegaLiteSpec } from './vegalite.js';

/** One warning in words, with its figures formatted as the table formats them. */
export function warningText(w: TimingWarning, precision = 3): string {
  const f = (s: number): string => formatTime(s, precision);
  switch (w.kind) {
    case 'slowest-run':
      // IPython's words.
      return `The slowest run took ${w.ratio.toFixed(2)} times longer than the fastest. This could mean that an intermediate result is being cached.`;
    case 'optimized-out': {
      const [s, e] = [f(w.statement), f(w.empty)];
      const where = `fastest run ${s} against ${e} per loop, over the same ${thousands(w.runs)} × ${thousands(w.loops)} loops`;
      const advice = 'Use its result (e.g. assign it to an outer variable) to measure it.';
      return w.statement < w.empty && s !== e
        ? `The statement measured faster than an empty loop timed beside it (${where}): nothing of it is left to measure, it was likely optimized out. ${advice}`
        : `The statement costs about as much as an empty loop timed beside it (${where}): it was likely optimized out. ${advice}`;
    }
    case 'cold-first-run':
      return `The first run took ${f(w.first)} per loop, ${w.ratio.toFixed(1)}× the median (${f(w.median)}): with -n there are no calibration runs, so the first run paid for V8 compiling and warming up the statement. Without -n, autorange's calibration runs do that before the measured runs.`;
    case 'compile-time':
      // IPython's words.
      return `Compiler time: ${w.seconds.toFixed(2)} s`;
  }
}

/**
 * IPython's text output: the slowest-run warning before the line, the compile time after it; our
 * own warnings follow, each on a line beginning with ⚠.
 */
export function timeitText(r: TimeitResult): string {
  const before = r.warnings.filter((w) => w.kind === 'slowest-run').map((w) => warningText(w, r.precision));
  const after = r.warnings.filter((w) => w.kind === 'compile-time').map((w) => warningText(w, r.precision));
  const ours = r.warnings.filter((w) => w.kind === 'optimized-out' || w.kind === 'cold-first-run').map((w) => `⚠ ${warningText(w, r.precision)}`);
  return [...before, r.toString(), ...after, ...ours].join('\n');
}

/** The empty loop's figures, when they matter: the statement is under 1 μs per loop, or a warning quotes them. */
export function shownEmptyLoop(r: TimeitResult): TimeitResult['emptyLoop'] {
  const matters = r.best < EMPTY_LOOP_SHOWN_BELOW || r.warnings.some((w) => w.kind === 'optimized-out');
  return matters ? r.emptyLoop : undefined;
}

export function timeitTable(r: TimeitResult): string {
  const f = (s: number): string => formatTime(s, r.precision);
  return htmlTable([r], [
    { header: 'mean', cell: (x) => f(x.average) },
    { header: 'std. dev.', cell: (x) => f(x.stdev) },
    { header: 'min', cell: (x) => f(x.min) },
    { header: 'median', cell: (x) => f(x.median) },
    { header: 'max', cell: (x) => f(x.max) },
    { header: 'runs × loops', cell: (x) => `${x.repeat} × ${thousands(x.loops)}` },
    { header: 'ops/s', cell: (x) => thousands(x.opsPerSec) },
    ...(shownEmptyLoop(r) ? [{ header: 'empty loop (min)', cell: () => f(r.emptyLoop!.best) }] : []),
  ]);
}

export function timeitHtml(r: TimeitResult): string {
  return `<div class="tsprof-timeit"><p><code>${escapeHtml(r.toString())}</code></p>${timeitTable(r)}${htmlNotes(r.warnings.map((w) => warningText(w, r.precision)))}</div>`;
}

export interface RunPoint {
  run: number;
  series: 'statement' | 'empty loop';
  /** µs per loop. */
  us: number;
}

/** Per-run time per loop as bars, with the mean as a rule; the empty loop beside each run when it was timed. */
export function runsChart(r: TimeitResult): VegaLiteSpec {
  const values: RunPoint[] = r.timings.map((t, i) => ({ run: i + 1, series: 'statement', us: t * 1e6 }));
  const empty = shownEmptyLoop(r);
  if (empty) values.push(...empty.timings.map((t, i): RunPoint => ({ run: i + 1, series: 'empty loop', us: t * 1e6 })));
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: ['statement', 'empty loop'], range: ['#3178c6', '#bbbbbb'] } };
  return spec({
    title: 'time per loop, each run',
    width: 320,
    height: 120,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'run', type: 'ordinal', title: 'run' },
          xOffset: { field: 'series', sort: ['statement', 'empty loop'] },
          y: { field: 'us', type: 'quantitative', title: 'µs per loop' },
          color: empty ? color : { value: '#3178c6' },
          tooltip: [{ field: 'run' }, { field: 'series' }, { field: 'us', title: 'µs per loop', format: '.4g' }],
        },
      },
      { transform: [{ filter: "datum.series === 'statement'" }], mark: { type: 'rule', color: '#d62728' }, encoding: { y: { aggregate: 'mean', field: 'us', type: 'quantitative' } } },
    ],
  });
}

export function compareText(c: CompareResult): string {
  return c.toString();
}

export function compareTable(c: CompareResult): string {
  const p = c.variants[0]?.result.precision ?? 3;
  const f = (s: number): string => formatTime(s, p);
  return htmlTable(c.variants, [
    { header: 'variant', cell: (v) => v.label, align: 'left' },
    { header: 'mean ± std. dev.', cell: (v) => `${f(v.result.average)} ± ${f(v.result.stdev)}` },
    { header: 'min', cell: (v) => f(v.result.min) },
    { header: 'median', cell: (v) => f(v.result.median) },
    { header: 'runs × loops', cell: (v) => `${v.result.repeat} × ${thousands(v.result.loops)}` },
    { header: 'vs fastest', cell: (v) => (v.ratio === 1 ? 'fastest' : `${v.ratio.toFixed(2)}× slower`) },
  ]);
}

/** Each variant's warnings, named, under the comparison. */
export function compareNotes(c: CompareResult): string[] {
  return c.variants.flatMap((v) => v.result.warnings.map((w) => `${v.label}: ${warningText(w, v.result.precision)}`));
}

export function compareChart(c: CompareResult): VegaLiteSpec {
  return spec({
    title: 'mean time per loop (lower is faster)',
    width: 360,
    data: { values: c.variants.map((v) => ({ variant: v.label, us: v.result.average * 1e6, sd: v.result.stdev * 1e6, ratio: v.ratio })) },
    layer: [
      { mark: { type: 'bar', color: '#3178c6' }, encoding: { y: { field: 'variant', type: 'nominal', sort: null, title: null }, x: { field: 'us', type: 'quantitative', title: 'µs per loop' }, tooltip: [{ field: 'variant' }, { field: 'us', title: 'µs per loop', format: '.4g' }, { field: 'ratio', title: '× fastest', format: '.2f' }] } },
      { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { y: { field: 'variant', type: 'nominal', sort: null }, x: { field: 'us', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.2f' } } },
    ],
  });
}

/** The comparison's HTML: the ranked table and every variant's warnings. */
export function compareHtml(c: CompareResult): string {
  return `${compareTable(c)}${htmlNotes(compareNotes(c))}`;
}

/** Compile times above this are reported, as IPython does. */
const COMPILE_REPORT_MIN = 0.1;

/** IPython's %time lines: `CPU times: user …, sys: …, total: …` / `Wall time: …` (and `Compiler : …` past 0.1 s). */
export function timeText(t: TimeResult): string {
  const lines = [`CPU times: user ${formatTime(t.user)}, sys: ${formatTime(t.system)}, total: ${formatTime(t.user + t.system)}`, `Wall time: ${formatTime(t.wall)}`];
  if (t.compile !== undefined && t.compile > COMPILE_REPORT_MIN) lines.push(`Compiler : ${formatTime(t.compile)}`);
  return lines.join('\n');
}
