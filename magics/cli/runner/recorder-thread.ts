// The runner's recorder thread, inside the script's process. It owns the inspector session that
// samples the CPU and counts calls (connected to the main thread: V8 answers it through an
// interrupt even while the script computes), and it writes the capture file — when the main thread
// asks (the process exits), or by itself when a signal came and the main thread is too busy to hear
// it (Node runs a signal listener only when the event loop turns; the profile must not be lost).
import { Session } from 'node:inspector';
import { renameSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parentPort, workerData } from 'node:worker_threads';
import { PACKAGE_DIST_URL } from '../../engines/v8/calltree.js';
import type { CpuProfile, ScriptCoverage } from '../../engines/v8/inspector.js';
import { CTRL, SIGNAL_FD, SIGNALS, type HandledSignal } from './control.js';
import type { Capture, RunnerConfig } from './config.js';

interface Data {
  config: RunnerConfig;
  control: SharedArrayBuffer;
  /** ms, wall clock, when the runner started. */
  started: number;
  pid: number;
}

export type MainMessage =
  | { type: 'counters'; key: string; counters: Float64Array; meta: Capture['functions'][number] }
  | { type: 'calls'; url: string; calls: Float64Array; self: Float64Array }
  | { type: 'dump'; reason: Capture['reason']; exitCode?: number; functions: Capture['functions']; notes: string[] };

const { config, control, started, pid } = workerData as Data;
const ctrl = new Int32Array(control);
const port = parentPort!;
const session = new Session();
session.connectToMainThread();
const counters = new Map<string, Float64Array>();

function post<T = unknown>(method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function start(): Promise<void> {
  await post('Profiler.enable');
  if (config.coverage) await post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  if (config.intervalUs > 0) {
    await post('Profiler.setSamplingInterval', { interval: config.intervalUs });
    await post('Profiler.start');
  }
}

/** User scripts only, functions that ran: tsprof's own code and Node's internals are never in a table. */
function userCoverage(all: ScriptCoverage[]): ScriptCoverage[] {
  return all
    .filter((s) => s.url.startsWith('file:') && !s.url.startsWith(PACKAGE_DIST_URL))
    .map((s) => ({ ...s, functions: s.functions.filter((f) => (f.ranges[0]?.count ?? 0) > 0) }))
    .filter((s) => s.functions.length > 0);
}

async function dump(reason: Capture['reason'], exitCode: number | undefined, functions: Capture['functions'], notes: string[]): Promise<void> {
  const wall = (performance.timeOrigin + performance.now() - started) / 1e3;
  let profile: CpuProfile | undefined;
  let coverage: ScriptCoverage[] | undefined;
  try {
    if (config.intervalUs > 0) profile = (await post<{ profile: CpuProfile }>('Profiler.stop')).profile;
    if (config.coverage) coverage = userCoverage((await post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage')).result);
  } catch (e) {
    notes.push(`the profiler could not be read: ${(e as Error).message}`);
  }
  // Hit counters live in shared memory: readable here whichever thread asked for the dump.
  for (const f of functions) {
    const c = counters.get(f.key);
    if (c && !f.record) f.record = { probes: 'count', hits: Array.from(c) };
  }
  const calls = [...callCounters].map(([url, [c, s]]) => ({ url, calls: Array.from(c), self: Array.from(s) }));
  const capture: Capture = { version: 1, reason, exitCode, wall, pid, profile, intervalUs: config.intervalUs, coverage, calls: calls.length ? calls : undefined, functions, notes };
  writeFileSync(`${config.out}.tmp`, JSON.stringify(capture));
  renameSync(`${config.out}.tmp`, config.out);
  // A session still connected when the main thread exits makes Node wait for "the debugger to disconnect".
  session.disconnect();
}

function finished(): void {
  Atomics.store(ctrl, CTRL.STATE, 2);
  Atomics.notify(ctrl, CTRL.STATE);
}

const known = new Map<string, Capture['functions'][number]>();
/** prun's call counters by module URL (shared memory). */
const callCounters = new Map<string, [Float64Array, Float64Array]>();

port.on('message', (m: MainMessage) => {
  if (m.type === 'counters') {
    counters.set(m.key, m.counters);
    known.set(m.key, m.meta);
  } else if (m.type === 'calls') {
    callCounters.set(m.url, [m.calls, m.self]);
  } else if (m.type === 'dump') {
    dump(m.reason, m.exitCode, m.functions, m.notes).catch((e: unknown) => process.stderr.write(`tsprof: could not write the profile: ${(e as Error).message}\n`)).finally(finished);
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The command line relays each signal it gets (a terminal's Ctrl-C reaches both processes; a
 * `kill` only the command line). If the main thread's listener has not seen it within 300 ms, the
 * signal is delivered to this process (the `kill` case); if the listener still cannot run, the
 * script is computing: a script that listens to the signal itself keeps running, as under plain
 * Node; any other would have died at once, so the profile is written from here and the process
 * ends (the command line reports the signal as the exit status).
 */
async function relayed(signal: HandledSignal): Promise<void> {
  const bit = 1 << SIGNALS.indexOf(signal);
  const seen = Atomics.load(ctrl, CTRL.SEEN);
  await sleep(300);
  if (Atomics.load(ctrl, CTRL.SEEN) !== seen || Atomics.load(ctrl, CTRL.STATE) !== 0) return;
  process.kill(pid, signal);
  if (Atomics.load(ctrl, CTRL.OWN_HANDLERS) & bit) return;
  await sleep(300);
  if (Atomics.load(ctrl, CTRL.SEEN) !== seen || Atomics.compareExchange(ctrl, CTRL.STATE, 0, 1) !== 0) return;
  // Hit counters are in shared memory; line times and memory are kept by recorders in the script's thread.
  const unread = config.transform.probes === 'time' || config.transform.probes === 'memory';
  const notes = [`stopped by ${signal} while the script was computing${unread ? ': the line recorders in the script\'s own thread could not be read' : ''}`];
  try {
    await dump(signal, undefined, [...known.values()].map((f) => ({ ...f })), notes);
  } finally {
    finished();
    process.kill(pid, 'SIGKILL');
  }
}

if (config.relaySignals) {
  // A socket, not an fs stream: a blocking read of a pipe would hold a thread-pool thread, and the
  // process's exit would wait for it.
  const relay = new Socket({ fd: SIGNAL_FD, readable: true, writable: false });
  relay.on('error', () => undefined); // the command line is gone: nothing more to relay
  relay.unref();
  createInterface({ input: relay }).on('line', (line) => {
    if ((SIGNALS as readonly string[]).includes(line.trim())) void relayed(line.trim() as HandledSignal);
  });
}

start().then(
  () => port.postMessage({ type: 'started' }),
  (e: unknown) => port.postMessage({ type: 'failed', message: (e as Error).message }),
);
