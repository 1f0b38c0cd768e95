// Timing baselines: what watched functions (and named timeit results) cost in one run, saved to a
// JSON file, and compared with another run's file so a CI job can fail on a regression against the
// last commit's figures (`tsprof baseline check BASE CURRENT`, see baseline-cli.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { EngineUsageError } from '../engines/host.js';
import type { TimeitResult } from '../engines/timing.js';
import { formatTime } from '../render/format.js';
import { watched } from './watch.js';

/** Seconds per call, by statistic. */
export interface BaselineEntry {
  calls: number;
  mean: number;
  median: number;
  min: number;
  stdev: number;
  p95: number;
}

export interface Baseline {
  version: 1;
  /** ISO time the figures were taken. */
  created: string;
  /** `git rev-parse HEAD` where they were taken, when in a git checkout. */
  commit?: string;
  functions: Record<string, BaselineEntry>;
}

export type BaselineStat = 'median' | 'mean' | 'min' | 'p95';
const STATS: BaselineStat[] = ['median', 'mean', 'min', 'p95'];

const timed = new Map<string, BaselineEntry>();

/** Add a timeit result to the baseline under `name` (its per-loop times are the calls). */
export function recordTimeit(name: string, r: TimeitResult): void {
  const sorted = [...r.timings].sort((a, b) => a - b);
  timed.set(name, { calls: r.repeat * r.loops, mean: r.average, median: r.median, min: r.best, stdev: r.stdev, p95: sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] });
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process's figures: every watched function with at least one call, and the recorded timeit results. */
export function currentBaseline(): Baseline {
  const functions: Record<string, BaselineEntry> = {};
  for (const [name, s] of watched) if (s.calls > 0) functions[name] = { calls: s.calls, mean: s.mean, median: s.median, min: s.min, stdev: s.stdev, p95: s.p95 };
  for (const [name, e] of timed) functions[name] = e;
  return { version: 1, created: new Date().toISOString(), commit: gitCommit(), functions };
}

export function writeBaseline(file: string, baseline: Baseline = currentBaseline()): Baseline {
  writeFileSync(file, `${JSON.stringify(baseline, null, 1)}\n`);
  return baseline;
}

export function readBaseline(file: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EngineUsageError(`cannot read the baseline ${file}: ${(e as Error).message}`);
  }
  const b = data as Partial<Baseline>;
  if (b?.version !== 1 || typeof b.functions !== 'object' || b.functions === null) throw new EngineUsageError(`${file} is not a tsprof baseline (version 1 with "functions")`);
  for (const [name, e] of Object.entries(b.functions)) {
    for (const k of STATS) if (typeof (e as unknown as Record<string, unknown>)[k] !== 'number') throw new EngineUsageError(`${file}: ${name} has no number "${k}"`);
  }
  return b as Baseline;
}

export interface ComparisonRow {
  name: string;
  /** Seconds per call, the chosen statistic. */
  base?: number;
  current?: number;
  /** current / base. */
  ratio?: number;
  status: 'regression' | 'faster' | 'same' | 'new' | 'gone';
}

export interface BaselineComparison {
  stat: BaselineStat;
  factor: number;
  rows: ComparisonRow[];
  regressions: ComparisonRow[];
  base: Baseline;
  current: Baseline;
}

/**
 * Each function's statistic in `current` against `base`: a regression when it is more than `factor`
 * times the baseline's, faster when less than 1/factor. Functions only in one file are listed too.
 */
export function compareBaselines(base: Baseline, current: Baseline, options: { factor?: number; stat?: BaselineStat } = {}): BaselineComparison {
  const factor = options.factor ?? 1.5;
  const stat = options.stat ?? 'median';
  if (!(factor > 1)) throw new EngineUsageError(`the factor must be > 1, got ${factor}`);
  if (!STATS.includes(stat)) throw new EngineUsageError(`the statistic must be one of ${STATS.join(', ')}, got ${stat}`);
  const names = [...new Set([...Object.keys(base.functions), ...Object.keys(current.functions)])].sort();
  const rows = names.map((name): ComparisonRow => {
    const b = base.functions[name]?.[stat];
    const c = current.functions[name]?.[stat];
    if (b === undefined) return { name, current: c, status: 'new' };
    if (c === undefined) return { name, base: b, status: 'gone' };
    const ratio = b > 0 ? c / b : c > 0 ? Infinity : 1;
    return { name, base: b, current: c, ratio, status: ratio > factor ? 'regression' : ratio < 1 / factor ? 'faster' : 'same' };
  });
  rows.sort((x, y) => (y.status === 'regression' ? 1 : 0) - (x.status === 'regression' ? 1 : 0) || (y.ratio ?? 0) - (x.ratio ?? 0));
  return { stat, factor, rows, regressions: rows.filter((r) => r.status === 'regression'), base, current };
}

/** The comparison as a table, regressions first, with a verdict line. */
export function comparisonTable(c: BaselineComparison): string {
  const head = ['function', `baseline (${c.stat})`, `current (${c.stat})`, 'ratio', ''];
  const body = c.rows.map((r) => [
    r.name,
    r.base === undefined ? '—' : formatTime(r.base),
    r.current === undefined ? '—' : formatTime(r.current),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.status === 'regression' ? `REGRESSION (> ${c.factor}×)` : r.status === 'faster' ? 'faster' : r.status === 'new' ? 'new' : r.status === 'gone' ? 'not run' : '',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
  const fmt = (cells: string[]): string => cells.map((x, k) => (k === 0 || k === 4 ? x.padEnd(widths[k]) : x.padStart(widths[k]))).join('  ').trimEnd();
  const from = (b: Baseline): string => (b.commit ? `commit ${b.commit.slice(0, 12)}` : b.created);
  const verdict = c.regressions.length
    ? `${c.regressions.length} ${c.regressions.length === 1 ? 'regression' : 'regressions'} against ${from(c.base)} (more than ${c.factor}× the baseline's ${c.stat})`
    : `no regression against ${from(c.base)} (factor ${c.factor}, ${c.stat})`;
  return [fmt(head), ...body.map(fmt), '', verdict].join('\n');
}

/** With TSPROF_BASELINE=FILE in the environment, this process writes its figures to FILE when it exits. */
export function writeBaselineAtExit(file = process.env.TSPROF_BASELINE): void {
  if (!file) return;
  process.once('exit', () => {
    try {
      writeBaseline(file);
    } catch (e) {
      process.stderr.write(`tsprof: could not write the baseline ${file}: ${(e as Error).message}\n`);
    }
  });
}
