// Runs transpiled cells in this process's one V8 context through the inspector's REPL mode:
// `let`/`const`/`class` may be declared again, top-level `await` works, and values keep their
// identity with everything else in the process (modules, builtins).
//
// Interrupts come from the I/O thread — interrupt_request, and SIGINT (kernel/io/sigint.ts) —
// which stops whatever runs here through an inspector session (interrupt-point.ts). Cells run
// without Node's SIGINT watchdog (vm `breakOnSigint`, which starts and joins a thread around every
// call: 0.1–1 ms a cell), except while code here listens for SIGINT itself (%memit -t's timeout, a
// cell's `process.on('SIGINT')`): then this thread answers SIGINT as before — the watchdog ends a
// `while (true) {}` cleanly and state survives; the kernel's listener releases a cell's awaits.
import { Session } from 'node:inspector';
import vm from 'node:vm';
import { slots, SLOTS_NAME, userGlobal } from './user-realm.js';
import { installInterruptPoint } from './interrupt-point.js';
import { SigintFlags } from '../io/sigint.js';
import { END_STATEMENT, end, restoreThen } from './repl-result.js';
import { log } from '../log.js';

const userFunctionProto = userGlobal.Function.prototype;
const { apply: originalApply, call: originalCall, bind: originalBind } = userFunctionProto;
// Captured before any cell runs (a cell may replace EventEmitter's methods).
const { rawListeners: processRawListeners, on: processOn } = process;
import { adopt } from '../../magics/engines/realm.js';

export type Outcome =
  | { status: 'ok'; value: unknown }
  | { status: 'error'; error: unknown; position?: { line: number; column: number } }
  | { status: 'interrupted' };

interface RemoteObject {
  type: string;
  subtype?: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
  description?: string;
}

interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: { exception?: RemoteObject; lineNumber: number; columnNumber: number; text: string };
}

const GROUP = 'tsprof';

/**
 * While this thread answers SIGINT, a cell's `process.kill(process.pid, 'SIGINT')` becomes the
 * SIGINT listeners' call on the next turn, without a real signal. Measured on Node 20.20: a
 * self-sent SIGINT while a cell runs under the watchdog (breakOnSigint) inside the inspector's
 * Runtime.evaluate leaves V8's inspector without the main context: every later evaluation, from any
 * session, fails with "Cannot find context with specified id" (a SIGINT from another process at the
 * same point does not). What the listeners do is what a SIGINT between two cells does: the cell's
 * awaits are released (KeyboardInterrupt). Otherwise the signal is sent, for the I/O thread.
 */
function routeSelfSigint(mainAnswers: () => boolean): void {
  const realKill = process.kill;
  const nextTurn = setImmediate;
  const emit = process.emit;
  const self = process;
  process.kill = function kill(pid: number, signal?: string | number): true {
    if (Number(pid) === self.pid && (signal === 'SIGINT' || signal === 2) && mainAnswers()) {
      nextTurn(() => Reflect.apply(emit, self, ['SIGINT', 'SIGINT']));
      return true;
    }
    return Reflect.apply(realKill, self, [pid, signal]) as true;
  };
}

/**
 * Tell `flags` whether a SIGINT listener other than the kernel's is on `process` (Node's
 * EventEmitter reports each change synchronously: 'newListener' before an add, 'removeListener'
 * after a removal), except while `paused()` (the watchdog takes the listeners off and puts them back).
 * The methods are read now, before any cell could replace them.
 */
function trackSigintListeners(flags: SigintFlags, kernelListener: () => void, paused: () => boolean): void {
  const rawListeners = process.rawListeners;
  const on = process.on;
  const self = process;
  const others = (): boolean => {
    const all = Reflect.apply(rawListeners, self, ['SIGINT']) as unknown[];
    for (let i = 0; i < all.length; i++) if (all[i] !== kernelListener) return true;
    return false;
  };
  Reflect.apply(on, self, ['newListener', (event: unknown, listener: unknown) => {
    if (event === 'SIGINT' && listener !== kernelListener && !paused()) flags.setListening(true);
  }]);
  Reflect.apply(on, self, ['removeListener', (event: unknown) => {
    if (event === 'SIGINT' && !paused()) flags.setListening(others());
  }]);
  flags.setListening(others());
}

/** Thrown into a cell's await when the user interrupts. */
export class KeyboardInterrupt extends Error {
  override name = 'KeyboardInterrupt';
}

export class Evaluator {
  private readonly session = new Session();
  private readonly runner = new vm.Script(`${SLOTS_NAME}.run()`, { filename: 'tsprof-runner' });
  /** Evaluations waiting to finish; magics can nest one inside another. */
  private readonly pending = new Set<(o: Outcome) => void>();
  /** A SIGINT from outside: see the constructor. */
  /** Releases an await on SIGINT while the I/O thread does not watch it (see the constructor). */
  private readonly onSigint = (): void => {
    if (!this.sigint.watching) this.interrupt();
  };
  /** Nesting of runSync (a magic may evaluate inside a cell's synchronous part). */
  private syncDepth = 0;
  /** Where the kernel tells the user what it did about their cell (the cell's stderr). */
  warn: (text: string) => void = () => undefined;
  /** Counts interrupts, so long-running work can tell whether one arrived since it started. */
  interruptCount = 0;
  /** Cells started so far (a magic's nested evaluation is part of its cell). */
  private cells = 0;
  /** Rejects when the running cell is interrupted; the cell's top-level awaits race it (see guard). */
  private abort?: { promise: Promise<never>; reject: (e: Error) => void };

