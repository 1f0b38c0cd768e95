// The timing core %timeit and its compare mode share: a statement compiled into its loop,
// autorange, runs with GC in between, and the statistics IPython's TimeitResult carries.
import { formatTime, plural, thousands } from '../render/format.js';
import { MeasurementInterrupted, userGlobal, type EngineHost } from './host.js';

export type Clock = 'perf' | 'wall' | 'cpu';

/** IPython's TimeitResult fields, plus median/min/max and operations per second. */
export class TimeitResult {
  readonly best: number;
  readonly worst: number;
  readonly average: number;
  readonly stdev: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly opsPerSec: number;
  /** Per-loop time of each run, in seconds. */
  readonly timings: number[];

  constructor(
    readonly loops: number,
    readonly repeat: number,
    /** Total time of each run (all its loops), in seconds. */
    readonly all_runs: number[],
    readonly compile_time: number,
    readonly precision = 3,
  ) {
    this.timings = all_runs.map((t) => t / loops);
    this.best = Math.min(...this.timings);
    this.worst = Math.max(...this.timings);
    this.min = this.best;
    this.max = this.worst;
    this.average = this.timings.reduce((a, b) => a + b, 0) / this.timings.length;
    this.stdev = Math.sqrt(this.timings.reduce((a, t) => a + (t - this.average) ** 2, 0) / this.timings.length);
    const sorted = [...this.timings].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    this.median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    this.opsPerSec = this.average > 0 ? 1 / this.average : Infinity;
  }

  /** IPython's line: `8.26 ns ± 0.12 ns per loop (mean ± std. dev. of 7 runs, 100,000,000 loops each)`. */
  toString(): string {
    return `${formatTime(this.average, this.precision)} ± ${formatTime(this.stdev, this.precision)} per loop (mean ± std. dev. of ${this.repeat} ${plural(this.repeat, 'run')}, ${thousands(this.loops)} ${plural(this.loops, 'loop')} each)`;
  }
}

export interface TimingPlan {
  /** Loops per run; 0 means autorange. */
  loops: number;
  repeat: number;
  clock: Clock;
  /** Significant digits when the result prints. */
  precision?: number;
  /** Called after each measured run (for progress). */
  onRun?: (done: number, total: number, loops: number) => void;
}

export interface CompiledStatement {
  /** Runs setup once, then the statement `loops` times; returns elapsed seconds for the loops. */
  run: (loops: number) => number | Promise<number>;
  isAsync: boolean;
  compileTime: number;
}

const CLOCKS: Record<Clock, string> = {
  // performance.now() is monotonic with sub-microsecond resolution and no BigInt allocation.
  perf: 'performance.now() / 1e3',
  wall: 'Date.now() / 1e3',
  cpu: '((u) => (u.user + u.system) / 1e6)(process.cpuUsage())',
};

/**
 * The statement goes inside the loop as source, not as a callback, so a cheap statement is not
 * dominated by a call per iteration. The function runs in the notebook's global scope and so sees
 * every variable and function earlier cells defined.
 */
export function compileStatement(ctx: EngineHost, stmt: string, setup: string, clock: Clock): CompiledStatement {
  const isAsync = /\bawait\b/.test(stmt) || /\bawait\b/.test(setup);
  const t0 = performance.now();
  const body = [
    setup,
    `const __tsprof_t0 = ${CLOCKS[clock]};`,
    'for (let __tsprof_i = 0; __tsprof_i < __tsprof_loops; __tsprof_i++) {',
    stmt,
    '}',
    `return ${CLOCKS[clock]} - __tsprof_t0;`,
  ].join('\n');
  const fn = ctx.compileFunction(['__tsprof_loops'], body, { async: isAsync, name: 'timeit_inner' }) as (n: number) => number | Promise<number>;
  return { run: fn, isAsync, compileTime: (performance.now() - t0) / 1e3 };
}

const gc = (): void => (userGlobal as { gc?: () => void }).gc?.();

/** One measured run, interruptible; GC first (unless `collect` is false) so garbage from the last run is not billed to this one. */
async function oneRun(ctx: EngineHost, compiled: CompiledStatement, loops: number, collect = true): Promise<number> {
  if (collect) gc?.();
  if (ctx.interrupted) throw new MeasurementInterrupted();
  if (compiled.isAsync) return await compiled.run(loops);
  return ctx.interruptible(() => compiled.run(loops) as number);
}


/** IPython's autorange: 1, 10, 100, … loops until one run takes at least 0.2 s. */
export async function autorange(ctx: EngineHost, compiled: CompiledStatement): Promise<number> {
  let loops = 1;
  for (let index = 0; index < 10; index++) {
    loops = 10 ** index;
    if ((await oneRun(ctx, compiled, loops)) >= 0.2) break;
  }
  return loops;
}

export async function measure(ctx: EngineHost, compiled: CompiledStatement, plan: TimingPlan): Promise<TimeitResult> {
  const loops = plan.loops > 0 ? plan.loops : await autorange(ctx, compiled);
  const runs: number[] = [];
  for (let r = 0; r < plan.repeat; r++) {
    runs.push(await oneRun(ctx, compiled, loops));
    plan.onRun?.(r + 1, plan.repeat, loops);
  }
  return new TimeitResult(loops, plan.repeat, runs, compiled.compileTime, plan.precision);
}

/** Per-iteration costs of a statement and of an empty loop, timed the same way. */
export interface LoopFloor {
  statement: number;
  empty: number;
}

/**
 * Times the statement and an empty loop in alternation, best of five each, so both see the same
 * machine: comparing the report's runs with an empty loop timed afterwards let a burst of load on
 * a shared machine land on one side only and flip the verdict. Runs last about 5 ms each.
 */
export async function loopFloor(ctx: EngineHost, compiled: CompiledStatement, clock: Clock, perLoop: number): Promise<LoopFloor> {
  const empty = compileStatement(ctx, '', '', clock);
  const loops = Math.min(1e8, Math.max(1000, Math.ceil(5e-3 / Math.max(perLoop, 1e-10))));
  // No GC before these ~5 ms runs: ten full collections would cost more than the runs themselves.
  const best = { statement: Infinity, empty: Infinity };
  for (let i = 0; i < 5; i++) {
    best.empty = Math.min(best.empty, (await oneRun(ctx, empty, loops, false)) / loops);
    best.statement = Math.min(best.statement, (await oneRun(ctx, compiled, loops, false)) / loops);
  }
  return best;
}
