// The border between realms. The kernel may run its own code (these engines included) in a vm
// context of its own, away from the user's prototypes; data made in the main realm — inspector
// results, messages cloned onto a MessagePort — is copied in before kernel code iterates it or
// calls its methods, which a cell may have replaced.
import { types } from 'node:util';
import vm from 'node:vm';

/** A deep copy of plain data into this realm; typed arrays and buffers are kept as they are. */
export function adopt<T>(value: T): T {
  if (typeof value !== 'object' || value === null || types.isArrayBufferView(value) || types.isAnyArrayBuffer(value)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out[i] = adopt(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = adopt((value as Record<string, unknown>)[key]);
  return out as T;
}

/** Main-realm methods Node's own library code calls unguarded (util.inspect's `output.push`, EventEmitter's `.call`). */
const GUARDED: Array<[string, PropertyKey[]]> = [
  ['Array.prototype', ['push', 'pop', 'shift', 'unshift', 'slice', 'splice', 'join', 'map', 'forEach', 'filter', 'indexOf', 'includes', 'concat', 'sort', 'keys', Symbol.iterator]],
  ['Function.prototype', ['call', 'apply', 'bind']],
  ['String.prototype', ['slice', 'split', 'replace', 'indexOf', 'includes', 'startsWith', 'endsWith', 'trim', 'padStart', 'padEnd', 'repeat', 'toString']],
];

type Saved = { holder: object; key: PropertyKey; desc: PropertyDescriptor | undefined };

// Read before any cell runs (this module loads with the kernel): the main realm's own methods.
const pristine: Saved[] = (() => {
  const out: Saved[] = [];
  for (const [path, keys] of GUARDED) {
    const holder = vm.runInThisContext(path) as object;
    for (const key of keys) out.push({ holder, key, desc: Reflect.getOwnPropertyDescriptor(holder, key) });
  }
  return out;
})();

/**
 * Run Node library code (util.inspect, a Worker's set-up) with the main realm's methods as they were
 * at start, then put back whatever a cell had replaced them with: that code runs in the main realm
 * and calls e.g. `output.push`, which a cell may have broken. User code is not meant to run inside.
 */
export function withPristine<T>(work: () => T): T {
  const changed: Saved[] = [];
  for (const p of pristine) {
    const now = Reflect.getOwnPropertyDescriptor(p.holder, p.key);
    if (now?.value === p.desc?.value && now?.get === p.desc?.get && now?.set === p.desc?.set) continue;
    if (p.desc ? !Reflect.defineProperty(p.holder, p.key, p.desc) : !Reflect.deleteProperty(p.holder, p.key)) continue;
    changed.push({ holder: p.holder, key: p.key, desc: now });
  }
  try {
    return work();
  } finally {
    for (const c of changed) {
      if (c.desc) Reflect.defineProperty(c.holder, c.key, c.desc);
      else Reflect.deleteProperty(c.holder, c.key);
    }
  }
}

const objectPrototype = vm.runInThisContext('Object.prototype') as object;

/**
 * Take away a `then` a cell put on the main realm's Object.prototype until the function returned is
 * called (once; later calls do nothing). For Node code that reads `.then` of a value later than a
 * synchronous withPristine can cover: a Worker's 'online' event, whose dispatch reads `.then` of
 * what the event's handler returned (event_target's addCatch) after the handler has run.
 */
export function setAsideThen(): () => void {
  const desc = Reflect.getOwnPropertyDescriptor(objectPrototype, 'then');
  if (!desc || !Reflect.deleteProperty(objectPrototype, 'then')) return () => undefined;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    // Unless a cell has put another one there meanwhile.
    if (!Reflect.getOwnPropertyDescriptor(objectPrototype, 'then')) Reflect.defineProperty(objectPrototype, 'then', desc);
  };
}
