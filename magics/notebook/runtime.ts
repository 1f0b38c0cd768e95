// The functions rewritten magic lines call (`__tsprof.magic(...)`, `.help`, `.objectHelp`), and
// the context a magic runs in. Magics never see sockets: they display through the cell's display
// API and return values, like user code.
import vm from 'node:vm';
import { transform } from 'sucrase';
import { currentCell } from '../../kernel/session/context.js';
import type { DisplayFunction } from '../../kernel/session/display.js';
import type { Evaluator } from '../../kernel/session/evaluator.js';
import type { CellSource } from '../../kernel/session/session.js';
import type { MimeBundle } from '../../kernel/wire/message.js';
import { parseOptions } from './argv.js';
import { MagicRegistry, helpText } from './registry.js';
import { rewriteMagics } from './rewrite.js';
import { UsageError, type MagicContext } from './types.js';
import { inlineTime } from './time.js';

export interface MagicHost {
  readonly display: DisplayFunction;
  readonly sources: ReadonlyMap<string, CellSource>;
  readonly evaluator: Evaluator;
  /** Run TypeScript as a cell: resolves with the last expression's value, rejects with its error. */
  runCode(code: string, firstLine?: number): Promise<unknown>;
  prepareCode(code: string, firstLine?: number): () => Promise<unknown>;
  addPayload(payload: Record<string, unknown>): void;
  /** What `expr?` shows: the language service's inspection of an expression. */
  inspect(expr: string, detail: 0 | 1): Promise<MimeBundle | undefined>;
}

export interface MagicFunctions {
  magic(name: string, args: string, body: string | null, line: number): Promise<unknown>;
  help(name: string): Promise<undefined>;
  objectHelp(expr: string, detail: 0 | 1): Promise<undefined>;
  /** The clock of an inline `%time` block (synchronous, so it works inside any function). */
  time: typeof inlineTime;
}

let compiled = 0;

export function createMagicFunctions(host: MagicHost, registry: MagicRegistry): MagicFunctions {
  const context = (): MagicContext => {
    const cell = currentCell();
    if (!cell) throw new Error('a magic ran outside any cell');
    const startedInterrupts = host.evaluator.interruptCount;
    return {
      cell,
      display: host.display,
      sources: host.sources,
      compileFunction(params, body, options = {}) {
        // Magic lines in the body work as they do in a cell (IPython's %timeit takes `%magic` statements too).
        const ts = `(${options.async ? 'async ' : ''}function ${options.name ?? 'tsprof_compiled'}(${params.join(', ')}) {\n${rewriteMagics(body)}\n})`;
        let js: string;
        try {
          js = transform(ts, { transforms: ['typescript'], disableESTransforms: true, keepUnusedImports: true }).code;
        } catch (e) {
          throw new UsageError(`cannot compile the statement: ${(e as Error).message.replace(/^Error transforming[^:]*: /, '')}`);
        }
        return vm.runInThisContext(js, { filename: `magic-${++compiled}` }) as (...args: unknown[]) => unknown;
      },
      runCode: (code, firstLine) => host.runCode(code, firstLine),
      prepareCode: (code, firstLine) => host.prepareCode(code, firstLine),
      interruptible: (work) => host.evaluator.interruptible(work),
      get interrupted() {
        return host.evaluator.interruptCount !== startedInterrupts;
      },
      addPayload: (p) => host.addPayload(p),
    };
  };

  return {
    time: inlineTime,
    async magic(name, args, body, line) {
      const kind = body === null ? 'line' : 'cell';
      const magic = registry.lookup(name, kind);
      return magic.run(context(), { args, body: body ?? undefined, line });
    },
    async help(name) {
      host.addPayload({ source: 'page', data: { 'text/plain': registry.help(name) }, start: 0 });
      return undefined;
    },
    async objectHelp(expr, detail) {
      const data = await host.inspect(expr, detail);
      host.addPayload({ source: 'page', data: data ?? { 'text/plain': `Object \`${expr}\` not found.` }, start: 0 });
      return undefined;
    },
  };
}

export { parseOptions, helpText, UsageError };
