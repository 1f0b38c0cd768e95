// What `tsprof lprun` and `tsprof mprun` share after the run: names asked for that matched nothing,
// and printing the tables, the notes and the exports.
import { writeExports, type ExportInput, type PlannedOutput } from './exports.js';

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
