// `import` in a cell: specifiers resolve from the notebook's directory with Node's ESM rules,
// so CommonJS and ESM-only packages load the same way they would from a module file there.
import { createRequire, isBuiltin } from 'node:module';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

export type Importer = (specifier: string) => Promise<unknown>;

// `import.meta.resolve(specifier, parent)` needs --experimental-import-meta-resolve (the kernelspec passes it).
const resolveWithParent = process.execArgv.includes('--experimental-import-meta-resolve');

export function createImporter(baseDir: string): Importer {
  const parent = pathToFileURL(join(baseDir, '/')).href;
  const require = createRequire(join(baseDir, 'notebook.js'));
  const resolve = (specifier: string): string => {
    if (isBuiltin(specifier) || /^(node|data|file):/.test(specifier)) return specifier;
    if (resolveWithParent) {
      return (import.meta.resolve as (s: string, p: string) => string)(specifier, parent);
    }
    return pathToFileURL(require.resolve(specifier)).href;
  };
  return (specifier) => {
    let url: string;
    try {
      url = resolve(specifier);
    } catch (e) {
      return Promise.reject(e);
    }
    return import(url);
  };
}
