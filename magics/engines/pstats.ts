// The profile as pstats shows it: one row per function with ncalls, tottime, cumtime and their
// per-call values; sorting and limiting with pstats' keys and restrictions; the text layout.
import { EngineUsageError as UsageError } from './host.js';
import { displayFile, type SourceIndex } from './v8/sources.js';
import { unnamed, type FunctionId, type UserProfile } from './v8/calltree.js';
import type { ScriptCoverage } from './v8/inspector.js';

export interface FunctionStats {
  fn: FunctionId;
  /** `cell-3:12(fib)`, pstats' `filename:lineno(function)`. */
  label: string;
  file: string;
  /** 1-based line of the function. */
  line: number;
  /** Exact call count, when counted. */
  ncalls?: number;
  /** Primitive calls (not made from inside the function itself), when counted: pstats' `ncalls/primitive`. */
  pcalls?: number;
  /** Seconds with the function on top of the stack. */
  tottime: number;
  /** Seconds with the function anywhere on the stack (recursion counted once). */
  cumtime: number;
  samples: number;
}

export function labelOf(fn: FunctionId): string {
  if (fn.key === '(garbage collector)') return '~:0(<garbage collector>)';
  return `${displayFile(fn.url)}:${fn.line + 1}(${fn.name})`;
}

function row(fn: FunctionId): FunctionStats {
  return { fn, label: labelOf(fn), file: displayFile(fn.url), line: fn.line + 1, tottime: 0, cumtime: 0, samples: 0 };
}

/** Aggregate sampled stacks per function. */
export function functionStats(up: UserProfile): Map<string, FunctionStats> {
  const rows = new Map<string, FunctionStats>();
  const get = (fn: FunctionId): FunctionStats => {
    let r = rows.get(fn.key);
    if (!r) rows.set(fn.key, (r = row(fn)));
    return r;
  };
  for (const { frames, duration } of up.stacks) {
    const s = duration / 1e6;
    const leaf = get(frames[frames.length - 1]);
    leaf.tottime += s;
    leaf.samples++;
    const seen = new Set<string>();
    for (const f of frames) {
      if (seen.has(f.key)) continue;
      seen.add(f.key);
      get(f).cumtime += s;
    }
  }
  return rows;
}

/** User scripts: cells and files outside the kernel; Node's internals and the kernel are not counted. */
function isUserScript(url: string, kernelDist: string): boolean {
  return url.startsWith('cell-') || (url.startsWith('file://') && !url.startsWith(kernelDist));
}

/**
 * Exact call counts from precise coverage, joined to the sampled rows. A coverage function is the
 * one whose first range (the whole function) is the smallest containing the profile's position.
 * Functions that were called but never sampled get a row too, as in pstats.
 */
export function addCallCounts(rows: Map<string, FunctionStats>, coverage: ScriptCoverage[], sources: SourceIndex, kernelDist: string): void {
  for (const script of coverage) {
    if (!isUserScript(script.url, kernelDist)) continue;
    const fns = script.functions.filter((f) => f.ranges[0] && f.ranges[0].count > 0);
    // Sampled rows of this script first: find their coverage function by position.
    const claimed = new Set<number>();
    for (const r of rows.values()) {
      if (r.fn.url !== script.url) continue;
      const off = sources.offset(script.url, r.fn.line, r.fn.column);
      if (off === undefined) continue;
      // Two functions can start at one offset (a module, and `function f` on its first column):
      // the one with the profile's name wins, then the smallest.
      const name = r.fn.name.startsWith('<') ? '' : r.fn.name;
      const size = (i: number): number => fns[i].ranges[0].endOffset - fns[i].ranges[0].startOffset;
      let best = -1;
      for (let i = 0; i < fns.length; i++) {
        const range = fns[i].ranges[0];
        if (range.startOffset > off || off >= range.endOffset) continue;
        const named = fns[i].functionName === name;
        const bestNamed = best >= 0 && fns[best].functionName === name;
        if (best < 0 || (named && !bestNamed) || (named === bestNamed && size(i) < size(best))) best = i;
      }
      if (best >= 0) {
        r.ncalls = fns[best].ranges[0].count;
        claimed.add(best);
      }
    }
    fns.forEach((f, i) => {
      if (claimed.has(i)) return;
      const start = f.ranges[0].startOffset;
      const line = sources.line(script.url, start);
      if (line === undefined) return;
      const fn: FunctionId = { key: `${script.url}:${line}:cov${start}:${f.functionName}`, name: f.functionName || (start === 0 ? unnamed(script.url, 0, 0) : '<anonymous>'), url: script.url, line, column: 0, scriptId: script.scriptId };
      const r = row(fn);
      r.ncalls = f.ranges[0].count;
      rows.set(fn.key, r);
    });
  }
}

