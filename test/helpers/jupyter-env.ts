// Shared by the suites where real Jupyter software is the judge (conformance, nbclient, Jupyter
// Server, jupyter console): a throwaway Jupyter environment with the tsprof kernelspec installed,
// and a way to run Debian's Python tools with a time limit that cleans up every process they started.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Python: the one with the Jupyter packages (the `python3` on PATH is another install). */
export const PYTHON = '/usr/bin/python3';
/** Quiet the "frozen modules" debugger warning Debian's Python prints at every start. */
export const PYTHON_FLAGS = ['-Xfrozen_modules=off'];

/** The repository root (this file is dist/test/helpers/jupyter-env.js once built). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const TSPROF_BIN = join(ROOT, 'dist', 'bin', 'tsprof.js');

export interface JupyterEnv {
  /** The temporary directory that holds everything below. */
  dir: string;
  /** JUPYTER_PATH entry that holds kernels/tsprof/kernel.json. */
  jupyterPath: string;
  /** A scratch directory for notebooks and the server's root. */
  work: string;
  /** process.env plus the variables that make Jupyter use only the temporary directories. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** Install the kernelspec with `tsprof install --prefix TMP` and build an env that finds it. */
export function makeJupyterEnv(label: string): JupyterEnv {
  const dir = mkdtempSync(join(tmpdir(), `tsprof-${label}-`));
  const prefix = join(dir, 'prefix');
  execFileSync(process.execPath, [TSPROF_BIN, 'install', '--prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const jupyterPath = join(prefix, 'share', 'jupyter');
  const work = join(dir, 'work');
  for (const d of ['work', 'runtime', 'config', 'data', 'ipython']) mkdirSync(join(dir, d), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
    JUPYTER_DATA_DIR: join(dir, 'data'),
    JUPYTER_PLATFORM_DIRS: '0',
    IPYTHONDIR: join(dir, 'ipython'),
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    // the node that runs the tests also runs the kernel and `tsprof install` from Python
    TSPROF_NODE: process.execPath,
  };
  delete env.JUPYTER_ALLOW_INSECURE_WRITES;
  return {
    dir, jupyterPath, work, env,
    cleanup: () => {
      killProcessesUsing(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SIGKILL processes whose command line names a path inside `dir` (a temp directory this test made):
 * a kernel that a Jupyter tool left running has its connection file there. Only our own processes match.
 */
export function killProcessesUsing(dir: string): number[] {
  const pids = processesUsing(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids;
}

/** Live processes with an argument that is a path inside `dir` (e.g. kernels whose connection file is there). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmdline.split('\0').some((arg) => arg.startsWith(dir + '/'))) pids.push(Number(entry));
    } catch {
      /* ended while we looked */
    }
  }
  return pids;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Reject with a clear message if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every process below `pid` (children, grandchildren …), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name may contain spaces and parentheses: ppid is the second field after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* the process ended while we looked */
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** SIGKILL a process we started and everything it started (jupyter_client puts kernels in their own session). */
export function killTree(pid: number | undefined): void {
  if (!pid) return;
  const pids = [pid, ...descendants(pid)];
  for (const p of pids.reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Hold `input` back until stdout matches `pattern`, then wait `delayMs` more. */
  inputAfter?: { pattern: RegExp; delayMs: number };
}

/** Run a command to completion; on timeout kill it and its descendants. Never rejects. */
export function runProcess(cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let inputSent = false;
    const sendInput = (): void => {
      if (inputSent) return;
      inputSent = true;
      child.stdin!.end(options.input ?? '');
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.inputAfter && !inputSent && options.inputAfter.pattern.test(stdout)) setTimeout(sendInput, options.inputAfter.delayMs);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.on('error', () => undefined);
    if (!options.inputAfter) sendInput();
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid);
    }, options.timeoutMs);
    child.on('error', (e) => {
      stderr += `\n[spawn error] ${e.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    });
  });
}

/** The tool's output, for an assertion message. */
export function transcript(r: RunResult): string {
  return `exit code ${r.code} signal ${r.signal}${r.timedOut ? ' (TIMED OUT)' : ''} after ${Math.round(r.ms)} ms\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}
