// A cell's life: execute_input, transpile, evaluate, execute_result or error, history, reply.
// All output leaves through `publish` (the same path for user code, display() and magics).
import type { ExecuteReply, ExecuteRequest, Header, MimeBundle } from '../wire/message.js';
import { cellContext, currentCell, setLatestCell, type CellContext } from './context.js';
import { createDisplay, isDisplayHandle, type DisplayFunction } from './display.js';
import { Evaluator, KeyboardInterrupt, type Outcome } from './evaluator.js';
import type { SigintFlags } from '../io/sigint.js';
import { History } from './history.js';
import { createImporter } from './imports.js';
import { toDisplayOutput } from './mime.js';
import { StreamRouter } from './output.js';
import { passThen } from './repl-result.js';
import { installRuntime } from './runtime.js';
import { formatError, type FormattedError } from './stacktrace.js';
import { TranspileError, transpileCell } from './transpile.js';

export type Publish = (parent: Header, msgType: string, content: unknown) => void;

export interface SessionOptions {
  publish: Publish;
  /** The notebook's directory: imports and require resolve from here. */
  baseDir: string;
  /** Shared with the I/O thread, which answers SIGINT; without it (no I/O thread) SIGINT only releases awaits. */
  sigint?: SigintFlags;
  /** Called just before user code runs (each evaluation): output held back must leave first. */
  beforeRun?: () => void;
}

/** Runs one cell's code and says how it went; `url` names the script (default `cell-N`). */
export type CellRunner = (code: string, ctx: CellContext, url?: string) => Promise<Outcome>;

/** A script the kernel compiled: the TypeScript the user wrote and the JavaScript V8 ran (same lines). */
export interface CellSource {
  ts: string;
  js: string;
}

export class KernelSession {
  executionCount = 0;
  readonly evaluator: Evaluator;
  readonly history = new History();
  readonly streams: StreamRouter;
  readonly display: DisplayFunction;
  /** Every script compiled from a cell, by the URL V8 knows it by, for the profilers' line views. */
  readonly sources = new Map<string, CellSource>();
  private readonly publishRaw: Publish;
  private chunks = 0;
  private silentCount = 0;
  /** Source rewrites applied before transpiling (magics turn `%x` lines into calls here). */
  private readonly rewriters: Array<(code: string) => string> = [];
  /** execute_reply payloads of the running cell (pager pages from `%x?`). */
  private payload: Record<string, unknown>[] = [];

  constructor(opts: SessionOptions) {
    this.publishRaw = opts.publish;
    this.evaluator = new Evaluator(opts.sigint, opts.beforeRun);
    this.streams = new StreamRouter((parent, name, text) => this.publishRaw(parent, 'stream', { name, text }));
    this.display = createDisplay({
      publish: (output, displayId, update) => {
        const parent = currentCell()?.parent;
        if (!parent) return;
        const content = { data: output.data, metadata: output.metadata, transient: displayId ? { display_id: displayId } : {} };
        this.publish(parent, update ? 'update_display_data' : 'display_data', content);
      },
      clear: (wait) => {
        const parent = currentCell()?.parent;
        if (parent) this.publish(parent, 'clear_output', { wait });
      },
    });
    this.evaluator.warn = (text) => this.streams.write('stderr', text);
    installRuntime({ import: createImporter(opts.baseDir), display: this.display, guard: (v) => this.evaluator.guard(v) }, opts.baseDir);
  }

  /** Publish with pending stream output flushed first, so the order the user sees is the order it happened. */
  publish(parent: Header, msgType: string, content: unknown): void {
    this.streams.flush();
    this.publishRaw(parent, msgType, content);
  }

  async execute(req: ExecuteRequest, parent: Header): Promise<ExecuteReply> {
    const silent = Boolean(req.silent);
    const storeHistory = !silent && req.store_history !== false;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.publish(parent, 'execute_input', { code: req.code, execution_count: count });
    if (storeHistory) this.history.add(count, req.code);

    this.payload = [];
    // A cell outside history gets a name of its own, so it never takes over an earlier cell's sources.
    const ctx: CellContext = { parent, cell: storeHistory ? count : -++this.silentCount };
    setLatestCell(ctx);
    const outcome = await cellContext.run(ctx, () => this.runCell(req.code, ctx));
    this.streams.flush();

    if (outcome.status === 'ok') {
      if (!silent && outcome.value !== undefined && !isDisplayHandle(outcome.value)) {
        const out = toDisplayOutput(outcome.value, (method, error) => this.reportReprError(parent, method, error));
        this.publish(parent, 'execute_result', { execution_count: count, data: out.data, metadata: out.metadata });
        if (storeHistory) this.history.setOutput(count, String(out.data['text/plain'] ?? ''));
      }
      const user_expressions = await cellContext.run(ctx, () => this.userExpressions(req.user_expressions ?? {}));
      return { status: 'ok', execution_count: count, user_expressions, payload: this.payload };
    }
    const err = outcome.status === 'interrupted' ? interruptError() : this.describeError(outcome, req.code, ctx.cell);
    if (!silent) this.publish(parent, 'error', err);
    return { status: 'error', execution_count: count, ...err, user_expressions: {}, payload: [] };
  }

