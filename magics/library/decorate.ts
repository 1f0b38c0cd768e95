// The plumbing every library decorator shares: telling a TypeScript 5 (standard) decorator call
// from a plain call, naming the method, and wrapping a function so `this`, arguments, the return
// value and a returned promise all pass through.

/**
 * Any function or method. `any` is deliberate: a decorator takes methods of every class and
 * signature, and gives back the same type (TypeScript's own decorator contexts are typed this way).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/** A standard method decorator's context (TypeScript 5, TC39 stage 3), for a method of any class. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MethodContext<F extends AnyFunction = AnyFunction> = ClassMethodDecoratorContext<any, F>;

/** `f(value, context)` as a decorator call: the second argument is a decorator context object. */
export function isDecoratorContext(x: unknown): x is DecoratorContext {
  return typeof x === 'object' && x !== null && typeof (x as { kind?: unknown }).kind === 'string' && 'name' in x && typeof (x as { addInitializer?: unknown }).addInitializer === 'function';
}

export function assertMethod(context: DecoratorContext, decorator: string): asserts context is MethodContext {
  if (context.kind !== 'method') throw new TypeError(`@${decorator} decorates methods, not a ${context.kind}`);
}

/** `Class.method` (or `Class.static`) for a method called on `self`. */
export function methodLabel(self: unknown, name: string | symbol): string {
  const cls = typeof self === 'function' ? (self as Function).name : (self as { constructor?: { name?: string } } | null)?.constructor?.name;
  return `${cls || '<anonymous class>'}.${String(name)}`;
}

export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * A wrapper that calls `before()` then the function, and `after(state, threw)` when it returns, throws,
 * or (for a promise) settles. The wrapper keeps the function's name and length.
 */
export function around<F extends AnyFunction, S>(fn: F, hooks: { before: (self: unknown) => S; after: (state: S, threw: boolean) => void }): F {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const state = hooks.before(this);
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (e) {
      hooks.after(state, true);
      throw e;
    }
    if (!isThenable(result)) {
      hooks.after(state, false);
      return result;
    }
    return Promise.resolve(result).then(
      (v) => {
        hooks.after(state, false);
        return v;
      },
      (e: unknown) => {
        hooks.after(state, true);
        throw e;
      },
    );
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped as F;
}
