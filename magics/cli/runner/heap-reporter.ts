// What a Node process under `tsprof mprof run` reports besides its RSS (which the recorder reads
// from /proc): its JS heap over time (heap-thread.ts) and the calls of marked functions — mprof's
// FUNC lines — written to files of its own in the recording's directory.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { installRegistry, ProbeRegistry, type CallMark } from './registry.js';

export const MPROF_ENV = 'TSPROF_MPROF';

export interface ReporterConfig {
  dir: string;
  intervalMs: number;
}

/** File names the recorder reads: one heap and one call file per process. */
export const heapFile = (dir: string, pid: number): string => join(dir, `heap-${pid}.txt`);
export const callFile = (dir: string, pid: number): string => join(dir, `func-${pid}.txt`);
export const infoFile = (dir: string, pid: number): string => join(dir, `proc-${pid}.json`);

export function startReporter(config: ReporterConfig): void {
  const pid = process.pid;
  writeFileSync(infoFile(config.dir, pid), JSON.stringify({ pid, ppid: process.ppid, argv: process.argv, node: true }));
  const stopped = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./heap-thread.js', import.meta.url), { workerData: { file: heapFile(config.dir, pid), intervalMs: config.intervalMs, stopped: stopped.buffer }, execArgv: [], env: {}, stdout: false, stderr: false });
  worker.unref();
  worker.on('error', () => undefined);
  process.on('exit', () => {
    worker.postMessage('stop');
    Atomics.wait(stopped, 0, 0, 1000);
  });

  // Calls are buffered and written every 200 ms and when the process exits.
  let pending: CallMark[] = [];
  const flush = (): void => {
    if (!pending.length) return;
    const lines = pending.map((m) => `${m.name} ${(m.rssStart / 2 ** 20).toFixed(4)} ${(m.start / 1e3).toFixed(4)} ${(m.rssEnd / 2 ** 20).toFixed(4)} ${(m.end / 1e3).toFixed(4)} ${m.level}\n`).join('');
    pending = [];
    try {
      appendFileSync(callFile(config.dir, pid), lines);
    } catch {
      /* the recording is over */
    }
  };
  setInterval(flush, 200).unref();
  process.on('exit', flush);
  // Ctrl-C on a terminal signals every process of the group, and a process with no handler of its
  // own dies without 'exit': write what is pending, then let the signal do what it would have done.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      flush();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
  installRegistry(new ProbeRegistry({ onMark: (m) => pending.push(m) }));
}