  addRewriter(rewrite: (code: string) => string): void {
    this.rewriters.push(rewrite);
  }

  addPayload(payload: Record<string, unknown>): void {
    this.payload.push(payload);
  }

  /**
   * Compile code to run as part of the current cell (for magics), without running it yet: a magic
   * that measures the run keeps the transpiler out of the measurement. It is its own script
   * (`cell-N.K`), padded so its lines are the cell's lines (`firstLine` is where it starts).
   * The returned function resolves with the last expression's value or rejects with the error.
   */
  prepareCode(code: string, firstLine = 1): () => Promise<unknown> {
    const ctx = currentCell();
    if (!ctx) throw new Error('prepareCode outside a cell');
    const compiled = this.compile('\n'.repeat(Math.max(0, firstLine - 1)) + code, `${cellName(ctx.cell)}.${++this.chunks}`);
    return async () => {
      const outcome = 'js' in compiled ? await this.evaluator.evaluate(compiled.js) : compiled;
      if (outcome.status === 'ok') return passThen(outcome.value);
      if (outcome.status === 'interrupted') throw new KeyboardInterrupt('interrupted');
      throw outcome.error;
    };
  }

  runCode(code: string, firstLine = 1): Promise<unknown> {
    return this.prepareCode(code, firstLine)();
  }

  /**
   * Rewrite, transpile and evaluate. Not an async function: returning the evaluator's promise from
   * one would queue a job (V8's PromiseResolveThenableJob) behind the microtasks the cell queued, and
   * an interrupt that terminates one of those drops the whole queue, that job with it — the cell
   * would never reply. The evaluator's own promise is released from a fresh turn instead.
   */
  runCell: CellRunner = (code, ctx, url = cellName(ctx.cell)) => {
    const compiled = this.compile(code, url);
    return 'js' in compiled ? this.evaluator.evaluate(compiled.js) : Promise.resolve(compiled);
  };

  /** Rewrite and transpile, remembering the source by URL; a syntax error comes back as an outcome. */
  private compile(code: string, url: string): { js: string } | Extract<Outcome, { status: 'error' }> {
    try {
      const source = this.rewriters.reduce((c, rewrite) => rewrite(c), code);
      const js = transpileCell(source, url).js;
      this.sources.set(url, { ts: code, js });
      return { js };
    } catch (e) {
      if (e instanceof TranspileError) return { status: 'error', error: e, position: e.line ? { line: e.line, column: e.column ?? 0 } : undefined };
      throw e;
    }
  }

  /** A representation method threw: say so on stderr, as IPython's formatters do, and show the rest. */
  private reportReprError(parent: Header, method: string, error: unknown): void {
    const err = formatError(error);
    this.publish(parent, 'stream', { name: 'stderr', text: `${method} raised while showing the result; showing what remains.\n${err.traceback.join('\n')}\n` });
  }

  /** An error thrown by a timer or promise callback after (or while) its cell ran. */
  reportAsyncError(cell: CellContext, error: unknown, kind: string): void {
    const err = formatError(error);
    err.traceback.push(`(${kind === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception in a callback'}; the kernel keeps running)`);
    this.publish(cell.parent, 'error', err);
  }

  private describeError(outcome: Extract<Outcome, { status: 'error' }>, code: string, cell: number): FormattedError {
    const err = formatError(outcome.error);
    const isSyntax = err.ename === 'SyntaxError' || outcome.error instanceof TranspileError;
    if (isSyntax && outcome.position) {
      const { line, column } = outcome.position;
      const src = code.split('\n')[line - 1] ?? '';
      err.traceback = [`  at ${cellName(cell)}:${line}`, `    ${src}`, `    ${' '.repeat(Math.max(0, column - 1))}^`, `${err.ename}: ${err.evalue}`];
    }
    return err;
  }

  private async userExpressions(exprs: Record<string, string>): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, expr] of Object.entries(exprs)) {
      let outcome: Outcome;
      try {
        outcome = await this.evaluator.evaluate(transpileCell(expr, 'user-expression').js);
      } catch (e) {
        outcome = { status: 'error', error: e };
      }
      if (outcome.status === 'ok') {
        // A user expression reports its own failure in its entry, as IPython's do.
        let failed: unknown;
        const shown = toDisplayOutput(outcome.value, (_method, error) => void (failed ??= error));
        out[name] = failed === undefined ? { status: 'ok', ...shown } : { status: 'error', ...formatError(failed) };
      } else out[name] = { status: 'error', ...(outcome.status === 'error' ? formatError(outcome.error) : interruptError()) };
    }
    return out;
  }
}

export function cellName(cell: number): string {
  return cell >= 0 ? `cell-${cell}` : `cell-silent${-cell}`;
}

function interruptError(): FormattedError {
  return { ename: 'KeyboardInterrupt', evalue: 'the cell was interrupted', traceback: ['KeyboardInterrupt: the cell was interrupted; variables defined before it are kept'] };
}

export type { MimeBundle };
