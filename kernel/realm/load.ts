// The kernel's own realm. Its main-thread code (session, magics, the transpiler and every npm
// package they use) is bundled into one script (scripts/bundle-kernel.mjs) and evaluated here in
// a vm context of its own, so its intrinsics — Array.prototype, Promise, JSON, Map, Math … — are
// never the ones a cell can replace, freeze or delete. Cells keep running in the main context,
// where `import`, `require` and every value keep their identity with Node's own modules.
//
// What crosses the border on purpose: Node's globals (process, Buffer, timers …) captured here
// before any cell runs, node: modules from the main realm's require, and the user's globalThis
// (kernel/session/user-realm.ts). Without a bundle (a build that skipped it) the kernel loads
// its modules as plain ES modules, in the user's realm, and says so in its log.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import vm from 'node:vm';
import { log } from '../log.js';

export type KernelModules = typeof import('./entry.js');

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(DIST, 'kernel/realm/bundle.cjs');
const INPUTS = join(DIST, 'kernel/realm/bundle.inputs.json');
const CHUNKS = join(DIST, 'kernel/realm/chunks');
// Captured: chunks load after cells ran, and a cell may replace vm.compileFunction.
const compileFunction = vm.compileFunction;

/** Node's globals a bare V8 context lacks; kernel code gets the ones in force before any cell ran. */
const NODE_GLOBALS = [
  'process', 'Buffer', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'performance', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController',
  'AbortSignal', 'atob', 'btoa', 'MessageChannel', 'MessagePort', 'Event', 'EventTarget', 'Blob', 'crypto', 'fetch',
] as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const NOT_PARAMS = new Set(['globalThis', 'eval', 'arguments', 'undefined', 'NaN', 'Infinity']);

export interface LoadedKernel {
  modules: KernelModules;
  /** True when the modules run in their own realm. */
  separate: boolean;
}

export async function loadKernelModules(): Promise<LoadedKernel> {
  if (!(await freshBundle())) {
    log('kernel bundle missing or stale and esbuild unavailable: kernel code runs in the user realm (cells can break it)');
    return { modules: await import('./entry.js'), separate: false };
  }
  return { modules: evaluateBundle(readBundle()), separate: true };
}

/**
 * The bundle's source as a one-byte string: the kernel holds it for as long as it runs (V8 compiles
 * functions from it lazily), and as UTF-8 V8 would make all of it two bytes a character for one
 * dash in a comment (measured: 1.3 MiB more RSS). scripts/bundle-kernel.mjs writes it in ASCII,
 * where Latin-1 is the same text and always gives a one-byte string.
 */
function readBundle(): string {
  const code = readFileSync(BUNDLE, 'latin1');
  // A bundle from before that rule (or edited by hand) is read again as what it is.
  return /[^\x00-\x7f]/.test(code) ? readFileSync(BUNDLE, 'utf8') : code;
}

/** The bundle is fresh when no file it was built from changed since; a dev build rebuilds it (~0.3 s). */
async function freshBundle(): Promise<boolean> {
  if (existsSync(BUNDLE) && existsSync(INPUTS)) {
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(INPUTS, 'utf8')) as string[];
    // One stat a file, and no path.join: ~170 calls of Node's path and validation helpers made them
    // hot enough for V8's optimising compiler, which then stays in the idle kernel's RSS.
    const newer = (rel: string): boolean => (statSync(`${DIST}/${rel}`, { throwIfNoEntry: false })?.mtimeMs ?? 0) > built;
    if (!inputs.some(newer)) return true;
  }
  try {
    const script = pathToFileURL(join(DIST, '..', 'scripts', 'bundle-kernel.mjs')).href;
    await ((await import(script)) as { bundleKernel: () => Promise<string> }).bundleKernel();
    return true;
  } catch (e) {
    log(`could not bundle the kernel: ${(e as Error).message}`);
    return false;
  }
}

function evaluateBundle(code: string): KernelModules {
  const context = vm.createContext({}, { name: 'tsprof kernel' });
  const own = vm.runInContext('globalThis', context) as Record<string, unknown>;
  // The realm's builtins become locals of the bundle's function: a global lookup in a vm context
  // goes through Node's interceptors, a local does not.
  // Node's globals win over a bare context's namesakes (V8 gives every context a `console` of its own).
  const main = globalThis as unknown as Record<string, unknown>;
  const nodeGlobals: string[] = NODE_GLOBALS.filter((n) => n in main);
  const builtins = Object.getOwnPropertyNames(own).filter((n) => IDENTIFIER.test(n) && !NOT_PARAMS.has(n) && !nodeGlobals.includes(n));
  const params = ['exports', 'require', 'module', '__filename', '__dirname', '__tsprofFileUrl', '__tsprofResolve', '__tsprofImport', '__tsprofChunk', ...builtins, ...nodeGlobals];
  const resolve = import.meta.resolve as unknown as (specifier: string, parent?: string) => string;
  const require = createRequire(BUNDLE);
  const distUrl = pathToFileURL(DIST).href + '/';
  const common = [
    // URL resolution (node:url's, not the global a cell may replace), not path.join: a cell may have
    // replaced Array.prototype.push, which Node's path calls.
    (rel: string) => new URL(rel, distUrl).href,
    (specifier: string, parent?: string) => resolve(specifier, parent),
    (url: string) => import(url),
    (name: string) => chunk(name),
    ...builtins.map((n) => own[n]),
    ...nodeGlobals.map((n) => main[n]),
  ];

  // A library the bundle leaves out until first use (LAZY_LIBRARIES in scripts/bundle-kernel.mjs),
  // evaluated in this realm when kernel code first touches it, which may be after cells have
  // replaced this (the user's) realm's builtins: only what was captured here is called then.
  const loaded: Record<string, unknown> = Object.create(null);
  const apply = Reflect.apply;
  const args: unknown[] = ['exports', require, 'module', 'filename', CHUNKS, ...common];
  const chunk = (name: string): unknown => {
    if (loaded[name] !== undefined) return loaded[name];
    const file = `${CHUNKS}/${name}.cjs`;
    const module = { exports: {} };
    args[0] = module.exports;
    args[2] = module;
    args[3] = file;
    apply(compileFunction(readFileSync(file, 'latin1'), params, { parsingContext: context, filename: file }), undefined, args);
    return (loaded[name] = module.exports);
  };

  const module = { exports: {} as KernelModules };
  const fn = compileFunction(code, params, { parsingContext: context, filename: BUNDLE });
  fn(module.exports, require, module, BUNDLE, dirname(BUNDLE), ...common);
  return module.exports;
}
