// What a measuring engine needs from the program it measures, and nothing of Jupyter.
//
// The engines (timing loops, V8 profilers, the instrumenter, memory sampling) are shared by three
// front ends: the notebook magics (magics/notebook/), the command line (magics/cli/) and the
// library (magics/library/). Each front end provides an EngineHost; an engine takes typed options
// and returns a typed result, and never imports kernel/ or a front end.
import vm from 'node:vm';

/** A script the program compiled: the TypeScript the user wrote and the JavaScript V8 ran (same lines). */
export interface SourceText {
  ts: string;
  js: string;
}

/** Raised by an engine when the user interrupted the measurement (the front end says how). */
export class MeasurementInterrupted extends Error {
  override name = 'KeyboardInterrupt';
  constructor(message = 'interrupted') {
    super(message);
  }
}

/** A wrong input to an engine (an option out of range, a function it cannot profile): the user's to fix. */
export class EngineUsageError extends Error {
  override name = 'UsageError';
}

export interface EngineHost {
  /** Scripts compiled from the user's code, by the URL V8 knows them by (`cell-3`, a file URL). */
  readonly sources: ReadonlyMap<string, SourceText>;
  /** Compile a TypeScript function body into a function that runs in the program's global scope. */
  compileFunction(params: string[], body: string, options?: { async?: boolean; name?: string }): (...args: unknown[]) => unknown;
  /** Run TypeScript source in the program's global scope; resolves with the last expression's value. */
  runCode(code: string, firstLine?: number): Promise<unknown>;
  /** Run synchronous work so that an interrupt can stop it (throws MeasurementInterrupted then). */
  interruptible<T>(work: () => T): T;
  /** True once the user interrupted since the measurement started. */
  readonly interrupted: boolean;
}

/**
 * The global object user code runs against. In a plain process (command line, library) it is this
 * realm's `globalThis`; the kernel points it at the user's realm when its own code runs in a realm
 * of its own. Values meant for user code (slots read by compiled snippets) go here, never on a bare
 * `globalThis`.
 */
// vm runs in the main context, whichever realm this module was evaluated in.
export let userGlobal: typeof globalThis = vm.runInThisContext('globalThis') as typeof globalThis;

export function setUserGlobal(g: typeof globalThis): void {
  userGlobal = g;
}

/**
 * Where engines leave values for code they compile into the user's realm (counters, a function to
 * rebind): a top-level `const` of a script in the main context is a global lexical binding, which
 * `Object.freeze(globalThis)`, `delete` or `Symbol = undefined` in a cell cannot take away.
 * Compiled code reads `${USER_SLOTS}.<key>`.
 */
export const USER_SLOTS = '__tsprofEngineSlots';

function makeUserSlots(): Record<string, unknown> {
  // This module may be evaluated once per realm; the binding exists once per main context.
  try {
    return vm.runInThisContext(USER_SLOTS, { filename: 'tsprof-slots' }) as Record<string, unknown>;
  } catch {
    return vm.runInThisContext(`const ${USER_SLOTS} = { __proto__: null }; ${USER_SLOTS}`, { filename: 'tsprof-slots' }) as Record<string, unknown>;
  }
}

export const userSlots: Record<string, unknown> = makeUserSlots();

let constantNames = 0;

/** A name no global of the user's realm has yet, for bindUserConstant. */
export function freshConstantName(): string {
  return `__tsprofConst${++constantNames}`;
}

/**
 * Declare `name` (from freshConstantName) as a global `const` of the user's realm holding `value`,
 * for code compiled into the user's functions to read on every call (a call counter). A property of
 * the slot object is a hash lookup on every read (the object is in dictionary mode); a top-level
 * `const` is a script-context slot that optimized code folds to the value itself. Measured on
 * fib(32): counters read through the slot object ran 5–10× plain, through constants 1.16–1.27×. The
 * binding lives as long as the realm (a `const` cannot be deleted): one per run, not per call.
 */
export function bindUserConstant(name: string, value: unknown): void {
  const key = name.replace('__tsprofConst', 'c');
  userSlots[key] = value;
  try {
    vm.runInThisContext(`const ${name} = ${USER_SLOTS}.${key};`, { filename: 'tsprof-slots' });
  } finally {
    delete userSlots[key];
  }
}
