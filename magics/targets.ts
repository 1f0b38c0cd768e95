// The functions a line-level magic (%lprun, %mprun) is pointed at with -f: where their source is,
// a fresh copy compiled from it on the same lines (under coverage, or with statement probes), and
// pointing the user's binding at that copy for the run and back afterwards.
import vm from 'node:vm';
import { instrumentScript } from './instrument.js';
import { lineStarts } from './v8/lines.js';
import { UsageError, type MagicContext } from './types.js';

const SLOT = Symbol.for('tsprof.lprun');

export interface Target {
  expr: string;
  original: Function;
  name: string;
  url: string;
  /** Exact JS of the cell and where the function's text sits in it. */
  js: string;
  startOffset: number;
  endOffset: number;
  firstLine: number;
  lastLine: number;
  freshUrl: string;
  fresh?: Function;
}

let freshCount = 0;

function describeValue(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : `a ${typeof v}`;
}

export async function resolveTarget(ctx: MagicContext, expr: string, magic = 'lprun'): Promise<Target> {
  let value: unknown;
  try {
    value = await ctx.runCode(`(${expr})`);
  } catch (e) {
    throw new UsageError(`%${magic}: -f ${expr}: ${(e as Error).message}`);
  }
  if (typeof value !== 'function') throw new UsageError(`%${magic}: -f ${expr} is not a function (it is ${describeValue(value)})`);
  const src = Function.prototype.toString.call(value);
  if (/\{\s*\[native code\]\s*\}$/.test(src)) throw new UsageError(`%${magic}: -f ${expr} is a native function; there are no lines to profile`);
  let found: Omit<Target, 'expr' | 'original' | 'freshUrl'> | undefined;
  for (const [url, source] of ctx.sources) {
    const at = source.js.lastIndexOf(src);
    if (at < 0) continue;
    const starts = lineStarts(source.js);
    const lineOf = (off: number): number => {
      let l = 0;
      while (l + 1 < starts.length && starts[l + 1] <= off) l++;
      return l;
    };
    found = { name: (value as Function).name || expr, url, js: source.js, startOffset: at, endOffset: at + src.length, firstLine: lineOf(at), lastLine: lineOf(at + src.length - 1) };
  }
  if (!found) {
    throw new UsageError(`%${magic}: -f ${expr}: its source is not in a notebook cell. Line-by-line profiling works for functions defined in cells (files and packages: use %prun, whose profile names their lines).`);
  }
  return { ...found, expr, original: value as Function, freshUrl: `lprun-${++freshCount}-${found.name}` };
}

/** The function alone as a script, on the same lines as in its cell: padding, then `(function …\n)`. */
export function freshScript(t: { js: string; startOffset: number; endOffset: number; firstLine: number }): string {
  const col = t.startOffset - lineStarts(t.js)[t.firstLine];
  return `${'\n'.repeat(t.firstLine)}${' '.repeat(col)}(${t.js.slice(t.startOffset, t.endOffset)}\n)`;
}

/** A fresh copy of the function compiled now (under coverage, or with statement probes), on the same lines as the original. */
export function compileFresh(t: Target, probeId?: string): Function {
  let script = freshScript(t);
  try {
    if (probeId) script = instrumentScript(script, probeId).code;
    return vm.runInThisContext(script, { filename: t.freshUrl }) as Function;
  } catch (e) {
    throw new UsageError(`-f ${t.expr} cannot be recompiled on its own (${(e as Error).message}); methods written with the shorthand syntax are not supported yet — profile the function that calls it`);
  }
}

/** Point the user's binding at `value`: assignment, or a REPL redeclaration for a const. */
export async function rebind(ctx: MagicContext, expr: string, value: Function): Promise<void> {
  (globalThis as Record<symbol, unknown>)[SLOT] = value;
  try {
    await ctx.runCode(`${expr} = globalThis[Symbol.for('tsprof.lprun')];`);
  } catch (e) {
    if (/^[\w$]+$/.test(expr) && /constant/.test(String((e as Error).message))) await ctx.runCode(`const ${expr} = globalThis[Symbol.for('tsprof.lprun')];`);
    else throw new UsageError(`cannot point ${expr} at the profiled copy: ${(e as Error).message}`);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[SLOT];
  }
}
