// The shape of one `tsprof <tool>` command, and what every command shares: --help, and the
// one-line error with a non-zero exit code.
import { CliUsageError, HELP, helpText, parseArgv, type CliOption, type Parsed } from './argv.js';

export interface Tool {
  name: string;
  /** After `usage: `, e.g. `tsprof timeit [-n N] … STATEMENT`. */
  usage: string;
  summary: string;
  options: CliOption[];
  details?: string;
  /** Runs the command; resolves with the process exit code. */
  run(parsed: Parsed, argv: string[]): Promise<number>;
}

export function toolHelp(t: Tool): string {
  return helpText(t.usage, t.summary, [...t.options, HELP], t.details);
}

/** Parse, answer --help, run. Usage errors become one line on stderr and exit code 2. */
export async function runTool(t: Tool, argv: string[]): Promise<number> {
  const parsed = parseArgv(argv, [...t.options, HELP], `tsprof ${t.name}`);
  if (parsed.opts.help) {
    process.stdout.write(toolHelp(t));
    return 0;
  }
  return t.run(parsed, argv);
}

export { CliUsageError };
