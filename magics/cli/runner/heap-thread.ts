// In every Node process `tsprof mprof run` watches: a thread that reads the main thread's JS heap
// (inspector `Runtime.getHeapUsage`, answered through an interrupt even while the process
// computes) every interval and appends it to this process's heap file, for the recorder to merge.
import { Session } from 'node:inspector';
import { appendFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs, stopped } = workerData as { file: string; intervalMs: number; stopped: SharedArrayBuffer };
const session = new Session();
session.connectToMainThread();
let inFlight = false;

function sample(): void {
  if (inFlight) return; // the main thread is inside a native call: skip, never queue
  inFlight = true;
  session.post('Runtime.getHeapUsage', (err, r) => {
    inFlight = false;
    if (err || !r) return;
    const { usedSize, totalSize } = r as { usedSize: number; totalSize: number };
    try {
      appendFileSync(file, `${(Date.now() / 1e3).toFixed(4)} ${usedSize} ${totalSize}\n`);
    } catch {
      /* the recorder removed the directory: it is done */
    }
  });
}

sample();
const timer = setInterval(sample, intervalMs);

// The main thread is exiting: a session still connected would make Node wait for "the debugger to disconnect".
parentPort!.on('message', () => {
  clearInterval(timer);
  session.disconnect();
  const flag = new Int32Array(stopped);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