  /** Inside a call under Node's SIGINT watchdog. */
  private underWatchdog = false;

  /**
   * `sigint` is shared with the I/O thread (kernel/io/sigint.ts); without it, this thread answers
   * SIGINT. `beforeRun` is called just before user code runs.
   */
  constructor(private readonly sigint: SigintFlags = new SigintFlags(), private readonly beforeRun?: () => void) {
    this.session.connect();
    // A SIGINT the I/O thread does not watch (code here listens for it too): the watchdog stops
    // synchronous code; this listener releases an await. Otherwise it does nothing (the I/O thread
    // interrupts), but it keeps a SIGINT from ending the process.
    process.on('SIGINT', this.onSigint);
    trackSigintListeners(sigint, this.onSigint, () => this.underWatchdog);
    routeSelfSigint(() => !this.sigint.watching);
    slots.end = end;
    installInterruptPoint({
      interrupt: () => this.interrupt(),
      cell: () => this.cells,
      terminateNow: () => this.session.post('Runtime.terminateExecution'),
      inspect: (method, params) => this.postSync(method, params),
      log,
    });
  }

  /**
   * Node's SIGINT watchdog (vm breakOnSigint) takes the process's SIGINT listeners off and puts them
   * back through EventEmitter code that calls the user realm's Function.prototype.apply; once a
   * cell replaced that, cells run without the watchdog (interrupt_request still stops them).
   */
  private watchdogUsable(): boolean {
    return userFunctionProto.apply === originalApply && userFunctionProto.call === originalCall && userFunctionProto.bind === originalBind;
  }

  /** Run `slots.run`: under Node's SIGINT watchdog while code here listens for SIGINT (and the watchdog works). */
  private runSync(): void {
    this.syncDepth++;
    try {
      if (this.sigint.listening && this.watchdogUsable()) {
        const outer = this.underWatchdog;
        this.underWatchdog = true;
        try {
          this.runner.runInThisContext({ breakOnSigint: true });
        } finally {
          this.underWatchdog = outer;
        }
      } else slots.run?.();
    } finally {
      if (--this.syncDepth === 0) this.keepNodeWorking();
    }
  }

  /**
   * Node's own event loop calls the main realm's Function.prototype.apply: for every callback from
   * native code once async context is tracked (async_hooks' callbackTrampoline: `cb.apply(this,
   * args)`), and in EventEmitter's emit. Measured on Node 20.20: after `Function.prototype.apply =
   * null` in a cell, no message from the I/O thread reached the kernel again. A cell that leaves it
   * something other than a function gets the original back, and is told so on stderr. (`call` and
   * `bind` set to null leave Node's loop working, and stay as the cell left them.) The watchdog's
   * teardown of that same cell fails on it too, before giving the process its SIGINT listeners
   * back: the kernel's own is put back.
   */
  private keepNodeWorking(): void {
    this.keepApply();
    // Only when no SIGINT listener is left: a magic may have put its own in the kernel's place for
    // its run (%memit -t's timeout), and gives the kernel's back itself.
    if ((Reflect.apply(processRawListeners, process, ['SIGINT']) as unknown[]).length === 0) Reflect.apply(processOn, process, ['SIGINT', this.onSigint]);
  }

  /** Also when a cell settles: it may have set it after an await. */
  private keepApply(): void {
    const apply = Reflect.getOwnPropertyDescriptor(userFunctionProto, 'apply');
    if (!(apply && typeof apply.value === 'function')) {
      if (Reflect.defineProperty(userFunctionProto, 'apply', { value: originalApply, writable: true, enumerable: false, configurable: true })) {
        this.warn('tsprof: Function.prototype.apply was set to something other than a function; Node\'s event loop calls it for every callback, so the kernel put the original back.\n');
      } else log('Function.prototype.apply is not a function and cannot be put back: Node callbacks will fail');
    }
  }

  /** Called on SIGINT when no synchronous code was running: release whatever the cell awaits. */
  interrupt(): void {
    this.interruptCount++;
    this.abort?.reject(new KeyboardInterrupt('interrupted'));
    for (const settle of [...this.pending]) settle({ status: 'interrupted' });
  }

