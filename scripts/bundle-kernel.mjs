// Bundle the kernel's main-thread code (dist/kernel/realm/entry.js and everything it imports,
// npm packages included) into one CommonJS script that kernel/realm/load.ts evaluates in a vm
// context of its own: the kernel's intrinsics are then never the ones a cell can change.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'kernel/realm/entry.js');
const outfile = join(dist, 'kernel/realm/bundle.cjs');

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
    plugins: [{
      name: 'import-meta-url',
      setup(b) {
        // Each file keeps its own import.meta.url (workers and assets are found next to it).
        b.onLoad({ filter: /\.js$/ }, async (args) => {
          const { readFile } = await import('node:fs/promises');
          let contents = await readFile(args.path, 'utf8');
          const rel = relative(dist, args.path).split('\\').join('/');
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
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(dist, join(root, p)).split('\\').join('/'));
  writeFileSync(join(dist, 'kernel/realm/bundle.inputs.json'), JSON.stringify(inputs));
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundleKernel();
