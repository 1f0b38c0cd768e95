// Which cell a piece of running code belongs to. AsyncLocalStorage carries it into timers,
// promises and event callbacks, so their output reaches the cell that started them.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Header } from '../wire/message.js';

export interface CellContext {
  /** The execute_request this output answers. */
  parent: Header;
  /** Execution count, used to name the cell in tracebacks (`cell-3`). */
  cell: number;
}

export const cellContext = new AsyncLocalStorage<CellContext>();

let latest: CellContext | undefined;

export function setLatestCell(ctx: CellContext): void {
  latest = ctx;
}

/** The cell that started the running code; output from outside any cell goes to the latest one, as ipykernel does. */
export function currentCell(): CellContext | undefined {
  return cellContext.getStore() ?? latest;
}
