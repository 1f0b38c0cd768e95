// %lprun's report as text, line_profiler's layout: shared by the notebook, the command line and the library.
import { TIMER_UNIT, type FunctionLines, type LineProfileRun } from '../engines/line-profile.js';

/** A line profile: its functions and the report, printed as the report. */
export class LineProfileResult {
  /** -x: share of the run the clock thread had a CPU (see LineProfileRun.clockShare). */
  clockShare?: number;
  /** Default mode: share of the run the sampler thread watched (see LineProfileRun.samplerShare). */
  samplerShare?: number;
  /** Milliseconds the statement's thread waited for a CPU (see LineProfileRun.waitedMs). */
  waitedMs?: number;
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

/** Below this share of the statement, a helper thread (the sampler, the -x clock) is said to have waited for a CPU. */
export const STARVED_SHARE = 0.8;

/**
 * What a busy machine did to this run, said under the table: the -x clock thread or the sampler
 * waited for a CPU (time unseen, or put on whichever lines were current when it woke), or the
 * statement's own thread did (wall-clock time in the lines it was preempted on, as line_profiler's).
 */
export function busyMachineNotes(run: LineProfileRun): string[] {
  const notes: string[] = [];
  const ms = (run.wall * 1e3).toFixed(1);
  const silent = run.functions.every((f) => f.total === 0);
  // One wording for either helper thread: what went wrong with the times, and the other mode to try.
  const helper = (thread: string, share: number | undefined, what: string, instead: string): void => {
    if (share === undefined || share >= STARVED_SHARE) return;
    notes.push(`The ${thread} thread waited for a CPU during ${(100 * (1 - share)).toFixed(0)}% of the statement (${ms} ms): every CPU was busy (other processes, or V8's compiler and GC threads), ${what}. Run it again (a second run finds the copy compiled), or when the machine is quieter, or ${instead}.`);
  };
  helper('clock', run.clockShare, silent ? 'so the clock did not move while the profiled code ran and every line reads 0' : 'so the clock stood still and then jumped, and each jump went to the lines current at that moment', 'use %lprun without -x (sampled)');
  helper('sampler', run.samplerShare, `${silent ? 'so no sample landed and the Time column is empty' : 'so the Time column misses part of the run, or holds it in the lines current when the sampler woke'}; hits are exact`, 'time every line with -x');
  const wallMs = run.wall * 1e3;
  // A few preemptions are normal (on 2 cores the -x clock thread holds one); a tenth of the run is not.
  if (run.waitedMs !== undefined && run.waitedMs >= 1 && run.waitedMs > 0.1 * wallMs) {
    notes.push(`The statement waited ${run.waitedMs.toFixed(1)} ms of its ${ms} ms for a CPU (other threads or processes had them): times are wall-clock, as line_profiler's, so that wait is in the lines that were running when it came.`);
  }
  return notes;
}
