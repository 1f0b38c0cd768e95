// ES-module loader hooks (module.register; they run in Node's loader thread): TypeScript files load
// as Node would load JavaScript — `.mts` as ES modules, `.cts` as CommonJS, `.ts` by the nearest
// package.json "type" (else by its syntax, as Node's module detection does) — and user modules get
// the probes the command asked for. CommonJS goes to Node's real CommonJS loader (register.ts's
// require hook compiles it), so `require`, `module` and `require.main` are what a script expects.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserFile, looksLikeEsm, transformSource, TS_EXTENSIONS, type TransformConfig } from './transform.js';
import type { SourceRecord } from './config.js';

interface HookData {
  transform: TransformConfig;
  /** Where to leave the JavaScript of each transformed file (for the profile's offsets), if anywhere. */
  sourcesDir?: string;
}

let data: HookData = { transform: { names: [], marked: false } };
let written = 0;

export function initialize(d: HookData): void {
  data = d;
}

type Format = 'module' | 'commonjs';
interface ResolveContext { parentURL?: string; conditions: string[] }
interface LoadContext { format?: string; conditions: string[] }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string }>;
type NextLoad = (url: string, context: LoadContext) => Promise<{ format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean }>;

const packageTypes = new Map<string, string | undefined>();

/** The "type" of the nearest package.json above `file` (undefined when it has none). */
function packageType(file: string): string | undefined {
  let dir = dirname(file);
  const seen: string[] = [];
  for (;;) {
    if (packageTypes.has(dir)) break;
    seen.push(dir);
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      let type: string | undefined;
      try {
        type = (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type;
      } catch {
        type = undefined;
      }
      packageTypes.set(dir, type);
      break;
    }
    const up = dirname(dir);
    if (up === dir) {
      packageTypes.set(dir, undefined);
      break;
    }
    dir = up;
  }
  const type = packageTypes.get(dir);
  for (const d of seen) packageTypes.set(d, type);
  return type;
}

export function formatOfTypeScript(file: string, source: string): Format {
  if (file.endsWith('.mts')) return 'module';
  if (file.endsWith('.cts')) return 'commonjs';
  const type = packageType(file);
  if (type === 'module') return 'module';
  if (type === 'commonjs') return 'commonjs';
  return looksLikeEsm(source) ? 'module' : 'commonjs';
}

/** TypeScript's import conventions: `./x.js` naming `./x.ts`, and extensionless `./x` or `./dir`. */
function alternatives(specifier: string): string[] {
  const m = /\.(m|c)?js$/.exec(specifier);
  if (m) return [specifier.slice(0, -m[0].length) + `.${m[1] ?? ''}ts`];
  if (/\.\w+$/.test(specifier)) return [];
  return [`${specifier}.ts`, `${specifier}.mts`, `${specifier}.cts`, `${specifier}/index.ts`];
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; format?: string; shortCircuit?: boolean }> {
  try {
    return await next(specifier, context);
  } catch (e) {
    const relative = /^(\.{1,2}\/|\/|file:)/.test(specifier);
    if (!relative || (e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    for (const alt of alternatives(specifier)) {
      try {
        return await next(alt, context);
      } catch {
        /* try the next spelling */
      }
    }
    throw e;
  }
}

function keepSource(url: string, js: string, counted?: SourceRecord['counted']): void {
  if (!data.sourcesDir) return;
  writeFileSync(join(data.sourcesDir, `${process.pid}-esm-${++written}.json`), JSON.stringify({ url, js, counted } satisfies SourceRecord));
}

function warnSkipped(skipped: Array<{ name: string; reason: string }>): void {
  for (const s of skipped) process.stderr.write(`tsprof: ${s.name} is not measured: ${s.reason}\n`);
}

export async function load(url: string, context: LoadContext, next: NextLoad): Promise<{ format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean }> {
  if (url.startsWith('file:') && TS_EXTENSIONS.test(new URL(url).pathname)) {
    const file = fileURLToPath(url);
    const source = readFileSync(file, 'utf8');
    const format = formatOfTypeScript(file, source);
    // Node's own CommonJS loader takes it from here (register.ts's require hook transpiles it).
    if (format === 'commonjs') return { format, shortCircuit: true };
    const out = transformSource(source, url, file, true, format, data.transform);
    warnSkipped(out.skipped);
    keepSource(url, out.code, out.counted);
    return { format, source: out.code, shortCircuit: true };
  }
  const loaded = await next(url, context);
  if ((!data.transform.probes && !data.transform.countCalls) || loaded.format !== 'module' || !isUserFile(url) || loaded.source === undefined) return loaded;
  const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString('utf8');
  const out = transformSource(source, url, fileURLToPath(url), false, 'module', data.transform);
  // Unchanged and not counted (a module with nothing to count is still kept: its `<module>` counts).
  if (out.code === source && !out.counted) return loaded;
  warnSkipped(out.skipped);
  keepSource(url, out.code, out.counted);
  return { ...loaded, source: out.code };
}
