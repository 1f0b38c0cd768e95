// `tsprof run NOTEBOOK`: execute every code cell through a real kernel over ZeroMQ, print each
// cell's text outputs, and write the executed notebook (--out / --out-dir) and a standalone HTML
// report of it (--html / --html-dir).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { launchKernel } from '../client/launch.js';
import { OutputCollector, outputText, sourceText, type Notebook } from './notebook.js';

interface RunOptions {
  notebooks: string[];
  out?: string;
  outDir?: string;
  /** --html FILE.html: the report of the one notebook. */
  html?: string;
  /** --html without a file: a report beside each written notebook (or beside the input). */
  htmlBeside: boolean;
  htmlDir?: string;
  /** --no-execute: only convert (with --html/--html-dir) a notebook that was executed before. */
  execute: boolean;
  timeoutS: number;
  allowErrors: boolean;
  quiet: boolean;
}

const USAGE = `usage: tsprof run NOTEBOOK.ipynb [MORE.ipynb ...] [--out FILE | --out-dir DIR] [--html [FILE.html] | --html-dir DIR]
                  [--no-execute] [--timeout SECONDS] [--allow-errors] [--quiet]
  --html FILE.html   also write a standalone HTML report of the executed notebook (no JavaScript, works offline)
  --html             the same, beside each written notebook (X.ipynb -> X.html; beside the input without --out/--out-dir)
  --html-dir DIR     one report per notebook in DIR
  --no-execute       do not run anything: write the reports of notebooks as they are (already executed)`;

function parseArgs(args: string[]): RunOptions | string {
  const o: Partial<RunOptions> & { notebooks: string[] } = { notebooks: [], timeoutS: 600, allowErrors: false, quiet: false, htmlBeside: false, execute: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => args[++i];
    if (a === '--out' || a === '-o') o.out = value();
    else if (a === '--out-dir') o.outDir = value();
    else if (a.startsWith('--html=')) o.html = a.slice('--html='.length);
    // `--html` takes the next argument as its file only when it names an .html file, so
    // `--html a.ipynb b.ipynb` still reads as a flag and two notebooks.
    else if (a === '--html' && /\.html?$/i.test(args[i + 1] ?? '')) o.html = value();
    else if (a === '--html') o.htmlBeside = true;
    else if (a === '--html-dir') o.htmlDir = value();
    else if (a === '--no-execute') o.execute = false;
    else if (a === '--timeout') o.timeoutS = Number(value());
    else if (a === '--allow-errors') o.allowErrors = true;
    else if (a === '--quiet' || a === '-q') o.quiet = true;
    else if (a === '--help' || a === '-h') return '';
    else if (a.startsWith('-')) return `tsprof run: unknown option ${a}`;
    else o.notebooks.push(a);
    if (['--out', '-o', '--out-dir', '--html-dir', '--timeout'].includes(a) && args[i] === undefined) return `tsprof run: ${a} needs a value`;
  }
  if (!o.notebooks.length) return 'tsprof run: no notebook given';
  if (o.out && o.notebooks.length > 1) return 'tsprof run: --out takes one notebook; use --out-dir for several';
  if (o.html !== undefined && !o.html) return 'tsprof run: --html= needs a file name';
  if (o.html && o.notebooks.length > 1) return 'tsprof run: --html FILE takes one notebook; for several use --html with --out-dir (a report beside each) or --html-dir DIR';
  if ([o.html, o.htmlBeside || undefined, o.htmlDir].filter((x) => x !== undefined).length > 1) return 'tsprof run: give one of --html FILE, --html, --html-dir DIR';
  if (!o.execute && !(o.html || o.htmlBeside || o.htmlDir)) return 'tsprof run: --no-execute only writes HTML reports; add --html or --html-dir';
  if (!o.execute && (o.out || o.outDir)) return 'tsprof run: --no-execute writes no notebook; drop --out/--out-dir (use --html-dir for the reports)';
  if (!(o.timeoutS! > 0)) return 'tsprof run: --timeout must be a positive number of seconds';
  return o as RunOptions;
}

/** Where the HTML report of `notebook` goes, if anywhere. */
function htmlTarget(notebook: string, outFile: string | undefined, opts: RunOptions): string | undefined {
  const withHtml = (p: string): string => (extname(p) ? p.slice(0, -extname(p).length) : p) + '.html';
  if (opts.html) return opts.html;
  if (opts.htmlDir) return join(opts.htmlDir, withHtml(basename(notebook)));
  if (opts.htmlBeside) return withHtml(outFile ?? notebook);
  return undefined;
}

async function writeHtml(nb: Notebook, notebook: string, file: string, print: (s: string) => void): Promise<void> {
  const { notebookToHtml } = await import('./html-report.js');
  const html = await notebookToHtml(nb, { name: basename(notebook) });
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(resolve(file), html);
  print(`wrote ${file}\n`);
}

export async function run(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (opts === '') {
    console.log(USAGE);
    return 0;
  }
  if (typeof opts === 'string') {
    console.error(`${opts}\n${USAGE}`);
    return 2;
  }
  let failed = 0;
  for (const notebook of opts.notebooks) {
    const out = opts.out ?? (opts.outDir ? join(opts.outDir, basename(notebook)) : undefined);
    if (opts.notebooks.length > 1 && !opts.quiet) process.stdout.write(`\n\x1b[1m== ${notebook}\x1b[0m\n`);
    if ((await runNotebook(notebook, out, htmlTarget(notebook, out, opts), opts)) !== 0) failed++;
  }
  return failed > 0 ? 1 : 0;
}

async function runNotebook(notebook: string, outFile: string | undefined, htmlFile: string | undefined, opts: RunOptions): Promise<number> {
  const path = resolve(notebook);
  const nb = JSON.parse(readFileSync(path, 'utf8')) as Notebook;
  const print = (s: string): void => {
    if (!opts.quiet) process.stdout.write(s);
  };
  if (!opts.execute) {
    if (htmlFile) await writeHtml(nb, notebook, htmlFile, print);
    return 0;
  }
  const kernel = await launchKernel({ cwd: dirname(path) });
  let errors = 0;
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
  if (htmlFile) await writeHtml(nb, notebook, htmlFile, (s) => print(outFile ? s : `\n${s}`));
  return errors > 0 ? 1 : 0;
}
