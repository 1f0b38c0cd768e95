// The EngineHost of a plain Node process, shared by the library and the command line: user code is
// compiled into this realm's global scope, TypeScript stripped by sucrase (lines kept), `import` of
// packages and of files (TypeScript too, through the CLI's loader hooks) resolved from the current
// directory, and nothing interrupts a measurement but the process ending.
import vm from 'node:vm';
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { transform } from 'sucrase';
import { rewriteModuleSyntax, RUNTIME } from '../../kernel/session/transpile.js';
import { EngineUsageError, userGlobal, type EngineHost, type SourceText } from '../engines/host.js';

let compiled = 0;

/** `./x.ts` and `/abs/x.ts` as file URLs from the current directory; package names unchanged. */
function specifierFromCwd(spec: string): string {
  if (spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec)) return pathToFileURL(resolve(spec)).href;
  return spec;
}

/**
 * What compiled code calls for `import` (rewriteModuleSyntax turns static imports into
 * `await __tsprof.import(…)`, as in a cell); `guard` is the kernel's interrupt hook, a no-op here.
 */
function installRuntime(): void {
  const g = userGlobal as unknown as Record<string, unknown>;
  g[RUNTIME] ??= { import: (spec: string) => import(specifierFromCwd(spec)), guard: <T>(x: T) => x };
}

/** vm's option that lets `import()` in compiled code use the process's own loader (and our hooks). */
const importOption = (vm as unknown as { constants?: { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } }).constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;

/** Node says the loader option is experimental, once, on stderr; the user did not ask for it. */
function quietly<T>(work: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String((warning as Error)?.message ?? warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return work();
  } finally {
    process.emitWarning = emit;
  }
}

function stripTypes(ts: string, what: string): string {
  try {
    return transform(ts, { transforms: ['typescript'], disableESTransforms: true, keepUnusedImports: true }).code;
  } catch (e) {
    throw new EngineUsageError(`cannot compile the ${what}: ${(e as Error).message.replace(/^Error transforming[^:]*: /, '')}`);
  }
}

/** Static `import … from` lines of a snippet (e.g. timeit's setup) as awaited dynamic imports; lines kept. */
export function importsAsAwaits(ts: string): string {
  if (!/\bimport\b/.test(ts)) return ts;
  return rewriteModuleSyntax(stripTypes(ts, 'setup'));
}

export function processHost(): EngineHost {
  installRuntime();
  const sources = new Map<string, SourceText>();
  return {
    sources,
    compileFunction(params, body, options = {}) {
      const url = `tsprof-cli-${++compiled}`;
      const ts = `(${options.async ? 'async ' : ''}function ${options.name ?? 'tsprof_compiled'}(${params.join(', ')}) {\n${body}\n})`;
      const js = stripTypes(ts, 'statement');
      sources.set(url, { ts, js });
      try {
        return quietly(() => vm.runInThisContext(js, { filename: url, ...(importOption ? { importModuleDynamically: importOption as never } : {}) })) as (...args: unknown[]) => unknown;
      } catch (e) {
        if (e instanceof SyntaxError) throw new EngineUsageError(`cannot compile the statement: ${e.message}`);
        throw e;
      }
    },
    async runCode(code) {
      // Static imports need an async body (their value is not the statement's); anything else runs as
      // a script, whose completion value is the last expression's.
      if (/\bimport\b/.test(code)) {
        const fn = this.compileFunction([], importsAsAwaits(code), { async: true, name: 'tsprof_run' }) as () => Promise<unknown>;
        return fn();
      }
      const url = `tsprof-cli-${++compiled}`;
      const js = stripTypes(code, 'statement');
      sources.set(url, { ts: code, js });
      return quietly(() => vm.runInThisContext(js, { filename: url, ...(importOption ? { importModuleDynamically: importOption as never } : {}) }));
    },
    interruptible: (work) => work(),
    // Ctrl-C ends the process (Node's default): nothing to poll.
    interrupted: false,
  };
}
