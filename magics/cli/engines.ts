// The command line's adapters onto the measuring engines: each function here is the one place a
// CLI command calls an engine. They call the engines as they are on main today; when the engine
// branches land (prun, lines, timeit: typed engine functions in magics/engines/), these are the
// lines that change — the commands themselves do not.
import type { EngineHost } from '../engines/host.js';
import { compileStatement, measure, type Clock, type TimeitResult } from '../engines/timing.js';
// MERGE(timeit branch): warnings() moves from the notebook front end into the timing engine.
import { warnings } from '../notebook/timeit.js';

export interface TimingPlan {
  loops: number;
  repeat: number;
  clock: Clock;
  precision: number;
}

/** %timeit's measurement: compile into the loop, autorange, R runs; plus the warnings %timeit prints. */
export async function timeStatement(host: EngineHost, stmt: string, setup: string, plan: TimingPlan, onRun?: (done: number, total: number, loops: number) => void): Promise<{ result: TimeitResult; notes: string[] }> {
  const compiled = compileStatement(host, stmt, setup, plan.clock);
  const result = await measure(host, compiled, { ...plan, onRun });
  return { result, notes: await warnings(host, result, compiled, plan.clock) };
}
