// `tsprof run NOTEBOOK`: execute every code cell through a real kernel over ZeroMQ, print each
// cell's text outputs, and write the executed notebook.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { launchKernel } from '../client/launch.js';
import { OutputCollector, outputText, sourceText, type Notebook } from './notebook.js';

interface RunOptions {
  notebooks: string[];
  out?: string;
  outDir?: string;
  timeoutS: number;
  allowErrors: boolean;
  quiet: boolean;
}

const USAGE = 'usage: tsprof run NOTEBOOK.ipynb [MORE.ipynb ...] [--out FILE | --out-dir DIR] [--timeout SECONDS] [--allow-errors] [--quiet]';

function parseArgs(args: string[]): RunOptions | string {
  const o: Partial<RunOptions> & { notebooks: string[] } = { notebooks: [], timeoutS: 600, allowErrors: false, quiet: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => args[++i];
    if (a === '--out' || a === '-o') o.out = value();
    else if (a === '--out-dir') o.outDir = value();
    else if (a === '--timeout') o.timeoutS = Number(value());
    else if (a === '--allow-errors') o.allowErrors = true;
    else if (a === '--quiet' || a === '-q') o.quiet = true;
    else if (a.startsWith('-')) return `tsprof run: unknown option ${a}`;
    else o.notebooks.push(a);
    if (['--out', '-o', '--out-dir', '--timeout'].includes(a) && args[i] === undefined) return `tsprof run: ${a} needs a value`;
  }
  if (!o.notebooks.length) return 'tsprof run: no notebook given';
  if (o.out && o.notebooks.length > 1) return 'tsprof run: --out takes one notebook; use --out-dir for several';
  if (!(o.timeoutS! > 0)) return 'tsprof run: --timeout must be a positive number of seconds';
  return o as RunOptions;
}

export async function run(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    console.error(`${opts}\n${USAGE}`);
    return 2;
  }
  let failed = 0;
  for (const notebook of opts.notebooks) {
    const out = opts.out ?? (opts.outDir ? join(opts.outDir, basename(notebook)) : undefined);
    if (opts.notebooks.length > 1 && !opts.quiet) process.stdout.write(`\n\x1b[1m== ${notebook}\x1b[0m\n`);
    if ((await runNotebook(notebook, out, opts)) !== 0) failed++;
  }
  return failed > 0 ? 1 : 0;
}

async function runNotebook(notebook: string, outFile: string | undefined, opts: RunOptions): Promise<number> {
  const path = resolve(notebook);
  const nb = JSON.parse(readFileSync(path, 'utf8')) as Notebook;
  const kernel = await launchKernel({ cwd: dirname(path) });
  let errors = 0;
  const print = (s: string): void => {
    if (!opts.quiet) process.stdout.write(s);
  };
  try {
    for (const cell of nb.cells) {
      if (cell.cell_type !== 'code') continue;
      const code = sourceText(cell.source);
      if (!code.trim()) {
        cell.execution_count = null;
        cell.outputs = [];
        continue;
      }
      const collector = new OutputCollector();
      const run = kernel.client.startExecute(code);
      // A cell past its time limit is interrupted, as nbclient does.
      const timer = setTimeout(() => void kernel.client.request('control', 'interrupt_request', {}, 5000).catch(() => undefined), opts.timeoutS * 1000);
      const { reply, iopub } = await run.done.finally(() => clearTimeout(timer));
      for (const m of iopub) collector.add(m);
      const count = (reply.content as { execution_count?: number }).execution_count ?? null;
      cell.execution_count = count;
      cell.outputs = collector.outputs;
      print(`\x1b[1mIn [${count ?? ' '}]:\x1b[0m ${code.split('\n')[0]}${code.includes('\n') ? ' …' : ''}\n`);
      for (const out of collector.outputs) print(outputText(out));
      if ((reply.content as { status?: string }).status === 'error') {
        errors++;
        if (!opts.allowErrors) {
          print(`\nstopped: cell ${count} raised an error (use --allow-errors to continue)\n`);
          break;
        }
      }
    }
  } finally {
    await kernel.stop();
  }
  if (outFile) {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    writeFileSync(resolve(outFile), JSON.stringify(nb, null, 1) + '\n');
    print(`\nwrote ${outFile}\n`);
  }
  return errors > 0 ? 1 : 0;
}
