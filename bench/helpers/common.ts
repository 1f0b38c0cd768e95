// Shared pieces of the TypeScript benches: run cells on a real kernel and read JSON back from
// stdout, small statistics, a text table, a watchdog that stops everything the bench started.
import { cpus, loadavg } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LaunchedKernel } from '../../kernel/client/launch.js';
import type { Message } from '../../kernel/wire/message.js';

export interface CellRun {
  /** Client-side wall time from sending execute_request to having both the reply and status idle, seconds. */
  wall: number;
  stdout: string;
  reply: Message;
  iopub: Message[];
}

export class CellError extends Error {}

/** Execute a cell; throws (with the kernel's error) unless the reply status is ok. */
export async function runCell(k: LaunchedKernel, code: string, timeoutMs = 60_000): Promise<CellRun> {
  const t0 = performance.now();
  const r = await k.client.execute(code, { timeoutMs });
  const wall = (performance.now() - t0) / 1e3;
  const content = r.reply.content as { status?: string; ename?: string; evalue?: string };
  if (content.status !== 'ok') throw new CellError(`cell failed (${content.ename}: ${content.evalue}):\n${code}`);
  const stdout = r.iopub
    .filter((m) => m.header.msg_type === 'stream' && (m.content as { name?: string }).name === 'stdout')
    .map((m) => (m.content as { text: string }).text)
    .join('');
  return { wall, stdout, reply: r.reply, iopub: r.iopub };
}

/** Run a cell whose last stdout line is JSON; returns it with the client-side wall time. */
export async function cellJson<T>(k: LaunchedKernel, code: string, timeoutMs = 60_000): Promise<{ value: T; wall: number }> {
  const run = await runCell(k, code, timeoutMs);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { value: JSON.parse(last) as T, wall: run.wall };
  } catch {
    throw new CellError(`cell printed no JSON on its last line: ${JSON.stringify(run.stdout.slice(-300))}\n${code}`);
  }
}

let unique = 0;
/** A fresh identifier for a cell's own bindings, so repeated cells never redeclare a const. */
export const fresh = (prefix = '__bench'): string => `${prefix}${++unique}`;

export const median = (xs: readonly number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Population standard deviation, as IPython's TimeitResult computes it. */
export const stdev = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

/** Seconds → a short human unit (ns, µs, ms, s), 3 significant digits. */
export function fmtTime(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '—';
  const abs = Math.abs(s);
  const [v, u] = abs < 1e-6 ? [s * 1e9, 'ns'] : abs < 1e-3 ? [s * 1e6, 'µs'] : abs < 1 ? [s * 1e3, 'ms'] : [s, 's'];
  return `${Number(v.toPrecision(3))} ${u}`;
}
export const fmtRatio = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`);
export const fmtPct = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? '—' : `${(r * 100).toFixed(1)}%`);

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machine(): Record<string, unknown> {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg: loadavg().map((l) => Number(l.toFixed(2))) };
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

/**
 * Exit (code 2) after `ms` whatever happens, and on SIGINT/SIGTERM, after running the cleanups
 * (stop kernels, kill children). Returns a function that disarms it.
 */
export function watchdog(ms: number, what: string, cleanups: Array<() => unknown>): () => void {
  let fired = false;
  const fire = async (why: string): Promise<void> => {
    if (fired) return;
    fired = true;
    process.stderr.write(`\n${what}: ${why}; stopping what the bench started\n`);
    const hardExit = setTimeout(() => process.exit(2), 10_000);
    hardExit.unref();
    for (const c of cleanups) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
    process.exit(2);
  };
  const timer = setTimeout(() => void fire(`time limit of ${ms / 1000} s reached`), ms);
  timer.unref();
  const onSignal = (sig: string) => () => void fire(`got ${sig}`);
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    clearTimeout(timer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/** Tiny flag parser for `--name value` / `--name=value` numeric options. */
export function numberFlag(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === `--${name}` && i + 1 < args.length) return Number(args[i + 1]);
    if (a.startsWith(`--${name}=`)) return Number(a.slice(name.length + 3));
  }
  return fallback;
}

export interface SchedStat {
  /** Nanoseconds the thread ran on a CPU, and waited runnable on a run queue (Linux schedstat). */
  cpu: number;
  wait: number;
}

/** Scheduler counters of a process's main thread (the one that runs JS), or undefined off Linux. */
export function schedstat(pid: number | undefined): SchedStat | undefined {
  if (!pid) return undefined;
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { cpu, wait };
  } catch {
    return undefined;
  }
}

/** Share of the runnable time between two readings that the thread spent waiting for a CPU. */
export function waitShare(a: SchedStat | undefined, b: SchedStat | undefined): number | undefined {
  if (!a || !b) return undefined;
  const cpu = b.cpu - a.cpu;
  const wait = b.wait - a.wait;
  return cpu + wait > 0 ? wait / (cpu + wait) : undefined;
}

/** Linux PSI: microseconds during which some runnable task waited for a CPU (since boot), or undefined. */
export function cpuPressureTotal(): number | undefined {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wait (up to `maxMs`) for a half-second window in which tasks waited for a CPU less than
 * `threshold` of the time, so a measurement does not start in the middle of someone else's build.
 * Returns how long it waited and the pressure of the last window (undefined without PSI).
 */
export async function waitQuiet(maxMs: number, threshold = 0.1): Promise<{ waitedMs: number; pressure?: number }> {
  const t0 = performance.now();
  for (;;) {
    const a = cpuPressureTotal();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const b = cpuPressureTotal();
    const pressure = a === undefined || b === undefined ? undefined : (b - a) / 1e3 / (performance.now() - w0);
    const waitedMs = performance.now() - t0;
    if (pressure === undefined || pressure < threshold || waitedMs >= maxMs) return { waitedMs, pressure };
  }
}

/** CPU pressure (share of time some task waited for a CPU) between two PSI readings taken `ms` apart. */
export function pressureShare(a: number | undefined, b: number | undefined, ms: number): number | undefined {
  return a === undefined || b === undefined || ms <= 0 ? undefined : (b - a) / 1e3 / ms;
}

/** The examples' primes program (set-based trial division), defined in a cell by the benches. */
export const PRIMES = `function primes(count: number): number[] {
  const found: number[] = [];
  const seen = new Set<number>();
  let candidate = 2;
  while (found.length < count) {
    let isPrime = true;
    for (const p of found) {
      if (p * p > candidate) break;
      if (candidate % p === 0) { isPrime = false; break; }
    }
    if (isPrime) { found.push(candidate); seen.add(candidate); }
    candidate++;
  }
  return found;
}`;
