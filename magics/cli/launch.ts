// Runs a script the way `node script args…` would — its own process, stdin/stdout/stderr, argv,
// environment and exit status — with the runner preloaded (runner/preload.ts), and collects what the
// runner recorded. The script runs in a child process rather than in tsprof's own: the profile holds
// no tsprof frames, the memory figures no tsprof heap, Node's flags are the script's, and the
// command line stays free to draw progress and to relay signals while the script computes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { constants } from 'node:os';
import { procStatus } from '../engines/v8/memory.js';
import { CliUsageError } from './argv.js';
import { formatBytes, Progress } from './progress.js';
import { CONFIG_ENV, TRANSFORM_ENV, type Capture, type RunnerConfig, type SourceRecord } from './runner/config.js';
import { SIGNALS } from './runner/control.js';

export const PRELOAD_URL = new URL('./runner/preload.js', import.meta.url).href;

export interface LaunchOptions {
  /** `tsprof prun`: for messages and the progress line. */
  command: string;
  script: string;
  args: string[];
  config: Omit<RunnerConfig, 'out' | 'sourcesDir'>;
  /** No progress line. */
  quiet?: boolean;
  /** What the progress line says after the elapsed time and RSS. */
  describe?: () => string;
}

export interface Launched {
  /** The script's exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the runner wrote; undefined if the process died before it could (SIGKILL, a crash). */
  capture?: Capture;
  /** The JavaScript V8 ran for each file the loader transformed (TypeScript, instrumented), by URL. */
  sources: Map<string, string>;
  /** prun's counted functions of each counted file, by URL (offsets in `sources`). */
  counted: Map<string, NonNullable<SourceRecord['counted']>>;
  /** The exit status tsprof should end with: the script's, 128 + N for a signal (as a shell reports it). */
  status: number;
}

export function scriptPath(command: string, script: string | undefined): string {
  if (!script) throw new CliUsageError(`${command}: no script to run`);
  const path = resolve(script);
  if (!existsSync(path)) throw new CliUsageError(`${command}: cannot find the script ${script}`);
  if (statSync(path).isDirectory()) throw new CliUsageError(`${command}: ${script} is a directory, not a script`);
  return path;
}

/** The script's process: node, the runner, the script, its arguments — and no flag of tsprof's own. */
export async function launch(o: LaunchOptions): Promise<Launched> {
  const path = scriptPath(o.command, o.script);
  const dir = mkdtempSync(join(tmpdir(), 'tsprof-run-'));
  const sourcesDir = join(dir, 'sources');
  mkdirSync(sourcesDir);
  const config: RunnerConfig = { ...o.config, out: join(dir, 'capture.json'), sourcesDir, relaySignals: true };
  try {
    const child = spawn(process.execPath, ['--import', PRELOAD_URL, path, ...o.args], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config), [TRANSFORM_ENV]: JSON.stringify(config.transform) },
    });
    const relay = child.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
    relay.on('error', () => undefined); // the script is gone: nothing left to tell
    // A terminal's Ctrl-C reaches the script too; a `kill` reaches only us. Either way the runner
    // decides what the script would have done (preload.ts, recorder-thread.ts).
    const relayers = SIGNALS.map((signal) => {
      const f = (): void => void relay.write(`${signal}\n`);
      process.on(signal, f);
      return [signal, f] as const;
    });
    const progress = new Progress(`${o.command} ${basename(path)}`, () => {
      const rss = child.pid ? procStatus(child.pid)?.rss : undefined;
      return [rss ? `RSS ${formatBytes(rss)}` : '', o.describe?.() ?? ''].filter(Boolean).join(' · ');
    }, { quiet: o.quiet });
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (code, signal) => done({ code, signal }));
    }).finally(() => {
      progress.done();
      for (const [s, f] of relayers) process.removeListener(s, f);
    });
    const capture = existsSync(config.out) ? (JSON.parse(readFileSync(config.out, 'utf8')) as Capture) : undefined;
    const sources = new Map<string, string>();
    const counted = new Map<string, NonNullable<SourceRecord['counted']>>();
    for (const f of readdirSync(sourcesDir).sort()) {
      const r = JSON.parse(readFileSync(join(sourcesDir, f), 'utf8')) as SourceRecord;
      sources.set(r.url, r.js);
      if (r.counted) counted.set(r.url, r.counted);
    }
    // The runner may have ended the process itself (SIGKILL) after writing the profile for a signal.
    const endedBy = capture && capture.reason !== 'exit' ? capture.reason : signal;
    const status = endedBy ? 128 + (constants.signals[endedBy] ?? 0) : code ?? 1;
    return { code: endedBy ? null : code, signal: endedBy, capture, sources, counted, status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why there is no profile, in one line. */
export function noCapture(command: string, l: Launched): string {
  return `${command}: no profile: the script ended ${l.signal ? `by ${l.signal}` : `with exit code ${l.code}`} before its profile could be written`;
}

/** `node fib.ts 30`, as the files' headers name the run. */
export function commandLine(script: string, args: string[]): string {
  return ['node', script, ...args].map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}
