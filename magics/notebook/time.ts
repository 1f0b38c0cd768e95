// %time / %%time: CPU and wall time of one execution, in IPython's format; returns the value of
// the last expression and works with `await`. A `%time stmt` line that is not a declaration is
// rewritten inline (rewrite.ts) into a block timed by `inlineTime`, so it also works inside a
// function, with the function's local variables, as IPython's does.
import { parseOptions } from './argv.js';
import { startTimes, timeOnce, timesSince, type TimeMark } from '../engines/timing.js';
import { timeText } from '../render/timing.js';
import { UsageError, type Magic, type OptionSpec } from './types.js';

const OPTIONS: OptionSpec[] = [
  { name: 'no-raise-error', help: "print the times and the error's message instead of raising it (an interrupt is always raised)" },
];

/** Printed (not displayed) so the lines land in order with the statement's own output, like IPython's. */
function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** The clock of an inline `%time` block: started before the statement, printed when it ends (thrown or not). */
export const inlineTime = {
  start: (): TimeMark => startTimes(),
  end(mark: TimeMark): void {
    print(timeText(timesSince(mark)));
  },
};

export const time: Magic = {
  name: 'time',
  kinds: ['line', 'cell'],
  summary: 'Time one execution of a statement or cell: CPU (user, sys) and wall time, as IPython prints them. The value of the last expression is returned.',
  usage: '%time [--no-raise-error] statement\n%%time [--no-raise-error]\nbody',
  options: OPTIONS,
  details: `CPU time is the whole process (process.cpuUsage), so work on other threads (GC helpers) counts, as it
does in IPython. The statement is compiled before the clocks start; a compile longer than 0.1 s is
reported ("Compiler : …"). Inside a function, \`%time stmt\` times the statement where it is, with the
function's variables. A trailing \`;\` does not hide the value (in JavaScript it ends every statement).`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'time');
    if (call.body !== undefined && rest) throw new UsageError("Can't use statement directly after '%%time'!");
    const code = call.body ?? rest;
    const c0 = performance.now();
    const statement = ctx.prepareCode(code, call.body !== undefined ? call.line + 1 : call.line);
    const outcome = await timeOnce(statement, (performance.now() - c0) / 1e3);
    print(timeText(outcome.times));
    if (outcome.ok) return outcome.value;
    const error = outcome.error as Error;
    if (!opts['no-raise-error'] || error?.name === 'KeyboardInterrupt') throw outcome.error;
    process.stderr.write(`${error?.name ?? 'Error'}: ${error?.message ?? String(outcome.error)}\n`);
    return undefined;
  },
};
