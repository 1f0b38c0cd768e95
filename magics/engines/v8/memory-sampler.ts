// The sampler thread of %memit and %mprof (started by MemorySampler in memory.ts).
//
// Why a worker: the main thread is the one running the user's statement, so it cannot sample
// itself while it computes. From here:
// - RSS: /proc/self/status VmRSS (the whole process, read in ~20 µs), or process.memoryUsage.rss()
//   off Linux. Always fresh.
// - Heap used: it must come from the main thread's isolate. An inspector session connected to the
//   main thread (`connectToMainThread`) asks `Runtime.getHeapUsage`; Node delivers inspector
//   messages to the main thread through a V8 interrupt, so the answer comes back within a few ms even
//   while the main thread spins in JS or runs a callback — and it is a plain read of V8's counters,
//   no JS runs on the main thread for it. At most one request is in flight; a tick that finds one
//   still unanswered (the main thread blocked inside a native call, e.g. spawnSync) records the last
//   known value and counts it as stale.
// - External (ArrayBuffer backing stores etc.): not in getHeapUsage on this V8, so the main thread
//   publishes `v8.getHeapStatistics().external_memory` into a SharedArrayBuffer from a timer at the
//   same interval; while the main thread computes without yielding, the last published figure is
//   carried (and counted as stale). Running JS on the main thread from here (Runtime.evaluate inside
//   an interrupt) would get it fresh, but V8 forbids re-entering an interrupted isolate, so we don't.
// - Children (-c): the sum of VmRSS over all descendant pids, and each one's VmHWM.
// - The watchdog: past the deadline, SIGINT to this process (see MemorySampler.arm).
import { Session } from 'node:inspector';
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadData } from '../thread.js';
import { CTRL, descendants, hrtimeMs, procStatus, VALS, type SamplerOptions, type WorkerSamples } from './memory.js';

// One thread serves every magic call in turn (starting a thread costs ~100 ms here): each call sends
// 'configure' with its own shared memory and options, then 'begin' / 'arm' / 'stop', then 'reset'.
const { pid, port: answers } = workerData as ThreadData<{ pid: number }>;
let data: SamplerOptions = { intervalMs: 0 };
let ctrl = new Int32Array(4);
let vals = new Float64Array(4);
const port = parentPort!;
// Answers go through the kernel's own channel (see thread.ts).

let session: Session | undefined;

const linux = process.platform === 'linux';
const t: number[] = [];
const rss: number[] = [];
const heapUsed: number[] = [];
const external: number[] = [];
const children: number[] = [];
let childPeaks: Record<number, number> = {};
let staleHeap = 0;
let staleExternal = 0;
let lastHeap = 0;
let heapInFlight = false;
let lastSeq = -1;
let seqChangedAt = hrtimeMs();
let running = false;
let timer: NodeJS.Timeout | undefined;
let next = 0;

function sample(): void {
  const now = hrtimeMs();
  const s = linux ? procStatus('self') : undefined;
  t.push(now);
  rss.push(s ? s.rss : process.memoryUsage.rss());
  if (session && data.heap) {
    if (heapInFlight) staleHeap++;
    else {
      heapInFlight = true;
      session.post('Runtime.getHeapUsage', (err, r) => {
        heapInFlight = false;
        if (!err && r) lastHeap = (r as { usedSize: number }).usedSize;
      });
    }
    heapUsed.push(lastHeap);
  } else heapUsed.push(vals[VALS.HEAP]);
  const seq = Atomics.load(ctrl, CTRL.EXTERNAL_SEQ);
  if (seq !== lastSeq) {
    lastSeq = seq;
    seqChangedAt = now;
  } else if (data.external && now - seqChangedAt > 2.5 * data.intervalMs) staleExternal++;
  external.push(vals[VALS.EXTERNAL]);
  if (data.children) {
    let sum = 0;
    for (const child of descendants(pid)) {
      const c = procStatus(child);
      if (!c) continue;
      sum += c.rss;
      childPeaks[child] = Math.max(childPeaks[child] ?? 0, c.hwm);
    }
    children.push(sum);
  }
}

function loop(): void {
  if (!running) return;
  sample();
  next += data.intervalMs;
  const wait = next - hrtimeMs();
  if (wait < -data.intervalMs) next = hrtimeMs(); // fell behind (a slow tick): do not burst to catch up
  timer = setTimeout(loop, Math.max(0, wait));
}

function watchdog(): void {
  const left = vals[VALS.DEADLINE] - hrtimeMs();
  if (Atomics.load(ctrl, CTRL.WATCHDOG) !== 1) return;
  if (left > 0) {
    setTimeout(watchdog, Math.max(1, left));
    return;
  }
  if (Atomics.compareExchange(ctrl, CTRL.WATCHDOG, 1, 3) === 1) process.kill(pid, 'SIGINT');
}

function stopLoop(): void {
  running = false;
  if (timer) clearTimeout(timer);
  timer = undefined;
}

port.on('message', (m: { type: string; sab?: SharedArrayBuffer; options?: SamplerOptions }) => {
  if (m.type === 'configure') {
    stopLoop();
    data = m.options!;
    ctrl = new Int32Array(m.sab!, 0, 4);
    vals = new Float64Array(m.sab!, 16, 4);
    lastHeap = vals[VALS.HEAP];
    heapInFlight = false;
    lastSeq = -1;
    childPeaks = {};
    if (data.heap && !session) {
      session = new Session();
      session.connectToMainThread();
    }
    answers.postMessage({ type: 'configured' });
  } else if (m.type === 'reset') {
    stopLoop();
  } else if (m.type === 'begin') {
    t.length = rss.length = heapUsed.length = external.length = children.length = 0;
    staleHeap = staleExternal = 0;
    if (data.intervalMs > 0) {
      running = true;
      next = hrtimeMs();
      loop();
    }
  } else if (m.type === 'arm') {
    watchdog();
  } else if (m.type === 'stop') {
    stopLoop();
    if (data.intervalMs > 0) sample(); // the last reading, as memory_profiler takes one when the statement returns
    const samples: WorkerSamples = {
      t: Float64Array.from(t),
      rss: Float64Array.from(rss),
      heapUsed: Float64Array.from(heapUsed),
      external: Float64Array.from(external),
      children: Float64Array.from(children),
      staleHeap,
      staleExternal,
      childPeaks,
    };
    answers.postMessage({ type: 'samples', samples }, [samples.t.buffer, samples.rss.buffer, samples.heapUsed.buffer, samples.external.buffer, samples.children.buffer]);
  }
});

answers.postMessage({ type: 'ready' });
