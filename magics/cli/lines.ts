// What `tsprof lprun` and `tsprof mprun` share: choosing functions and outputs, and after the run
// the names that matched nothing, the tables, the notes and the exports.
import type { CliOption } from './argv.js';
import { writeExports, type ExportInput, type PlannedOutput } from './exports.js';
import type { Capture } from './runner/config.js';

export const functionOption = (example: string): CliOption => ({ short: 'f', long: 'function', value: true, repeat: true, metavar: 'NAME', help: `profile the functions with this name (\`${example}\`, or \`Class.method\`); repeatable. Functions marked @profile or // @tsprof-profile are profiled too` });

export const outputOptions = (formats: string): CliOption[] => [
  { short: 'o', long: 'output', value: true, repeat: true, metavar: 'FILE', help: `also write the profile to FILE: ${formats}` },
  { long: 'format', value: true, metavar: 'FORMAT', help: 'format of -o files whose name does not say it' },
  { short: 'q', long: 'quiet', help: 'print no table (with -o), and no progress line' },
];

/** What to say besides the tables: the runner's notes, names that matched nothing, no function at all. */
export function runNotes(names: string[], c: Capture): string[] {
  const notes = [...c.notes, ...missingNames(names, c.functions)];
  if (!c.functions.length) notes.push(names.length ? 'no function to profile was loaded' : 'no function chosen: give -f NAME, or mark functions with // @tsprof-profile or @profile');
  return notes;
}

/** `-f NAME` that matched no function of a module the script loaded. */
export function missingNames(names: string[], found: ReadonlyArray<{ name: string }>): string[] {
  const have = new Set(found.flatMap((f) => [f.name, f.name.split('.').at(-1)!]));
  return names.filter((n) => !have.has(n)).map((n) => `-f ${n}: no function of that name was in a module the script loaded (node_modules are not instrumented)`);
}

/** The tables on stdout (unless quiet), notes as `*** …` lines, then the -o files. */
export function reportRun(quiet: boolean, text: string, notes: string[], outputs: PlannedOutput[], input: ExportInput): void {
  if (!quiet) process.stdout.write(text);
  for (const n of notes) process.stdout.write(`*** ${n}\n`);
  writeExports.write(outputs, input, (file, what) => process.stderr.write(`*** Profile written to ${file} (${what})\n`));
}
