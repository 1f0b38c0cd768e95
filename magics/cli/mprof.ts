// `tsprof mprof run|plot|list|clean`: memory_profiler's mprof for Node process trees.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { MPROFILE_PATTERN, parseMprofile } from '../engines/export/mprofile.js';
import { escapeHtml } from '../render/format.js';
import { mprofPlotSpec } from '../render/mprof-plot.js';
import { renderSvg } from '../render/vegalite.js';
import { CliUsageError, HELP, helpText, parseArgv, stringOpt, type CliOption } from './argv.js';
import { mprofRun } from './mprof-run.js';
import type { Tool } from './tool.js';

const RUN_OPTIONS: CliOption[] = [
  { short: 'T', long: 'interval', value: true, metavar: 'S', help: 'seconds between samples (default 0.1, as mprof)' },
  { short: 'C', long: 'include-children', help: "MEM is the whole tree's RSS: the command's and every descendant's" },
  { short: 'M', long: 'multiprocess', help: 'also record each descendant on its own (CHLD lines; cluster workers, child processes)' },
  { short: 'o', long: 'output', value: true, metavar: 'FILE', help: "where to write (default mprofile_<YYYYMMDDhhmmss>.dat here, as mprof)" },
  { short: 'f', long: 'function', value: true, repeat: true, metavar: 'NAME', help: 'mark the calls of functions with this name (FUNC lines), besides those marked @profile or // @tsprof-profile' },
  { short: 't', long: 'timeout', value: true, metavar: 'S', help: 'stop the command (SIGTERM) after S seconds' },
  { short: 'q', long: 'quiet', help: 'no progress line' },
];

const PLOT_OPTIONS: CliOption[] = [
  { short: 'o', long: 'output', value: true, metavar: 'FILE', help: 'chart.svg, chart.png or chart.html (default: the recording\'s name with .svg)' },
  { long: 'flame', help: 'draw the marked calls as a flame-style timeline under the chart (mprof plot --flame)' },
  { short: 't', long: 'title', value: true, metavar: 'TITLE', help: 'chart title (default: the command line)' },
  { long: 'no-heap', help: 'leave out the JS heap lines' },
  { long: 'spec', help: 'print the Vega-Lite spec (JSON) instead of writing a chart' },
];

const SUBCOMMANDS = {
  run: { usage: 'tsprof mprof run [-T S] [-C] [-M] [-o FILE] [-f NAME] [-t S] [-q] COMMAND|SCRIPT.ts [ARGS…]', summary: 'Record the memory of a command and its process tree over time (mprof run).', options: RUN_OPTIONS },
  plot: { usage: 'tsprof mprof plot [FILE] [-o chart.svg|.png|.html] [--flame] [-t TITLE] [--no-heap] [--spec]', summary: 'Draw a recording (the latest mprofile_*.dat here by default) as a chart (mprof plot).', options: PLOT_OPTIONS },
  list: { usage: 'tsprof mprof list', summary: 'List the recordings in this directory, with their index (mprof list).', options: [] },
  clean: { usage: 'tsprof mprof clean [--dry-run]', summary: 'Remove every recording in this directory (mprof clean).', options: [{ long: 'dry-run', help: 'show what would be removed' }] },
} satisfies Record<string, { usage: string; summary: string; options: CliOption[] }>;

type Sub = keyof typeof SUBCOMMANDS;

const RUN_DETAILS = `SCRIPT.ts|.js runs with node; anything else runs as given (node server.js, npm start, a binary).
Every Node process in the tree (cluster workers, child processes) is preloaded through NODE_OPTIONS
to report its JS heap (HEAP lines) and the calls of marked functions (FUNC lines); RSS comes from
/proc for every process. Lines are written as they are taken: Ctrl-C stops the command as it would
stop anyway, and the file keeps everything recorded until then. The file is mprof's format (Python's
mprof reads it) with two kinds of lines of tsprof's own (HEAP, PROC).`;

/** The recordings here, oldest first (their names sort by time). */
function recordings(): string[] {
  return readdirSync('.').filter((f) => MPROFILE_PATTERN.test(f)).sort();
}

