// `tsprof install`: write the kernelspec (kernel.json + logos) from setup.json where Jupyter looks for it,
// and copy the prebuilt JupyterLab extension into <data dir>/labextensions/<name> (building it first
// from labextension/ when it is missing or older than its sources).
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KERNEL_NODE_FLAGS, TSPROF_BIN } from '../client/launch.js';

interface SetupJson {
  kernelspec: {
    name: string;
    display_name: string;
    language: string;
    interrupt_mode: 'signal' | 'message';
    argv: string[];
    env?: Record<string, string>;
    metadata?: Record<string, unknown>;
    logos?: string[];
  };
  labextension?: { name: string; source: string };
}

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export function readSetup(): SetupJson {
  return JSON.parse(readFileSync(join(ROOT, 'setup.json'), 'utf8')) as SetupJson;
}

/** kernel.json content: setup.json's argv template with the node binary, flags and tsprof's path filled in. */
export function kernelJson(setup: SetupJson): Record<string, unknown> {
  const fill = (a: string): string[] =>
    a === '{node}' ? [process.execPath] : a === '{node_flags}' ? KERNEL_NODE_FLAGS : a === '{tsprof}' ? [TSPROF_BIN] : [a];
  const k = setup.kernelspec;
  return {
    argv: k.argv.flatMap(fill),
    display_name: k.display_name,
    language: k.language,
    interrupt_mode: k.interrupt_mode,
    env: k.env ?? {},
    metadata: k.metadata ?? {},
  };
}

function pythonPrefix(): string {
  for (const py of [process.env.JUPYTER_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    try {
      return execFileSync(py, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    } catch {
      /* try the next */
    }
  }
  return '/usr';
}

/** Where Jupyter's data directory is for each install scope. */
export function dataDir(scope: { user?: boolean; sysPrefix?: boolean; prefix?: string }): string {
  if (scope.prefix) return join(scope.prefix, 'share', 'jupyter');
  if (scope.sysPrefix) return join(pythonPrefix(), 'share', 'jupyter');
  return process.env.JUPYTER_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'jupyter');
}

/** The labextension's source package and where its build writes the prebuilt extension. */
export function labextensionPaths(setup: SetupJson): { source: string; output: string } | undefined {
  if (!setup.labextension) return undefined;
  const source = join(ROOT, setup.labextension.source);
  const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { jupyterlab?: { outputDir?: string } };
  return { source, output: join(source, pkg.jupyterlab?.outputDir ?? 'tsprof') };
}

/** Newest modification time (ms) of the files under `paths` (files or directories). */
function newest(paths: string[]): number {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((e) => join(p, e))));
    else t = Math.max(t, st.mtimeMs);
  }
  return t;
}

/**
 * The built extension's directory, building it first (scripts/build-labextension.sh: npm ci in
 * labextension/ if needed, tsc, build-labextension) when it is missing or older than its sources.
 * Undefined, with the reason on stderr, when it cannot be had.
 */
export function ensureLabextensionBuilt(setup: SetupJson): string | undefined {
  const paths = labextensionPaths(setup);
  if (!paths) return undefined;
  const built = join(paths.output, 'package.json');
  const sources = ['src', 'style', 'core-meta', 'package.json', 'tsconfig.json'].map((p) => join(paths.source, p));
  if (!existsSync(built) || statSync(built).mtimeMs < newest(sources)) {
    console.error('tsprof install: building the JupyterLab extension (labextension/) …');
    // the build's own output goes to stderr: stdout stays the install's report
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'build-labextension.sh')], { cwd: ROOT, stdio: ['ignore', 2, 2], timeout: 600_000 });
    if (r.status !== 0 || !existsSync(built)) {
      console.error(`tsprof install: the JupyterLab extension could not be built (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); ` +
        'the kernel works without it (JupyterLab then shows the HTML tables and Vega-Lite charts). Retry with: npm run build:labextension');
      return undefined;
    }
  }
  return paths.output;
}

/** Copy the prebuilt extension to `<data>/labextensions/<name>` (replacing an older copy); returns that directory. */
export function installLabextension(setup: SetupJson, data: string): string | undefined {
  const built = ensureLabextensionBuilt(setup);
  if (!built || !setup.labextension) return undefined;
  const pkg = JSON.parse(readFileSync(join(built, 'package.json'), 'utf8')) as { name: string; jupyterlab?: { _build?: { load?: string } } };
  const load = pkg.jupyterlab?._build?.load;
  if (!load || !existsSync(join(built, load))) {
    console.error(`tsprof install: ${built} is not a built JupyterLab extension (no jupyterlab._build.load); skipped`);
    return undefined;
  }
  // JupyterLab finds a federated extension at labextensions/<package name>/package.json
  const dest = join(data, 'labextensions', pkg.name);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(built, dest, { recursive: true });
  writeFileSync(join(dest, 'install.json'), JSON.stringify({
    packageManager: 'npm',
    packageName: 'tsprof',
    uninstallInstructions: `Delete ${dest} (tsprof install puts it there)`,
  }, null, 2) + '\n');
  return dest;
}

const USAGE = 'usage: tsprof install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--no-labextension]';

export function install(args: string[]): number {
  const setup = readSetup();
  let name = setup.kernelspec.name;
  let withLabextension = true;
  const scope: { user?: boolean; sysPrefix?: boolean; prefix?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--user') scope.user = true;
    else if (a === '--sys-prefix') scope.sysPrefix = true;
    else if (a === '--prefix') scope.prefix = args[++i];
    else if (a === '--name') name = args[++i];
    else if (a === '--no-labextension') withLabextension = false;
    else {
      console.error(`tsprof install: unknown option ${a}\n${USAGE}`);
      return 2;
    }
    if ((a === '--prefix' || a === '--name') && !args[i]) {
      console.error(`tsprof install: ${a} needs a value`);
      return 2;
    }
  }
  const data = dataDir(scope);
  const dir = join(data, 'kernels', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kernel.json'), JSON.stringify(kernelJson(setup), null, 2) + '\n');
  for (const logo of setup.kernelspec.logos ?? []) {
    const src = join(ROOT, logo);
    if (existsSync(src)) copyFileSync(src, join(dir, logo.split('/').pop()!));
  }
  console.log(`Installed kernelspec ${name} in ${dir}`);
  if (withLabextension) {
    const ext = installLabextension(setup, data);
    if (ext) console.log(`Installed JupyterLab extension tsprof in ${ext}`);
  }
  return 0;
}
