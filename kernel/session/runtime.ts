// The names a cell sees besides its own: `display`, `require` from the notebook's directory, and
// the hidden `__tsprof` object that transpiled imports call.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DisplayFunction } from './display.js';
import type { Importer } from './imports.js';
import { RUNTIME } from './transpile.js';
import { userGlobal } from './user-realm.js';

export interface CellRuntime {
  import: Importer;
  display: DisplayFunction;
  /** Wraps each top-level await of a cell so an interrupt stops the cell there. */
  guard: <T>(value: T) => Promise<Awaited<T>> | T;
}

export function installRuntime(runtime: CellRuntime, baseDir: string): void {
  const define = (name: string, value: unknown, enumerable: boolean): void => {
    Object.defineProperty(userGlobal, name, { value, enumerable, writable: true, configurable: true });
  };
  define(RUNTIME, runtime, false);
  define('display', runtime.display, false);
  define('require', createRequire(join(baseDir, 'notebook.js')), false);
}
