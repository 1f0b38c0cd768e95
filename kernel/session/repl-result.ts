// A `then` on Object.prototype must not reach the kernel's evaluations, nor the values it hands on.
//
// V8's REPL mode ends every evaluation by resolving the script's promise with a result wrapper, an
// object literal `{ '.repl_result': value }` of the user's realm; resolving a promise with an
// object reads its `then`, here through Object.prototype. After a cell defines
// `Object.prototype.then` (a getter that throws, a function), every later evaluation — `1 + 1`,
// each magic's code — fails with that error or never completes (measured on Node 20.20).
//
// So every evaluation ends with a statement of the kernel's (evaluator.ts appends it: a declaration,
// which leaves the cell's completion value alone) that calls `end()` below. When Object.prototype
// has a `then` of its own, end() puts an accessor in its place that answers `undefined` to the one
// lookup V8 makes next, on the wrapper, and at that moment puts the user's property back; nothing
// of the user's runs in between. Any other receiver gets what the user's property gives. The kernel's
// async functions that return a user's value (a magic's `runCode`) do the same for that one value.
import { userGlobal } from './user-realm.js';

/** Appended to every evaluated script; `__tsprofSlots.end` is `end` below. */
export const END_STATEMENT = '\n;let __tsprofEnd = __tsprofSlots.end();';

/** The wrapper's own key (V8's REPL mode; a name no user code can declare). */
const WRAPPER_KEY = '.repl_result';

const objectProto = userGlobal.Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
// Captured at load: a cell may replace the global.
const queue = queueMicrotask;

/** The user's `then`, while the kernel's accessor stands in for it. */
let standing: { user: PropertyDescriptor; get: () => unknown } | undefined;

/** Put the user's `then` back if the kernel's accessor still stands in for it. */
export function restoreThen(): void {
  if (!standing) return;
  const { user, get } = standing;
  standing = undefined;
  if (Reflect.getOwnPropertyDescriptor(objectProto, 'then')?.get === get) Reflect.defineProperty(objectProto, 'then', user);
}

/** Called by the last statement of every evaluation, just before V8 resolves its result wrapper. */
export function end(): void {
  standIn((receiver) => typeof receiver === 'object' && receiver !== null && (Reflect.apply(hasOwn, receiver, [WRAPPER_KEY]) as boolean));
}

/**
 * `return passThen(value)` in a kernel async function that hands a user's value on: resolving its
 * promise reads the value's `then`, which must not be a `then` a cell put on Object.prototype. (A
 * `then` of the value's own class is a real thenable, as in Node.)
 */
export function passThen<T>(value: T): T {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    standIn((receiver) => receiver === value);
    // If V8 never looks (the value has a `then` of its own before Object.prototype), put it back soon.
    queue(restoreThen);
  }
  return value;
}

/**
 * When Object.prototype has a `then` of its own, an accessor stands in for it that answers
 * `undefined` to the next lookup on a receiver `isKernels` accepts, and at that moment puts the
 * user's property back. Any other receiver gets what the user's property gives.
 */
function standIn(isKernels: (receiver: unknown) => boolean): void {
  restoreThen();
  const user = Reflect.getOwnPropertyDescriptor(objectProto, 'then');
  if (!user?.configurable) return; // none (the usual case), or one that cannot be replaced
  const get = function (this: unknown): unknown {
    if (isKernels(this)) {
      restoreThen();
      return undefined;
    }
    return user.get ? Reflect.apply(user.get, this, []) : user.value;
  };
  const set = function (this: unknown, value: unknown): void {
    if (user.set) Reflect.apply(user.set, this, [value]);
    else if (user.writable && typeof this === 'object' && this !== null) Reflect.defineProperty(this, 'then', { value, writable: true, enumerable: true, configurable: true });
  };
  standing = { user, get };
  Reflect.defineProperty(objectProto, 'then', { get, set, enumerable: user.enumerable, configurable: true });
}
