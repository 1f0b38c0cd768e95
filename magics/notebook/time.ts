// %time / %%time: CPU and wall time of one execution, in IPython's format; returns the value of
// the last expression and works with `await`.
import { formatTime } from '../render/format.js';
import type { Magic } from './types.js';

export interface TimeResult {
  user: number;
  system: number;
  wall: number;
}

export function timeLines(t: TimeResult): string {
  return `CPU times: user ${formatTime(t.user)}, sys: ${formatTime(t.system)}, total: ${formatTime(t.user + t.system)}\nWall time: ${formatTime(t.wall)}`;
}

export const time: Magic = {
  name: 'time',
  kinds: ['line', 'cell'],
  summary: 'Time one execution of a statement or cell: CPU (user, sys) and wall time, as IPython prints them. The value of the last expression is returned.',
  usage: '%time statement\n%%time\nbody',
  options: [],
  details: 'CPU time is the whole process (process.cpuUsage), so work on other threads (GC helpers) counts, as it does in IPython.',
  async run(ctx, call) {
    const code = call.body ?? call.args;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let value: unknown;
    try {
      value = await ctx.runCode(code, call.body !== undefined ? call.line + 1 : call.line);
    } finally {
      const cpu = process.cpuUsage(cpu0);
      // Printed (not displayed) so it lands in order with the statement's own output, like IPython's.
      process.stdout.write(`${timeLines({ user: cpu.user / 1e6, system: cpu.system / 1e6, wall: (performance.now() - wall0) / 1e3 })}\n`);
    }
    return value;
  },
};
