// The real front ends for the browser suites (test/lab*.test.ts): JupyterLab 4 and Notebook 7 from
// .venv-lab (scripts/install-lab.sh), Debian's classic notebook 6, and Debian's Chromium driven by
// playwright-core. Servers listen on 127.0.0.1 with a random port and token; every process started
// here is stopped by its pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freePort, killTree, sleep, type JupyterEnv } from './jupyter-env.js';

export const VENV = join(ROOT, '.venv-lab');
export const CHROMIUM = process.env.TSPROF_CHROMIUM ?? '/usr/bin/chromium';

type Playwright = typeof import('playwright-core');
export type BrowserContext = import('playwright-core').BrowserContext;
export type Page = import('playwright-core').Page;

/** scripts/install-lab.sh (idempotent: a second run only checks its stamp); returns its last line. */
export function installLab(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'install-lab.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`scripts/install-lab.sh failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n').pop() ?? '';
}

export interface Server {
  /** `http://127.0.0.1:PORT/` */
  base: string;
  token: string;
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Start a Jupyter web app (`jupyter-lab`, or Debian's `jupyter-notebook`) with its root at `root`,
 * and wait until its REST API answers. `args` are the app's own options.
 */
export async function startServer(command: string, app: 'ServerApp' | 'NotebookApp', args: string[], jenv: JupyterEnv, root: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  let log = '';
  const child = spawn(command, [
    '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', '--no-browser', `--notebook-dir=${root}`,
    `--${app}.token=${token}`,
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ...args,
  ], { cwd: root, env: { ...jenv.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const base = `http://127.0.0.1:${port}/`;
  const tail = (): string => `\n--- ${command} log ---\n${log.split('\n').slice(-40).join('\n')}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${command} exited (${child.exitCode ?? child.signalCode})${tail()}`);
    if (Date.now() > deadline) throw new Error(`${command} did not answer on ${base} in 60 s${tail()}`);
    try {
      const res = await fetch(`${base}api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    await sleep(150);
  }
  return {
    base, token, process: child,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      // Jupyter asks for confirmation on the first SIGINT only; SIGTERM ends it and its kernels
      await Promise.race([exited, sleep(8_000)]);
      killTree(child.pid);
    },
  };
}

/**
 * overrides.json for JupyterLab: no news or update checks, the light theme, every cell rendered (no
 * windowing). Notebook 7 gets only the last (a setting of a plugin it lacks breaks its shortcut registry).
 */
export function writeLabSettings(dir: string, options: { notebook7?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true })
  const lab = {
    '@jupyterlab/apputils-extension:notification': { checkForUpdates: false, fetchNews: 'false' },
    '@jupyterlab/apputils-extension:themes': { theme: 'JupyterLab Light' },
  }
  writeFileSync(join(dir, 'overrides.json'), JSON.stringify({
    ...(options.notebook7 ? {} : lab),
    // outputs of cells out of view must still render (the test inspects them all)
    '@jupyterlab/notebook-extension:tracker': { windowingMode: 'none' },
  }, null, 2))
}

/** Debian's Chromium, headless, with a fresh profile and no background traffic. */
export async function launchChromium(profile: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/install-test-deps.sh installs Debian's chromium`);
  const playwright: Playwright = await import('playwright-core');
  return playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-dev-shm-usage'],
  });
}

/** Console errors and page errors of a page, minus the ones named as expected. */
export function collectErrors(page: Page, into: string[], expected: RegExp[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected.some((re) => re.test(m.text()))) into.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    if (!expected.some((re) => re.test(e.message))) into.push(`pageerror: ${e.message}${process.env.TSPROF_LAB_STACKS ? `\n${e.stack ?? ""}` : ""}`);
  });
}

/** Wait until `check` returns true (polled), or throw with `what`. */
export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 30_000, every = 100): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}