// ---- sorting and limiting, with pstats' names ---------------------------

type Cmp = (a: FunctionStats, b: FunctionStats) => number;
const SORTS: Record<string, { cmp: Cmp; title: string }> = {
  calls: { cmp: (a, b) => (b.ncalls ?? b.samples) - (a.ncalls ?? a.samples), title: 'call count' },
  cumulative: { cmp: (a, b) => b.cumtime - a.cumtime, title: 'cumulative time' },
  time: { cmp: (a, b) => b.tottime - a.tottime, title: 'internal time' },
  name: { cmp: (a, b) => a.fn.name.localeCompare(b.fn.name), title: 'function name' },
  file: { cmp: (a, b) => a.file.localeCompare(b.file), title: 'file name' },
  line: { cmp: (a, b) => a.line - b.line, title: 'line number' },
  stdname: { cmp: (a, b) => a.label.localeCompare(b.label), title: 'standard name' },
};
const ALIASES: Record<string, string> = {
  ncalls: 'calls', pcalls: 'calls', cumtime: 'cumulative', tottime: 'time', filename: 'file', module: 'file', nfl: 'nfl',
};

export function sortRows(rows: FunctionStats[], keys: string[]): { rows: FunctionStats[]; orderedBy: string } {
  const expanded = keys.flatMap((k) => (k === 'nfl' ? ['name', 'file', 'line'] : [ALIASES[k] ?? k]));
  for (const k of expanded) if (!SORTS[k]) throw new UsageError(`%prun: unknown sort key ${JSON.stringify(k)}; use one of ${[...Object.keys(SORTS), ...Object.keys(ALIASES)].sort().join(', ')}`);
  const sorted = [...rows].sort((a, b) => {
    for (const k of expanded) {
      const c = SORTS[k].cmp(a, b);
      if (c !== 0) return c;
    }
    return 0;
  });
  return { rows: sorted, orderedBy: expanded.map((k) => SORTS[k].title).join(', ') };
}

/** pstats restrictions, applied in order: an integer keeps that many rows, a fraction that share, a string is a regex on the label. */
export function limitRows(rows: FunctionStats[], limits: string[]): FunctionStats[] {
  let out = rows;
  for (const l of limits) {
    if (/^\d+$/.test(l)) out = out.slice(0, Number(l));
    else if (/^(0?\.\d+|1(\.0*)?)$/.test(l)) out = out.slice(0, Math.round(out.length * Number(l)));
    else {
      let re: RegExp;
      try {
        re = new RegExp(l);
      } catch {
        throw new UsageError(`%prun: -l ${JSON.stringify(l)} is not a number, a fraction or a valid regular expression`);
      }
      out = out.filter((r) => re.test(r.label));
    }
  }
  return out;
}

// ---- text ----------------------------------------------------------------

const f8 = (x: number): string => x.toFixed(3).padStart(8);

/** `242785/1` for a recursive function (total/primitive), as pstats prints it; `-` when not counted. */
export function callsText(r: Pick<FunctionStats, 'ncalls' | 'pcalls'>): string {
  if (r.ncalls === undefined) return '-';
  return r.pcalls !== undefined && r.pcalls !== r.ncalls ? `${r.ncalls}/${r.pcalls}` : String(r.ncalls);
}

export function pstatsText(rows: FunctionStats[], header: string, orderedBy: string, restricted: string | undefined): string {
  const lines = ['', `         ${header}`, '', `   Ordered by: ${orderedBy}`];
  if (restricted) lines.push(`   ${restricted}`);
  lines.push('', '   ncalls  tottime  percall  cumtime  percall filename:lineno(function)');
  for (const r of rows) {
    const n = r.ncalls;
    const calls = callsText(r);
    // pstats divides cumtime by the primitive calls (the calls that began a recursion).
    const p = r.pcalls ?? n;
    const per = (x: number, by: number | undefined): string => (by ? f8(x / by) : '       -');
    lines.push(`${calls.padStart(9)} ${f8(r.tottime)} ${per(r.tottime, n)} ${f8(r.cumtime)} ${per(r.cumtime, p)} ${r.label}`);
  }
  return lines.join('\n') + '\n';
}
