// `tsprof install`: write the kernelspec (kernel.json + logos) from setup.json where Jupyter looks for it.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
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

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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

export function install(args: string[]): number {
  const setup = readSetup();
  let name = setup.kernelspec.name;
  const scope: { user?: boolean; sysPrefix?: boolean; prefix?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--user') scope.user = true;
    else if (a === '--sys-prefix') scope.sysPrefix = true;
    else if (a === '--prefix') scope.prefix = args[++i];
    else if (a === '--name') name = args[++i];
    else {
      console.error(`tsprof install: unknown option ${a}\nusage: tsprof install [--user | --sys-prefix | --prefix DIR] [--name NAME]`);
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
  return 0;
}
