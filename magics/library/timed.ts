// @timed on a method, timed(fn) for a function: every call timed into running statistics, with drift
// warnings, baselines and metrics (watch() underneath).
import { assertMethod, isDecoratorContext, methodLabel, type AnyFunction, type MethodContext } from './decorate.js';
import { watch, type Watched, type WatchOptions } from './watch.js';

export type TimedOptions = Omit<WatchOptions, 'label'>;

function decorator(options: TimedOptions) {
  return <F extends AnyFunction>(value: F, context: MethodContext): F => {
    assertMethod(context, 'timed');
    return watch(value, { ...options, label: (self) => options.name ?? methodLabel(self, context.name) });
  };
}

/**
 * - `@timed` or `@timed({ drift: 2 })` on a method: statistics under `Class.method`;
 * - `timed(fn, { drift: 2 })`: the function, watched (`.stats` holds its statistics).
 */
export function timed<F extends AnyFunction>(fn: F, options?: TimedOptions): Watched<F>;
export function timed(options: TimedOptions): <F extends AnyFunction>(value: F, context: MethodContext) => F;
export function timed<F extends AnyFunction>(value: F, context: MethodContext): F;
export function timed(a: unknown, b?: unknown): unknown {
  if (typeof a === 'function' && isDecoratorContext(b)) return decorator({})(a as AnyFunction, b as MethodContext);
  if (typeof a === 'function') return watch(a as AnyFunction, (b as TimedOptions | undefined) ?? {});
  if (typeof a === 'object' && a !== null) return decorator(a as TimedOptions);
  throw new TypeError('timed: give a function to watch, or use it as a decorator');
}
