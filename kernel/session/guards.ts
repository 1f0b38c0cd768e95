// What must not take the kernel down: process.exit() in a cell, an exception thrown in a timer,
// an unhandled rejection. Each becomes an error in the cell that caused it; the kernel lives on.
import { currentCell, type CellContext } from './context.js';

export class ProcessExitError extends Error {
  override name = 'ProcessExit';
  constructor(readonly code: number | string | undefined) {
    super(`process.exit(${code ?? ''}) was called in a cell; the kernel and its variables stay alive (restart the kernel to start over)`);
  }
}

export type AsyncErrorReporter = (cell: CellContext, error: unknown, kind: 'uncaughtException' | 'unhandledRejection') => void;

/** Install the guards. Returns the real `process.exit` for the kernel's own shutdown. */
export function installGuards(report: AsyncErrorReporter, log: (line: string) => void): (code?: number) => never {
  const realExit = process.exit.bind(process) as (code?: number) => never;
  process.exit = ((code?: number | string) => {
    throw new ProcessExitError(code);
  }) as typeof process.exit;
  process.abort = (() => {
    throw new ProcessExitError('abort');
  }) as typeof process.abort;
  process.on('uncaughtException', (error) => {
    const cell = currentCell();
    if (cell) report(cell, error, 'uncaughtException');
    else log(`uncaught exception outside any cell: ${(error as Error)?.stack ?? String(error)}`);
  });
  process.on('unhandledRejection', (reason) => {
    const cell = currentCell();
    if (cell) report(cell, reason, 'unhandledRejection');
    else log(`unhandled rejection outside any cell: ${(reason as Error)?.stack ?? String(reason)}`);
  });
  return realExit;
}
