// The user's realm seen from kernel code, which may run in a realm of its own (kernel/realm/).
// vm's runInThisContext always runs in the main context, where cells run.
import vm from 'node:vm';

/** The global object cells run against. */
export const userGlobal = vm.runInThisContext('globalThis') as typeof globalThis;

/**
 * A slot object the kernel shares with code it compiles into the user's realm: a top-level `const`
 * of a script is a global lexical binding, which `Object.freeze(globalThis)` or `delete` in a cell
 * cannot take away (a property of globalThis could be).
 */
export interface Slots {
  run: (() => void) | undefined;
  value: unknown;
  /** The I/O thread's interrupt point (interrupt-point.ts): `cell` is the cell it is after, once known. */
  interrupt?: (cell?: number) => { state: string; cell: number };
  /** Called by the last statement of every evaluation (repl-result.ts). */
  end?: () => void;
}

export const slots = vm.runInThisContext(
  'const __tsprofSlots = { __proto__: null, run: undefined, value: undefined }; __tsprofSlots',
  { filename: 'tsprof-slots' },
) as Slots;

export const SLOTS_NAME = '__tsprofSlots';
