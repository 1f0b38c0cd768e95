// Bundle the kernel's main-thread code (dist/kernel/realm/entry.js and everything it imports,
// npm packages included) into one CommonJS script that kernel/realm/load.ts evaluates in a vm
// context of its own: the kernel's intrinsics are then never the ones a cell can change.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'kernel/realm/entry.js');
const outfile = join(dist, 'kernel/realm/bundle.cjs');
const chunks = join(dist, 'kernel/realm/chunks');

/**
 * Libraries left out of the bundle and evaluated in the kernel's realm on first use
 * (kernel/realm/load.ts, __tsprofChunk): acorn parses only cells with a top-level `await` and the
 * magics' code; the source-map libraries serve cells TypeScript transpiles, sucrase's source maps
 * and the magics. Each must export an object (not a function) whose members are read when used.
 */
const LAZY_LIBRARIES = ['acorn', 'source-map-js', '@jridgewell/gen-mapping', '@jridgewell/trace-mapping', 'lines-and-columns'];
const requireFromRoot = createRequire(join(root, 'package.json'));
const chunkName = (name) => name.replace('/', '+');

export async function bundleKernel() {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['typescript', 'zeromq'],
    metafile: true,
    logLevel: 'error',
    plugins: [lazyLibraries, {
      name: 'import-meta-url',
      setup(b) {
        // Each file keeps its own import.meta.url (workers and assets are found next to it).
        b.onLoad({ filter: /\.js$/ }, async (args) => {
          const { readFile } = await import('node:fs/promises');
          let contents = await readFile(args.path, 'utf8');
          const rel = relative(dist, args.path).split('\\').join('/');
          if (rel.endsWith('sucrase/dist/parser/util/identifier.js')) contents = withoutStartupLoop(contents, rel);
          // A cell's `import` must load modules into the user's realm, with Node's own loader.
          if (rel === 'kernel/session/imports.js') contents = contents.replace(/(?<![.\w$])import\((?!['"])/g, '__tsprofImport(');
          if (contents.includes('import.meta')) {
            contents = contents
              .replace(/import\.meta\.url/g, `__tsprofFileUrl(${JSON.stringify(rel)})`)
              .replace(/import\.meta\.resolve/g, '__tsprofResolve');
          }
          return { contents, loader: 'js' };
        });
      },
    }],
  });
  // One byte per character: the kernel keeps the bundle's source for as long as it runs (V8 compiles
  // functions from it lazily); a single non-Latin-1 character in it (a comment's dash) makes V8
  // hold all of it as two bytes a character, 1.3 MiB more RSS. Every non-ASCII character becomes a
  // \u escape, which means the same in comments, strings, templates, regular expressions and names.
  writeFileSync(outfile, asciiOnly(readFileSync(outfile, 'utf8')));
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(dist, join(root, p)).split('\\').join('/'));
  writeFileSync(join(dist, 'kernel/realm/bundle.inputs.json'), JSON.stringify(inputs));
  await bundleIoWorker();
  for (const name of LAZY_LIBRARIES) await bundleChunk(name);
  return outfile;
}

/** In the bundle, each lazy library is an object of getters that evaluate its chunk on first access. */
const lazyLibraries = {
  name: 'lazy-libraries',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_LIBRARIES.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'tsprof-lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'tsprof-lazy' }, (args) => {
      const real = requireFromRoot(args.path);
      if (typeof real !== 'object' || real === null) throw new Error(`${args.path} exports a ${typeof real}: it cannot be a lazy library`);
      // __esModule is answered without loading: interop helpers read it as soon as they import.
      const names = Object.getOwnPropertyNames(real).filter((n) => n !== '__esModule');
      const members = names.map((n) => `  ${JSON.stringify(n)}: { get: () => load()[${JSON.stringify(n)}], enumerable: true },`);
      if (real.__esModule) members.push('  __esModule: { value: true },');
      return {
        contents: `let lib;\nconst load = () => lib || (lib = __tsprofChunk(${JSON.stringify(chunkName(args.path))}));\nmodule.exports = Object.defineProperties({}, {\n${members.join('\n')}\n});\n`,
        loader: 'js',
      };
    });
  },
};

/** One lazy library as a CommonJS script of its own, ASCII like the bundle. */
async function bundleChunk(name) {
  const file = join(chunks, `${chunkName(name)}.cjs`);
  await build({ stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js' }, outfile: file, bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error' });
  writeFileSync(file, asciiOnly(readFileSync(file, 'utf8')));
}

/**
 * The I/O thread's code (dist/kernel/io/worker.js and what it imports, zeromq left out) as one
 * CommonJS file, which kernel/io/bridge.ts starts when it is not older than its inputs. Loaded as
 * ES modules, the thread compiles Node's ES module loader in its isolate too, resolves a dozen files
 * before it can bind the sockets, and imports zeromq (CommonJS) from ESM: Node then scans zeromq's
 * source for named exports (cjs-module-lexer), loops hot enough for V8's optimising compiler, whose
 * code and zones stay in the kernel's RSS. Here zeromq is a plain require. Measured, the I/O thread
 * alone beside an empty main thread: 62.9 MiB as ES modules, 57.9 MiB as this bundle.
 */
async function bundleIoWorker() {
  const ioOut = join(dist, 'kernel/io/worker.cjs');
  const result = await build({
    entryPoints: [join(dist, 'kernel/io/worker.js')],
    outfile: ioOut,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['zeromq'],
    metafile: true,
    logLevel: 'error',
    // The worker finds zeromq from its own URL (createRequire), the same directory as worker.js.
    define: { 'import.meta.url': '__tsprofWorkerUrl' },
    banner: { js: '"use strict";\nconst __tsprofWorkerUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(dist, join(root, p)).split('\\').join('/'));
  writeFileSync(join(dist, 'kernel/io/worker.inputs.json'), JSON.stringify(inputs));
}

/** Non-ASCII characters as \\uXXXX escapes (a pair of them outside the BMP). */
function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/gu, (ch) => {
    const cp = ch.codePointAt(0);
    if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
    const v = cp - 0x10000;
    return `\\u${(0xd800 + (v >> 10)).toString(16)}\\u${(0xdc00 + (v & 0x3ff)).toString(16)}`;
  });
}

/**
 * sucrase fills its 64 Ki-entry identifier table one element at a time at load: a loop long enough
 * that V8 compiles it with its optimising compiler (on-stack replacement), whose code and zones then
 * stay in the idle kernel's RSS. A fill() does the same work without it.
 */
function withoutStartupLoop(contents, rel) {
  const loop = /for \(let i = 128; i < 65536; i\+\+\) \{\s*exports\.IS_IDENTIFIER_CHAR\[i\] = 1;\s*\}/;
  if (!loop.test(contents)) {
    console.warn(`bundle-kernel: ${rel} changed; its identifier table loop is no longer replaced`);
    return contents;
  }
  return contents.replace(loop, 'exports.IS_IDENTIFIER_CHAR.fill(1, 128);');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundleKernel();