async function plot(file: string | undefined, opts: Record<string, string | string[] | true>): Promise<number> {
  const source = file ?? recordings().at(-1);
  if (!source) throw new CliUsageError('tsprof mprof plot: no mprofile_*.dat here; record one with tsprof mprof run, or name a file');
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new CliUsageError(`tsprof mprof plot: cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const profile = parseMprofile(text);
  if (!profile.mem.length) throw new CliUsageError(`tsprof mprof plot: ${source} holds no memory samples`);
  const vl = mprofPlotSpec(profile, { title: stringOpt(opts, 'title'), flame: Boolean(opts.flame), noHeap: Boolean(opts['no-heap']) });
  if (opts.spec) {
    process.stdout.write(JSON.stringify(vl) + '\n');
    return 0;
  }
  const out = stringOpt(opts, 'output') ?? source.replace(/\.dat$/, '') + '.svg';
  const kind = extname(out).toLowerCase();
  if (!['.svg', '.png', '.html', '.htm'].includes(kind)) throw new CliUsageError(`tsprof mprof plot: -o must end in .svg, .png or .html, got ${out}`);
  const svg = await renderSvg(vl);
  if (kind === '.svg') writeFileSync(out, svg);
  else if (kind === '.png') {
    const { Resvg } = await import('@resvg/resvg-js');
    writeFileSync(out, new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
  } else {
    const title = escapeHtml(String(vl.title ?? 'mprof'));
    // Standalone: the chart inline, the Vega-Lite spec beside it for whoever wants it; no scripts, nothing fetched.
    writeFileSync(out, `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body style="font-family:sans-serif">\n${svg}\n<script type="application/json" id="vega-lite-spec">${JSON.stringify(vl).replace(/</g, '\\u003c')}</script>\n</body></html>\n`);
  }
  process.stderr.write(`mprof: chart of ${source} written to ${out}\n`);
  return 0;
}

function list(): number {
  recordings().forEach((f, i) => {
    const ts = f.slice('mprofile_'.length, -'.dat'.length);
    process.stdout.write(`${i} ${f} ${ts.slice(8, 10)}:${ts.slice(10, 12)}:${ts.slice(12, 14)} ${ts.slice(6, 8)}/${ts.slice(4, 6)}/${ts.slice(0, 4)}\n`);
  });
  return 0;
}

function clean(dryRun: boolean): number {
  const files = recordings();
  if (dryRun) process.stdout.write(`Files to be removed: \n${files.map((f) => `${f}\n`).join('')}`);
  else for (const f of files) if (statSync(f).isFile()) rmSync(f);
  return 0;
}

export const mprofTool: Tool = {
  name: 'mprof',
  usage: 'tsprof mprof run|plot|list|clean [OPTIONS] …',
  summary: 'Memory of a process tree over time, as memory_profiler\'s mprof: record with run, draw with plot.',
  options: [],
  details: Object.values(SUBCOMMANDS).map((s) => `  ${s.usage}\n      ${s.summary}`).join('\n') + '\n\ntsprof mprof SUBCOMMAND --help for its options.',
  async run({ rest }) {
    const [sub, ...words] = rest;
    if (!sub) throw new CliUsageError('tsprof mprof: give a subcommand: run, plot, list or clean');
    if (!(sub in SUBCOMMANDS)) throw new CliUsageError(`tsprof mprof: unknown subcommand ${JSON.stringify(sub)}; use run, plot, list or clean`);
    const s = SUBCOMMANDS[sub as Sub];
    const { opts, rest: positional } = parseArgv(words, [...s.options, HELP], `tsprof mprof ${sub}`);
    if (opts.help) {
      process.stdout.write(helpText(s.usage, s.summary, [...s.options, HELP], sub === 'run' ? RUN_DETAILS : undefined));
      return 0;
    }
    if (sub === 'run') return mprofRun(opts, positional);
    if (sub === 'plot') {
      if (positional.length > 1) throw new CliUsageError('tsprof mprof plot: one file at a time');
      return plot(positional[0], opts);
    }
    if (positional.length) throw new CliUsageError(`tsprof mprof ${sub}: takes no argument`);
    return sub === 'list' ? list() : clean(Boolean(opts['dry-run']));
  },
};
