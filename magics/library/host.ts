// The EngineHost of a plain Node process (the library, and the command line's statements): user code
// is this realm's code, TypeScript statements are transpiled with sucrase (lines kept) and compiled
// with vm in this context, and nothing interrupts a measurement but the process ending.
import vm from 'node:vm';
import { transform } from 'sucrase';
import { EngineUsageError, type EngineHost, type SourceText } from '../engines/host.js';

let compiled = 0;

function toJs(ts: string): string {
  try {
    return transform(ts, { transforms: ['typescript'], disableESTransforms: true, keepUnusedImports: true }).code;
  } catch (e) {
    throw new EngineUsageError(`cannot compile the statement: ${(e as Error).message.replace(/^Error transforming[^:]*: /, '')}`);
  }
}

export function processHost(): EngineHost {
  return {
    sources: new Map<string, SourceText>(),
    compileFunction(params, body, options = {}) {
      const ts = `(${options.async ? 'async ' : ''}function ${options.name ?? 'tsprof_compiled'}(${params.join(', ')}) {\n${body}\n})`;
      return vm.runInThisContext(toJs(ts), { filename: `tsprof-statement-${++compiled}` }) as (...args: unknown[]) => unknown;
    },
    async runCode(code) {
      return vm.runInThisContext(toJs(code), { filename: `tsprof-statement-${++compiled}` });
    },
    interruptible: (work) => work(),
    interrupted: false,
  };
}