  /**
   * Run synchronous work so that an interrupt ends it with KeyboardInterrupt: the I/O thread's
   * interrupt stops it wherever it runs; while code here listens for SIGINT, Node's watchdog does.
   */
  interruptible<T>(work: () => T): T {
    if (!this.sigint.listening) return work();
    let result: T | undefined;
    const previous = slots.run;
    slots.run = () => {
      result = work();
    };
    try {
      this.runSync();
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
        this.interruptCount++;
        throw new KeyboardInterrupt('interrupted');
      }
      throw e;
    } finally {
      slots.run = previous;
    }
    return result as T;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** What a top-level `await x` in a cell awaits instead of x: x, unless the cell is interrupted first. */
  guard<T>(value: T): Promise<Awaited<T>> | T {
    return this.abort ? (Promise.race([value, this.abort.promise]) as Promise<Awaited<T>>) : value;
  }

  evaluate(js: string): Promise<Outcome> {
    // A new cell (not a magic's nested run) gets a fresh abort signal.
    if (this.pending.size === 0) {
      this.cells++;
      let reject!: (e: Error) => void;
      const promise = new Promise<never>((_, r) => (reject = r));
      promise.catch(() => undefined);
      this.abort = { promise, reject };
    }
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const settle = (o: Outcome): void => {
        if (done) return;
        done = true;
        restoreThen();
        this.keepApply();
        this.pending.delete(settle);
        resolve(o);
      };
      this.pending.add(settle);
      this.beforeRun?.();
      slots.run = () =>
        this.session.post('Runtime.evaluate', { expression: withEnd(js), replMode: true, objectGroup: GROUP }, (err, res) => {
          if (done) return;
          if (err) settle(/terminat/i.test(err.message) ? { status: 'interrupted' } : { status: 'error', error: err });
          else this.outcome(res as unknown as EvaluateResult).then(settle, (e: unknown) => settle({ status: 'error', error: e }));
        });
      try {
        this.runSync();
      } catch (e) {
        settle((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' ? { status: 'interrupted' } : { status: 'error', error: e });
      } finally {
        slots.run = undefined;
      }
    });
  }

  /** Evaluate without side effects (V8 refuses anything that would change state): for completion and inspection. */
  async peek(expression: string): Promise<{ ok: true; value: unknown } | { ok: false }> {
    try {
      const res = await this.post<EvaluateResult>('Runtime.evaluate', { expression, throwOnSideEffect: true, timeout: 200, objectGroup: GROUP, silent: true });
      if (res.exceptionDetails) return { ok: false };
      return { ok: true, value: this.fromRemote(res.result) };
    } catch {
      return { ok: false };
    } finally {
      this.release();
    }
  }

  /** Names declared with let/const/class at the top level of cells (not properties of globalThis). */
  async lexicalNames(): Promise<string[]> {
    try {
      // The kernel's own bindings (__tsprofSlots, __tsprofEnd) are not the user's names.
      return (await this.post<{ names: string[] }>('Runtime.globalLexicalScopeNames', {})).names.filter((n) => !n.startsWith('__tsprof'));
    } catch {
      return [];
    }
  }

  private async outcome(res: EvaluateResult): Promise<Outcome> {
    try {
      if (res.exceptionDetails) {
        const d = res.exceptionDetails;
        const error = d.exception ? this.fromRemote(d.exception) : new Error(d.text);
        return { status: 'error', error, position: { line: d.lineNumber + 1, column: d.columnNumber + 1 } };
      }
      return { status: 'ok', value: this.fromRemote(res.result) };
    } finally {
      // A primitive result (most cells) put nothing in the object group: no call to empty it.
      if (res.result?.objectId !== undefined || res.exceptionDetails?.exception?.objectId !== undefined) this.release();
    }
  }

  /**
   * The real value behind a RemoteObject: objects are fetched through a slot, primitives decoded.
   * Synchronous, and never the value of a promise: resolving a promise with a user's object reads
   * its `then`, which a cell may have made a getter that throws (Object.prototype.then).
   */
  private fromRemote(r: RemoteObject): unknown {
    if (r.objectId) {
      this.postSync('Runtime.callFunctionOn', {
        objectId: r.objectId,
        functionDeclaration: `function () { 'use strict'; ${SLOTS_NAME}.value = this; }`,
        silent: true,
      });
      const value = slots.value;
      slots.value = undefined;
      return value;
    }
    if (r.type === 'undefined') return undefined;
    if (r.unserializableValue !== undefined) {
      const u = r.unserializableValue;
      if (u.endsWith('n')) return BigInt(u.slice(0, -1));
      return u === '-0' ? -0 : Number(u);
    }
    return r.value;
  }

  private release(): void {
    this.session.post('Runtime.releaseObjectGroup', { objectGroup: GROUP });
  }

  /** The in-thread session answers before post() returns. */
  private postSync(method: string, params: object): unknown {
    let error: Error | null = null;
    let result: unknown;
    this.session.post(method, params, (err, res) => {
      error = err;
      result = res;
    });
    if (error) throw error;
    return result;
  }

  private post<T>(method: string, params: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (err, res) => (err ? reject(err) : resolve(adopt(res) as T)));
    });
  }
}

/** The script with the kernel's last statement (repl-result.ts) before its sourceURL comment. */
function withEnd(js: string): string {
  const at = js.lastIndexOf('\n//# sourceURL=');
  return at < 0 ? js + END_STATEMENT : js.slice(0, at) + END_STATEMENT + js.slice(at);
}
