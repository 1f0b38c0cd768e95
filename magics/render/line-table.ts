// %lprun's report as text, line_profiler's layout: shared by the notebook, the command line and the library.
import { TIMER_UNIT, type FunctionLines } from '../engines/line-profile.js';

/** A line profile: its functions and the report, printed as the report. */
export class LineProfileResult {
  /** -x: share of the run the clock thread had a CPU (see LineProfileRun.clockShare). */
  clockShare?: number;
  constructor(readonly functions: FunctionLines[], readonly text: string, readonly unit: number) {}
  toString(): string {
    return this.text;
  }
}

/** Python's `'%g' % x`: line_profiler prints its units and totals this way (1e-09, 0.001, 0.0188). */
export function pyG(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 5 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

export function formatFunction(f: FunctionLines, unit: number): string {
  const scale = TIMER_UNIT / unit;
  const header = `${'Line #'.padStart(6)} ${'Hits'.padStart(9)} ${'Time'.padStart(12)} ${'Per Hit'.padStart(8)} ${'% Time'.padStart(8)}  Line Contents`;
  const out = [`Total time: ${pyG(f.total)} s`, `File: ${f.file}`, `Function: ${f.name} at line ${f.line}`, '', header, '='.repeat(header.length)];
  for (const l of f.lines) {
    if (l.hits === undefined && l.time === 0) {
      out.push(`${String(l.line).padStart(6)} ${''.padStart(9)} ${''.padStart(12)} ${''.padStart(8)} ${''.padStart(8)}  ${l.contents}`);
      continue;
    }
    const time = (l.time / TIMER_UNIT) * scale;
    const per = l.hits ? time / l.hits : undefined;
    out.push(`${String(l.line).padStart(6)} ${String(l.hits ?? '').padStart(9)} ${time.toFixed(1).padStart(12)} ${(per === undefined ? '' : per.toFixed(1)).padStart(8)} ${l.percent.toFixed(1).padStart(8)}  ${l.contents}`);
  }
  return out.join('\n');
}

/** The whole text report: the unit of the Time columns (-u, as line_profiler prints it), then each function's table. */
export function lprunText(functions: FunctionLines[], unit: number): string {
  return [`Timer unit: ${pyG(unit)} s`, '', ...functions.map((f) => formatFunction(f, unit) + '\n')].join('\n');
}

/** line_profiler's -s: functions whose Time column is all zero are left out. */
export function stripZeros(functions: FunctionLines[]): FunctionLines[] {
  return functions.filter((f) => f.total > 0);
}

/** Said when functions ran but no sample landed in them: an empty Time column needs a reason and a way out. */
export function unsampledNote(functions: FunctionLines[], intervalUs: number): string | undefined {
  if (!functions.some((f) => f.calls > 0) || functions.some((f) => f.total > 0)) return undefined;
  return `No sample landed in ${functions.map((f) => f.name).join(', ')} (sampled every ${intervalUs} µs or a little more), so the Time column is empty; hits are exact. Profile a longer run (1 ms is enough), or time every line with -x.`;
}
