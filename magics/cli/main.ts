// `tsprof <tool> …`: the command-line front end of the measuring engines. One module per tool;
// this one finds the tool, and turns failures into one clear line and an exit code.
import { runTool, toolHelp, type Tool } from './tool.js';

/** Tools load on demand: `tsprof timeit` should not pay for the profilers' imports. */
const TOOLS: Record<string, () => Promise<Tool>> = {
  timeit: async () => (await import('./timeit.js')).timeitTool,
  prun: async () => (await import('./prun.js')).prunTool,
  lprun: async () => (await import('./lprun.js')).lprunTool,
  mprun: async () => (await import('./mprun.js')).mprunTool,
  mprof: async () => (await import('./mprof.js')).mprofTool,
  // MERGE(timeit branch): the regression-baseline check's command goes here — a Tool module in
  // magics/cli/ (its options parsed by argv.ts, its table printed, a non-zero exit status on a
  // regression), calling the library's baseline engine. E.g.
  //   baseline: async () => (await import('./baseline.js')).baselineTool,
  // and a line in CLI_USAGE below.
};

export const CLI_TOOLS = Object.keys(TOOLS);

export const CLI_USAGE = `  tsprof timeit [-n N] [-r R] [-s SETUP] 'STATEMENT'
                                          time a statement (IPython's %timeit)
  tsprof prun [-s KEY] [-l LIMIT] [-o FILE] SCRIPT [ARGS…]
                                          run a script under the CPU profiler: pstats table, exact calls
  tsprof lprun -f NAME [-f NAME…] SCRIPT [ARGS…]
                                          line-by-line time of chosen functions (line_profiler / kernprof)
  tsprof mprun -f NAME [-f NAME…] SCRIPT [ARGS…]
                                          line-by-line memory of chosen functions (memory_profiler)
  tsprof mprof run|plot|list|clean …      memory of a process tree over time (mprof)
  tsprof TOOL --help                      every flag of a tool`;

/** Runs `tsprof TOOL ARGS…`; undefined when TOOL is not a command-line tool. */
export async function runCli(command: string, args: string[]): Promise<number | undefined> {
  const load = TOOLS[command];
  if (!load) return undefined;
  const tool = await load();
  try {
    return await runTool(tool, args);
  } catch (e) {
    return reportFailure(`tsprof ${command}`, e, tool);
  }
}

/** One line on stderr: a usage error (exit 2) or a failure (exit 1); TSPROF_DEBUG=1 adds the stack. */
export function reportFailure(prefix: string, e: unknown, tool?: Tool): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const usage = err.name === 'UsageError';
  // Engine errors name the magic (`%prun: unknown sort key …`); here the command is the name.
  const text = err.message.replace(/^%\w+: /, '');
  const message = text.startsWith(prefix) ? text : `${prefix}: ${usage ? '' : 'error: '}${text}`;
  const hint = usage && tool ? ` (tsprof ${tool.name} --help)` : '';
  process.stderr.write(`${message.split('\n')[0]}${hint}\n`);
  if (process.env.TSPROF_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
  return usage ? 2 : 1;
}

export { toolHelp };
