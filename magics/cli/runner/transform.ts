// What a module's source becomes before V8 sees it, under `tsprof prun|lprun|mprun|mprof run`:
// TypeScript stripped by sucrase (every line and most columns kept, so profile lines are the
// TypeScript lines — the kernel's choice, see README "Transpiling"), `@profile` decorators removed,
// and, for the line profilers, probes in the functions to measure. Shared by the ES-module loader
// hooks (hooks.ts, in the loader thread) and the CommonJS require hook (register.ts).
import { transform } from 'sucrase';
import { commentMarks, findFunctions, markedFunctions, stripProfileDecorators, type FoundFunction } from './functions.js';
import { instrumentModule, prologueOffset, REGISTRY, type ProbedFunction, type ProbeKind } from './inplace.js';
import { instrumentCounters } from '../../engines/call-counts.js';

export interface TransformConfig {
  /** What probes the functions to measure get; undefined: none (prun, or a plain run). */
  probes?: ProbeKind;
  /** -f names: `primes`, `Cache.get`. */
  names: string[];
  /** Also the functions marked with `@profile` or `// @tsprof-profile`. */
  marked: boolean;
  /** prun: %prun's call counters (calls and self calls) compiled into every function of the user's files. */
  countCalls?: boolean;
}

/** A function with a call counter, at its offsets in the JavaScript V8 runs (the one kept in the sources). */
export interface CountedMeta {
  name: string;
  start: number;
  end: number;
  line: number;
  slot: number;
}

export interface Transformed {
  code: string;
  functions: ProbedFunction[];
  skipped: Array<{ name: string; reason: string }>;
  /** prun's counted functions, when the module got counters. */
  counted?: CountedMeta[];
}

export const TS_EXTENSIONS = /\.(ts|mts|cts)$/;

/** Files the user wrote: probes go there, never into node_modules. */
export function isUserFile(url: string): boolean {
  return url.startsWith('file:') && !url.includes('/node_modules/');
}

export function stripTypes(ts: string, filename: string, format: 'module' | 'commonjs'): string {
  try {
    return transform(ts, {
      // A CommonJS TypeScript file may still use `import`/`export` (tsc turns them into require): so does sucrase's imports transform.
      transforms: format === 'commonjs' ? ['typescript', 'imports'] : ['typescript'],
      disableESTransforms: true,
      keepUnusedImports: true,
      filePath: filename,
    }).code;
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    const message = err.message.replace(/^Error transforming [^:]*: /, '');
    const syntax = new SyntaxError(`${filename}${err.loc ? `:${err.loc.line}:${err.loc.column + 1}` : ''}: ${message}`);
    throw syntax;
  }
}

/**
 * TypeScript → JavaScript (when `ts`), then probes into the functions the config asks for. A file
 * without TypeScript and without functions to measure comes back unchanged.
 */
export function transformSource(source: string, url: string, filename: string, ts: boolean, format: 'module' | 'commonjs', config: TransformConfig): Transformed {
  const { source: undecorated, lines: decorated } = stripProfileDecorators(source);
  const js = ts ? stripTypes(undecorated, filename, format) : undecorated;
  if (config.countCalls && !config.probes && isUserFile(url)) return countCalls(js, url, format);
  if (!config.probes || !isUserFile(url) || (!config.names.length && !config.marked)) return { code: js, functions: [], skipped: [] };
  let fns: FoundFunction[];
  try {
    fns = findFunctions(js, format === 'module' ? 'module' : 'script');
  } catch {
    return { code: js, functions: [], skipped: [] }; // V8 reports the syntax error, with its own position
  }
  const wanted = new Set<FoundFunction>(fns.filter((f) => config.names.includes(f.name) || config.names.includes(f.short)));
  if (config.marked) for (const f of markedFunctions(fns, [...decorated, ...commentMarks(js)], js)) wanted.add(f);
  if (!wanted.size) return { code: js, functions: [], skipped: [] };
  return instrumentModule(js, url, [...wanted], config.probes);
}

/** A cheap look for ES module syntax (Node's own detection for files no package.json "type" decides). */
export function looksLikeEsm(js: string): boolean {
  return /^\s*(import\s*[\w{*'"]|export\s+(\{|\*|default\b|const\b|let\b|var\b|function\b|async\b|class\b|type\b|interface\b|enum\b))/m.test(js) || /\bimport\.meta\b/.test(js);
}

/**
 * %prun's counters (engines/call-counts.ts) compiled in at load time, as the notebook compiles them
 * in with LiveEdit: the module's two counter arrays come from the runner's registry in a one-line
 * prologue (no line moves). A module that does not parse is left uncounted.
 */
function countCalls(js: string, url: string, format: 'module' | 'commonjs'): Transformed {
  let out: ReturnType<typeof instrumentCounters>;
  try {
    out = instrumentCounters(js, 0, { calls: '__tsprof_cc', self: '__tsprof_cs' }, format === 'module' ? 'module' : 'script');
  } catch {
    return { code: js, functions: [], skipped: [] };
  }
  // No functions: still counted, so that its top level shows as `<module>`, called once.
  if (!out.slots) return { code: js, functions: [], skipped: [], counted: [] };
  const at = prologueOffset(out.code);
  const prologue = `var [__tsprof_cc, __tsprof_cs] = ${REGISTRY}.calls(${JSON.stringify(url)}, ${out.slots});`;
  const code = out.code.slice(0, at) + prologue + out.code.slice(at);
  const shift = (pos: number): number => (pos >= at ? pos + prologue.length : pos);
  const counted = out.functions.map((f) => ({ name: f.name, line: f.line, slot: f.slot, start: shift(f.start), end: shift(f.end) }));
  return { code, functions: [], skipped: [], counted };
}
