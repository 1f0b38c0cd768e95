// The border between realms. The kernel may run its own code (these engines included) in a vm
// context of its own, away from the user's prototypes; data made in the main realm — inspector
// results, messages cloned onto a MessagePort — is copied in before kernel code iterates it or
// calls its methods, which a cell may have replaced.
import { types } from 'node:util';

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
