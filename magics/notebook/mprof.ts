// %mprof / %%mprof: memory over time while a statement or cell runs (mprof run + mprof plot,
// inside the notebook), over the mprof engine (engines/mprof.ts) and its renderer (render/memory.ts).
// -f marks chosen functions: the user's binding points at a marking wrapper for the run.
import { writeFileSync } from 'node:fs';
import { parseOptions } from './argv.js';
import { chartBundle } from '../render/vegalite.js';
import { mprofChart, mprofHtml, seriesLabels } from '../render/memory.js';
import { DEFAULT_MPROF_INTERVAL, mprof } from '../engines/mprof.js';
import { userGlobal } from '../engines/host.js';
import { UsageError, type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const SLOT = Symbol.for('tsprof.mprof');

const OPTIONS: OptionSpec[] = [
  { name: 'f', value: true, repeat: true, metavar: 'FUNC', help: 'mark when this function (a name or expression, e.g. step or api.handle) starts and ends; repeatable' },
  { name: 'i', value: true, metavar: 'INTERVAL', help: `seconds between samples (default ${DEFAULT_MPROF_INTERVAL}: 200 Hz)` },
  { name: 'c', help: 'include child processes: a series with the summed RSS of descendant processes' },
  { name: 'o', help: 'return an MprofResult: the raw series (t, rss, heapUsed, external in MiB), markers, slopes, leak hint' },
  { name: 'D', value: true, metavar: 'FILE', help: 'write the raw series and markers as JSON to FILE' },
  { name: 'q', help: 'quiet: show nothing (use with -o or -D)' },
];

interface Target {
  expr: string;
  original: Function;
  name: string;
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : v === undefined ? 'undefined' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : `a ${typeof v}`;
}

async function resolveTarget(ctx: MagicContext, expr: string): Promise<Target> {
  let value: unknown;
  try {
    value = await ctx.runCode(`(${expr})`);
  } catch (e) {
    throw new UsageError(`%mprof: -f ${expr}: ${(e as Error).message}`);
  }
  if (typeof value !== 'function') throw new UsageError(`%mprof: -f ${expr} is not a function (it is ${describeValue(value)})`);
  return { expr, original: value as Function, name: (value as Function).name || expr };
}

/** Point the user's binding at `value`: assignment, or a REPL redeclaration for a const. */
async function rebind(ctx: MagicContext, expr: string, value: Function): Promise<void> {
  (userGlobal as unknown as Record<symbol, unknown>)[SLOT] = value;
  try {
    await ctx.runCode(`${expr} = globalThis[Symbol.for('tsprof.mprof')];`);
  } catch (e) {
    if (/^[\w$]+$/.test(expr) && /constant/.test(String((e as Error).message))) await ctx.runCode(`const ${expr} = globalThis[Symbol.for('tsprof.mprof')];`);
    else throw new UsageError(`%mprof: cannot point ${expr} at the marking wrapper: ${(e as Error).message}`);
  } finally {
    delete (userGlobal as unknown as Record<symbol, unknown>)[SLOT];
  }
}

export const mprofMagic: Magic = {
  name: 'mprof',
  kinds: ['line', 'cell'],
  summary: 'Memory over time while a statement or cell runs (async work included): RSS, JS heap and external memory at 200 Hz, function markers, trend and a leak hint, as a chart.',
  usage: '%mprof [-f FUNC …] [-i INTERVAL] [-c] [-o] [-D FILE] [-q] statement\n%%mprof [-f FUNC …] [-i INTERVAL] [-c] [-o] [-D FILE] [-q]\nbody',
  options: OPTIONS,
  details: `A sampler thread reads RSS (/proc), the main thread's used JS heap (an inspector request V8
answers even while the main thread computes) and V8 external memory (published by the main thread
whenever its event loop turns) every INTERVAL seconds, from the start of the statement until the
promise it returns settles — an awaited server under load is measured with its async work. -f wraps the
named global binding for the run, like a decorator, and records when each call started and ended (an
async function ends when its promise settles): calls that look the name up during the run are marked,
references taken earlier are not. The slope is least squares over the whole run. The leak hint fires
when a series only grows: positive slope, the last third of the run never below the first third's
maximum, and most of the growth still held after a full GC at the end (garbage not yet collected is
not a leak).`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'mprof');
    const cellMode = call.body !== undefined;
    if (cellMode && rest) throw new UsageError(`%%mprof: unexpected text after the options: ${JSON.stringify(rest)} (the statement is the cell body)`);
    const stmt = cellMode ? call.body! : rest;
    if (!stmt.trim()) throw new UsageError(`%mprof: no statement to profile\nusage: ${mprofMagic.usage.split('\n')[0]}`);
    let interval = DEFAULT_MPROF_INTERVAL;
    if (opts.i !== undefined) {
      interval = Number(opts.i);
      if (!(interval >= 0.001 && interval <= 10)) throw new UsageError(`%mprof: option -i needs seconds between 0.001 and 10, got ${JSON.stringify(opts.i)}`);
    }
    const exprs = (opts.f as string[] | undefined) ?? [];
    const targets: Target[] = [];
    for (const e of exprs) targets.push(await resolveTarget(ctx, e));
    const statement = ctx.prepareCode(stmt, cellMode ? call.line + 1 : call.line);

    const result = await mprof(statement, {
      interval,
      children: Boolean(opts.c),
      async mark(log) {
        const rebound: Target[] = [];
        const undo = async (): Promise<void> => {
          for (const t of rebound) await rebind(ctx, t.expr, t.original);
        };
        try {
          for (const t of targets) {
            await rebind(ctx, t.expr, log.wrap(t.original, t.name));
            rebound.push(t);
          }
        } catch (e) {
          await undo();
          throw e;
        }
        return undo;
      },
    });
    const text = result.text;
    const { t } = result;
    const series = { rss: result.rss, heapUsed: result.heapUsed, external: result.external, ...(result.children ? { children: result.children } : {}) };
    if (typeof opts.D === 'string') {
      writeFileSync(opts.D, JSON.stringify({ interval, duration: result.duration, t, ...series, markers: result.markers, calls: result.calls, summary: result.summary, leak: result.leak }));
      process.stdout.write(`*** Memory series saved to '${opts.D}'.\n`);
    }
    if (!opts.q) {
      // Two displays: a frontend shows one representation per display, and both the table and the chart should show.
      ctx.display.bundle({ 'text/plain': text, 'text/html': mprofHtml(result) });
      ctx.display.bundle(await chartBundle(mprofChart(result), `[chart: memory over time (${seriesLabels(result).join(', ')}) with ${result.markers.length} markers]`));
    }
    if (!opts.o) return undefined;
    displaysAs(result, () => text);
    return result;
  },
};
