// `tsprof mprof run [--interval S] [--include-children] [--multiprocess] COMMAND…`: mprof run for a
// process tree. The recorder is this process: every interval it reads the RSS of the command and of
// each descendant from /proc, and merges what each Node process in the tree reports of itself (its JS
// heap, the calls of marked functions: runner/heap-reporter.ts, preloaded into every Node process
// through NODE_OPTIONS). Lines are appended as they are taken, so the file holds everything up to the
// moment the recording stops — at the command's exit, or at Ctrl-C.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { childLine, defaultMprofileName, heapLine, memLine, MIB, procLine } from '../engines/export/mprofile.js';
import { commandOf, processTree } from '../engines/proctree.js';
import { CliUsageError, listOpt, numberOpt, stringOpt, type CliValues } from './argv.js';
import { PRELOAD_URL } from './launch.js';
import { formatBytes, Progress } from './progress.js';
import { TRANSFORM_ENV } from './runner/config.js';
import { MPROF_ENV, type ReporterConfig } from './runner/heap-reporter.js';
import type { TransformConfig } from './runner/transform.js';

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** `server.ts …` runs with node; anything else (`node server.js`, `npm start`, a binary) as given. */
export function commandToRun(words: string[]): { file: string; args: string[] } {
  if (!words.length) throw new CliUsageError('tsprof mprof run: no command to run');
  const [first, ...rest] = words;
  if (SCRIPT.test(first)) {
    if (!existsSync(first)) throw new CliUsageError(`tsprof mprof run: cannot find the script ${first}`);
    return { file: process.execPath, args: [resolve(first), ...rest] };
  }
  return { file: first, args: rest };
}

interface Tail {
  offset: number;
  pid: number;
}

/** New complete lines of a file since the last read. */
function readNew(file: string, tail: Tail): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const end = text.lastIndexOf('\n') + 1;
  if (end <= tail.offset) return [];
  const lines = text.slice(tail.offset, end).split('\n').filter(Boolean);
  tail.offset = end;
  return lines;
}

export async function mprofRun(opts: CliValues, rest: string[]): Promise<number> {
  const intervalS = numberOpt(opts, 'interval', 'tsprof mprof run', { min: 0.001, flag: '--interval' }) ?? 0.1;
  const timeoutS = numberOpt(opts, 'timeout', 'tsprof mprof run', { min: 0.001, flag: '--timeout' });
  const includeChildren = Boolean(opts['include-children']);
  const multiprocess = Boolean(opts.multiprocess);
  const output = stringOpt(opts, 'output') ?? defaultMprofileName();
  const { file, args } = commandToRun(rest);

  const dir = mkdtempSync(join(tmpdir(), 'tsprof-mprof-'));
  const fd = openSync(output, 'w');
  let bytes = 0;
  let samples = 0;
  const write = (text: string): void => {
    bytes += writeSync(fd, text);
  };
  write(`CMDLINE ${rest.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\n`);

  const reporter: ReporterConfig = { dir, intervalMs: Math.max(1, intervalS * 1e3) };
  const transform: TransformConfig = { probes: 'markers', names: listOpt(opts, 'function'), marked: true };
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${PRELOAD_URL}`].filter(Boolean).join(' ');
  const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: nodeOptions, [MPROF_ENV]: JSON.stringify(reporter), [TRANSFORM_ENV]: JSON.stringify(transform) } });
  const failed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new CliUsageError(`tsprof mprof run: cannot run ${rest[0]}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : e.message}`))));

  const seen = new Set<number>();
  const nodes = new Set<number>();
  const tails = new Map<string, Tail>();
  let processes = 0;
  let lastRss = 0;
  /** What Node processes reported of themselves since the last look: heap samples, calls, who they are. */
  const merge = (): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const m = /^(heap|func)-(\d+)\.txt$/.exec(name);
      if (!m) continue;
      const pid = Number(m[2]);
      const path = join(dir, name);
      let tail = tails.get(path);
      if (!tail) tails.set(path, (tail = { offset: 0, pid }));
      for (const line of readNew(path, tail)) {
        const v = line.split(' ');
        if (m[1] === 'heap') write(heapLine(pid, Number(v[1]) / MIB, Number(v[2]) / MIB, Number(v[0])));
        else write(`FUNC ${line} ${pid}\n`);
      }
    }
  };
  const isNode = (pid: number): boolean => existsSync(join(dir, `proc-${pid}.json`));
  const tick = (): void => {
    if (child.pid === undefined) return;
    const tree = processTree(child.pid);
    if (!tree.length) return;
    const t = Date.now() / 1e3;
    for (const p of tree) {
      // A Node process says so once its preload has run; until then it is listed as a plain process.
      if (!seen.has(p.pid)) {
        seen.add(p.pid);
        processes++;
        write(procLine(p.pid, p.ppid, false, commandOf(p.pid) ?? ''));
      }
      if (!nodes.has(p.pid) && isNode(p.pid)) {
        nodes.add(p.pid);
        write(procLine(p.pid, p.ppid, true, commandOf(p.pid) ?? ''));
      }
    }
    const root = tree[0].pid === child.pid ? tree[0].rss : 0;
    const all = tree.reduce((a, p) => a + p.rss, 0);
    lastRss = includeChildren ? all : root;
    write(memLine(lastRss / MIB, t));
    if (multiprocess) for (const p of tree) if (p.pid !== child.pid) write(childLine(p.pid, p.rss / MIB, t));
    samples++;
    merge();
  };

  const progress = new Progress('tsprof mprof run', () => `${samples} samples · ${processes} ${processes === 1 ? 'process' : 'processes'} · RSS ${formatBytes(lastRss)} · ${formatBytes(bytes)} written`, { quiet: Boolean(opts.quiet) });
  tick();
  const timer = setInterval(tick, intervalS * 1e3);

  // Ctrl-C on a terminal reaches the command too, and it stops as it would (a server closing its
  // connections may take a while); what only reached us (a kill) is passed on if the command is still
  // running 3 s later. A second one ends the recording at once and asks the command to terminate.
  let interrupts = 0;
  let stopNow: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts === 1) {
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      }, 3000).unref();
    } else {
      child.kill('SIGTERM');
      stopNow?.();
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const deadline = timeoutS === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), timeoutS * 1e3);

  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    ended = await Promise.race([
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal }))),
      new Promise<undefined>((done) => (stopNow = () => done(undefined))),
      failed,
    ]);
  } finally {
    clearInterval(timer);
    if (deadline) clearTimeout(deadline);
    for (const s of signals) process.removeListener(s, onSignal);
    progress.done();
    merge();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  process.stderr.write(`mprof: ${samples} samples of ${processes} ${processes === 1 ? 'process' : 'processes'} over ${progress.elapsed.toFixed(1)} s written to ${output}\n`);
  if (!ended) return 128 + constants.signals.SIGINT;
  if (interrupts && ended.signal === null && ended.code === null) return 130;
  return ended.signal ? 128 + (constants.signals[ended.signal] ?? 0) : ended.code ?? 1;
}
