// Statement probes put into a module's own source, as it loads: the notebook recompiles a cell's
// function as a fresh copy and rebinds its name; a script's function is bound inside its module
// (hoisted declarations, imports, closures), so here the probes go into the module text itself.
//
// The instrumenter (engines/instrument.ts) and the probe styles (engines/probes.ts) are the
// notebook's: each function is instrumented alone, as the fresh copy would be, and its instrumented
// text spliced back where it was. What the probes use (counters, a recorder) reaches them through
// module-level variables, one set per function, that a one-line prologue fetches from the runner's
// registry when the module starts. No line moves.
import { instrumentScript, type ProbeStyle } from '../../engines/instrument.js';
import { countingProbes, recorderProbes, type Recorder } from '../../engines/probes.js';
import { freshScript } from '../../engines/targets.js';
import type { FoundFunction } from './functions.js';

/** What the probes record: hits (counters), line times (-x), memory per line, or call markers (mprof). */
export type ProbeKind = 'count' | 'time' | 'memory' | 'markers';

/** A function instrumented in a module: what the registry needs to give it its counters or recorder. */
export interface ProbedFunction {
  /** Unique in the process: `URL#index`. */
  key: string;
  name: string;
  url: string;
  firstLine: number;
  lastLine: number;
  probes: ProbeKind;
}

/** Where user code finds the runner's registry (runner/registry.ts). */
export const REGISTRY = "globalThis[Symbol.for('tsprof.cli')]";

/**
 * The probe text of a kind, for a function ending on `lastLine`. Only the text matters here (the
 * registry builds the real counters and recorders with the same factories at run time).
 */
function styleOf(kind: ProbeKind, lastLine: number): ProbeStyle {
  if (kind === 'count') return countingProbes(new Float64Array(lastLine + 2)).style;
  const none = lastLine + 1;
  // %mprun's recorder counts in an Int32Array (probes.ts): the same text needs the same kind here.
  const textOnly: Recorder<unknown> = { e: () => undefined, l: (_f, _from, line) => line, x: () => undefined, w: () => 0, m: new Uint8Array(none + 1), h: kind === 'memory' ? new Int32Array(none + 1) : new Float64Array(none + 1), none };
  return recorderProbes(textOnly, kind === 'memory').style;
}

/** The style with its parameter names made unique to one function of the module (`__tsprof_h` → `__tsprof_h_2`). */
function renamed(style: ProbeStyle, suffix: string): ProbeStyle {
  const names = new RegExp(`\\b(${style.params.map((p) => p.replace(/\$/g, '\\$')).join('|')})\\b`, 'g');
  const r = (s: string): string => s.replace(names, `$1${suffix}`);
  return {
    params: style.params.map((p) => `${p}${suffix}`),
    open: (f, outermost) => r(style.open(f, outermost)),
    close: (f) => r(style.close(f)),
    expression: style.expression && ((): [string, string] => style.expression!().map(r) as [string, string]),
    line: (f, line) => r(style.line(f, line)),
    hit: (line) => r(style.hit(line)),
  };
}

/** The function's text with probes, for the same place in the module. */
function instrumentOne(js: string, fn: FoundFunction, style: ProbeStyle): string {
  const text = js.slice(fn.start, fn.end);
  // A method's value starts at its parameters: alone it needs `function` in front (columns on its
  // first line shift by that much; lines do not).
  const head = fn.method ? `${fn.method.async ? 'async ' : ''}function${fn.method.generator ? '*' : ''} ` : '';
  const script = freshScript({ js, startOffset: fn.start, endOffset: fn.end, firstLine: fn.firstLine }).replace(`(${text}\n)`, `(${head}${text}\n)`);
  const { code } = instrumentScript(script, style);
  const open = `((${style.params.join(', ')}) => (${head}`;
  const at = code.indexOf(open);
  if (at < 0 || !code.endsWith('\n))')) throw new Error('unexpected instrumenter output');
  return code.slice(at + open.length, code.length - 3);
}

export interface Instrumented {
  code: string;
  functions: ProbedFunction[];
  /** Functions that could not be instrumented, and why (they run unmeasured). */
  skipped: Array<{ name: string; reason: string }>;
}

/** Instrument `targets` in the module `js` (a nested target inside another is covered by the outer one). */
export function instrumentModule(js: string, url: string, targets: FoundFunction[], kind: ProbeKind): Instrumented {
  const sorted = [...targets].sort((a, b) => a.start - b.start);
  const outer = sorted.filter((t) => !sorted.some((o) => o !== t && o.start <= t.start && t.end <= o.end));
  const skipped = sorted.filter((t) => !outer.includes(t)).map((t) => ({ name: t.name, reason: `it is inside ${outer.find((o) => o.start <= t.start && t.end <= o.end)!.name}, whose table shows its lines` }));
  const functions: ProbedFunction[] = [];
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const vars: string[] = [];
  outer.forEach((fn, i) => {
    const style = renamed(styleOf(kind, fn.lastLine), `_${i}`);
    let text: string;
    try {
      text = instrumentOne(js, fn, style);
    } catch (e) {
      skipped.push({ name: fn.name, reason: (e as Error).message });
      return;
    }
    const probed: ProbedFunction = { key: `${url}#${i}`, name: fn.name, url, firstLine: fn.firstLine, lastLine: fn.lastLine, probes: kind };
    functions.push(probed);
    edits.push({ start: fn.start, end: fn.end, text });
    vars.push(`__tsprof_${i} = ${REGISTRY}.probes(${JSON.stringify(probed)})`, ...style.params.map((p, k) => `${p} = __tsprof_${i}[${k}]`));
  });
  if (!functions.length) return { code: js, functions, skipped };
  let code = js;
  for (const e of edits.sort((a, b) => b.start - a.start)) code = code.slice(0, e.start) + e.text + code.slice(e.end);
  const at = prologueOffset(code);
  code = `${code.slice(0, at)}var ${vars.join(', ')};${code.slice(at)}`;
  return { code, functions, skipped };
}

/** Where the prologue goes without moving a line: after a `#!` line and any directives ('use strict'). */
export function prologueOffset(js: string): number {
  let at = js.startsWith('#!') ? js.indexOf('\n') + 1 : 0;
  for (;;) {
    const m = /^[ \t]*(['"])use [\w ]+\1;?/.exec(js.slice(at));
    if (!m) return at;
    at += m[0].length;
  }
}
