// The runner: preloaded (`node --import`) into the script's process by `tsprof prun|lprun|mprun`.
// In every thread and process it reaches (worker threads and cluster workers inherit the flag), it
// makes TypeScript loadable and gives instrumented modules their probes. In the script's main
// thread it also records: the CPU profile and call counts through the recorder thread, line probes
// here; and when the process ends — normally, by process.exit(), by an uncaught error, or by a
// signal — the capture file is written before the process is gone.
import { Worker, isMainThread } from 'node:worker_threads';
import { CONFIG_ENV, TRANSFORM_ENV, type Capture, type RunnerConfig } from './config.js';
import { CONTROL_BYTES, CTRL, SIGNALS } from './control.js';
import { registerHooks } from './register.js';
import { installRegistry, ProbeRegistry } from './registry.js';
import { MPROF_ENV, startReporter, type ReporterConfig } from './heap-reporter.js';
import type { TransformConfig } from './transform.js';
import type { MainMessage } from './recorder-thread.js';

const started = performance.timeOrigin + performance.now();
const recording = isMainThread && process.env[CONFIG_ENV] ? (JSON.parse(process.env[CONFIG_ENV]!) as RunnerConfig) : undefined;
// The script and everything it starts see the environment they would see under plain node.
delete process.env[CONFIG_ENV];
const transform: TransformConfig = recording?.transform ?? (process.env[TRANSFORM_ENV] ? (JSON.parse(process.env[TRANSFORM_ENV]!) as TransformConfig) : { names: [], marked: false });

registerHooks(transform, recording?.sourcesDir);

const reporting = isMainThread && !recording && process.env[MPROF_ENV] ? (JSON.parse(process.env[MPROF_ENV]!) as ReporterConfig) : undefined;
if (recording) await record(recording);
else if (reporting) startReporter(reporting);
else installRegistry(new ProbeRegistry());

async function record(config: RunnerConfig): Promise<void> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ctrl = new Int32Array(control);
  const memory = transform.probes === 'memory' ? await import('./engines.js') : undefined;
  const gcWatch = memory ? new memory.GcWatch() : undefined;
  // The last GCs' entries reach the observer a turn later: when the script ends on its own, take
  // them then; process.exit() or an error leaves no turn, and the table says a GC went unsized.
  let gcs: ReturnType<NonNullable<typeof gcWatch>['collect']> | undefined;
  let gcStopped = false;
  if (gcWatch) {
    process.once('beforeExit', () => {
      gcWatch.stop();
      gcStopped = true;
      setImmediate(() => void (gcs = gcWatch.collect(true)));
    });
  }
  const registry = new ProbeRegistry({ memory: memory && ((lines) => new memory.MemRecorder(lines, Boolean(config.measureAll))) });
  installRegistry(registry);

  const worker = new Worker(new URL('./recorder-thread.js', import.meta.url), { workerData: { config, control, started, pid: process.pid }, execArgv: [], env: {}, stdout: false, stderr: false });
  // The recorder failing must not take the script down with it: say so, and the script runs on.
  worker.on('error', (e) => process.stderr.write(`tsprof: the recorder thread failed: ${e.message}\n`));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }): void => {
      worker.off('message', onMessage);
      if (m.type === 'started') resolve();
      else reject(new Error(`tsprof: the profiler did not start: ${m.message}`));
    };
    worker.on('message', onMessage);
  });
  // Never what keeps the script's process alive (a 'message' listener would).
  worker.unref();
  registry.onCalls = (url, [calls, self]) => worker.postMessage({ type: 'calls', url, calls, self } satisfies MainMessage);
  // Counters in shared memory are handed to the recorder thread as they are made.
  const probes = registry.probes.bind(registry);
  registry.probes = (meta) => {
    const args = probes(meta);
    const entry = registry.entries.find((e) => e.meta.key === meta.key);
    if (entry?.counters) worker.postMessage({ type: 'counters', key: meta.key, counters: entry.counters, meta } satisfies MainMessage);
    return args;
  };

  /** Write the capture (through the recorder thread) and wait until it is on disk. */
  const dump = (reason: Capture['reason'], exitCode?: number): void => {
    if (Atomics.compareExchange(ctrl, CTRL.STATE, 0, 1) === 0) {
      const notes: string[] = [];
      if (gcWatch && !gcs) {
        if (!gcStopped) gcWatch.stop();
        gcs = gcWatch.collect(true);
      }
      const functions = registry.records(gcs);
      worker.postMessage({ type: 'dump', reason, exitCode, functions, notes } satisfies MainMessage);
    }
    // The recorder thread's inspector calls reach this thread as interrupts, which V8 serves while it waits here.
    while (Atomics.load(ctrl, CTRL.STATE) !== 2) if (Atomics.wait(ctrl, CTRL.STATE, 1, 30_000) === 'timed-out') break;
  };

  process.on('exit', (code) => dump('exit', code));

  // Node's default for these signals is to die on the spot. Stand in for it only while the script
  // has no listener of its own: write the profile, then die by the same signal.
  for (const signal of SIGNALS) {
    const listener = (): void => {
      Atomics.add(ctrl, CTRL.SEEN, 1);
      if (process.listenerCount(signal) > 1) return;
      dump(signal);
      process.removeListener(signal, listener);
      process.kill(process.pid, signal);
    };
    process.on(signal, listener);
  }
  const owned = (): void => {
    let bits = 0;
    SIGNALS.forEach((s, i) => {
      if (process.listenerCount(s) > 1) bits |= 1 << i;
    });
    Atomics.store(ctrl, CTRL.OWN_HANDLERS, bits);
  };
  // Set at once (not on a later tick): the script may add its listener and then compute for long.
  process.on('newListener', (event) => {
    const i = (SIGNALS as readonly string[]).indexOf(event as string);
    if (i >= 0) Atomics.or(ctrl, CTRL.OWN_HANDLERS, 1 << i);
  });
  process.on('removeListener', (event) => {
    if ((SIGNALS as readonly string[]).includes(event as string)) owned();
  });
}

