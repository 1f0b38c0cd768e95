// memit(fn, options): %memit for a plain function, the exact RSS and heap peaks of one call (or the
// highest of `repeat`), as the MemitResult `%memit -o` returns. `@memit` on a method, and
// memit.wrap(fn), watch every call's memory and warn when what a call leaves behind grows every time.
import { memit as measureMemory, type MemitOptions, type MemitResult } from '../engines/memit.js';
import { assertMethod, isDecoratorContext, methodLabel, type AnyFunction, type MethodContext } from './decorate.js';
import { watch, type WatchOptions } from './watch.js';

export type { MemitOptions };

/** Options of `@memit(…)` and memit.wrap: watch each call's memory (see watch()); leak checks on by default. */
export type MemitWatchOptions = Omit<WatchOptions, 'memory'>;

function watchMemory<F extends AnyFunction>(fn: F, options: MemitWatchOptions, label?: (self: unknown) => string): F {
  return watch(fn, { leak: true, ...options, memory: true, label });
}

function decorator(options: MemitWatchOptions) {
  return <F extends AnyFunction>(value: F, context: MethodContext): F => {
    assertMethod(context, 'memit');
    return watchMemory(value, { ...options, name: options.name }, (self) => options.name ?? methodLabel(self, context.name));
  };
}

/**
 * Three forms:
 * - `await memit(() => build(), { repeat: 3 })`: measure now, like %memit (MemitResult);
 * - `@memit` or `@memit({ leak: { runs: 5 } })` on a method: every call watched (heap per call, and a
 *   warning when the heap a call leaves behind grows on every run);
 * - `memit.wrap(fn, options)`: the same for a plain function.
 */
export function memit(fn: () => unknown, options?: MemitOptions): Promise<MemitResult>;
export function memit(options: MemitWatchOptions): <F extends AnyFunction>(value: F, context: MethodContext) => F;
export function memit<F extends AnyFunction>(value: F, context: MethodContext): F;
export function memit(a: unknown, b?: unknown): unknown {
  if (typeof a === 'function' && isDecoratorContext(b)) return decorator({})(a as AnyFunction, b as MethodContext);
  if (typeof a === 'function') return measureMemory(a as () => unknown, b as MemitOptions | undefined);
  if (typeof a === 'object' && a !== null) return decorator(a as MemitWatchOptions);
  throw new TypeError('memit: give a function to measure, or use it as a decorator');
}

memit.wrap = <F extends AnyFunction>(fn: F, options: MemitWatchOptions = {}): F => watchMemory(fn, options);
