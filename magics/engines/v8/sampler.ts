// Fine-then-coarse CPU sampling: the first milliseconds of a statement sampled every few tens of
// microseconds (so a 1-3 ms statement still gets dozens of samples), the rest at the usual
// interval (so a long one keeps the low cost).
//
// V8 fixes a profile's interval when it starts, and the statement holds the main thread, so the
// switch is made from a worker thread through its own inspector session on the main thread
// (`connectToMainThread`): V8 serves that session by interrupting the running JavaScript. The two
// profiles are joined into one, with the switch (the gap between them) left unsampled.
import { Worker } from 'node:worker_threads';
import type { CpuProfile, ProfileNode } from './inspector.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Session } = require('node:inspector')
const s = new Session()
s.connectToMainThread()
const post = (m, p = {}) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))))
const flag = new Int32Array(workerData)
let phases = []
// One message at a time: a stop that arrives during the switch waits for the new profile.
let queue = Promise.resolve()
parentPort.on('message', (msg) => { queue = queue.then(() => handle(msg)) })
async function handle(msg) {
  try {
    if (msg.cmd === 'start') {
      phases = []
      await post('Profiler.enable')
      await post('Profiler.setSamplingInterval', { interval: msg.fineUs })
      await post('Profiler.start')
      parentPort.postMessage({ started: true })
      if (msg.switchMs > 0 && Atomics.wait(flag, 0, 0, msg.switchMs) === 'timed-out') {
        const { profile } = await post('Profiler.stop')
        phases.push({ intervalUs: msg.fineUs, profile })
        await post('Profiler.setSamplingInterval', { interval: msg.coarseUs })
        await post('Profiler.start')
        phases.push({ intervalUs: msg.coarseUs, profile: null })
      } else phases.push({ intervalUs: msg.fineUs, profile: null })
    } else if (msg.cmd === 'stop') {
      const { profile } = await post('Profiler.stop')
      phases[phases.length - 1].profile = profile
      parentPort.postMessage({ phases })
    }
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) })
  }
}
`;

export interface Phase {
  intervalUs: number;
  profile: CpuProfile;
}

let worker: Worker | undefined;
let flag: Int32Array | undefined;

function reply<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: T & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
  });
}

function sampler(): { w: Worker; flag: Int32Array } {
  if (!worker || !flag) {
    const sab = new SharedArrayBuffer(4);
    flag = new Int32Array(sab);
    worker = new Worker(WORKER, { eval: true, workerData: sab });
    worker.unref();
  }
  return { w: worker, flag };
}

/**
 * Sample while `run` runs: every `fineUs` for the first `switchMs` ms, then every `coarseUs`.
 * `switchMs` 0 keeps one interval (`fineUs`) throughout.
 */
export async function withPhasedProfile<T>(fineUs: number, coarseUs: number, switchMs: number, run: () => Promise<T>): Promise<{ value: T; phases: Phase[]; startUs: number; endUs: number }> {
  const { w, flag } = sampler();
  Atomics.store(flag, 0, 0);
  const started = reply<{ started: true }>(w);
  w.postMessage({ cmd: 'start', fineUs, coarseUs, switchMs });
  await started;
  // The statement's window on the profiler's clock (both are the monotonic clock, in µs).
  const startUs = Number(process.hrtime.bigint() / 1000n);
  let value: T;
  let failed: { e: unknown } | undefined;
  try {
    value = await run();
  } catch (e) {
    failed = { e };
  }
  const endUs = Number(process.hrtime.bigint() / 1000n);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const stopped = reply<{ phases: Phase[] }>(w);
  w.postMessage({ cmd: 'stop' });
  const { phases } = await stopped;
  if (failed) throw failed.e;
  return { value: value!, phases, startUs, endUs };
}

/**
 * The phases as one profile: the second profile's tree hangs under the first one's root, and a
 * sample of the bare root (nobody's time) marks the switch, so the gap is nobody's time.
 */
export function joinPhases(phases: Phase[]): CpuProfile {
  const first = phases[0].profile;
  if (phases.length === 1) return first;
  const nodes: ProfileNode[] = first.nodes.map((n) => ({ ...n, children: [...(n.children ?? [])] }));
  const root = nodes[0];
  const samples = [...first.samples];
  const timeDeltas = [...first.timeDeltas];
  let lastTime = first.startTime + first.timeDeltas.reduce((a, b) => a + b, 0);
  let nextId = Math.max(...nodes.map((n) => n.id)) + 1;
  let previousEnd = first.endTime;
  for (const { profile } of phases.slice(1)) {
    // The end of the previous phase: a root sample, so the switch is nobody's time.
    samples.push(root.id);
    timeDeltas.push(Math.max(0, previousEnd - lastTime));
    lastTime += timeDeltas[timeDeltas.length - 1];
    previousEnd = profile.endTime;
    const ids = new Map<number, number>();
    const theirRoot = profile.nodes[0].id;
    ids.set(theirRoot, root.id);
    for (const n of profile.nodes) if (n.id !== theirRoot) ids.set(n.id, nextId++);
    for (const n of profile.nodes) {
      if (n.id === theirRoot) {
        root.children!.push(...(n.children ?? []).map((c) => ids.get(c)!));
        continue;
      }
      nodes.push({ ...n, id: ids.get(n.id)!, children: (n.children ?? []).map((c) => ids.get(c)!) });
    }
    let t = profile.startTime;
    profile.samples.forEach((s, i) => {
      t += profile.timeDeltas[i] ?? 0;
      samples.push(ids.get(s)!);
      timeDeltas.push(Math.max(0, t - lastTime));
      lastTime = Math.max(lastTime, t);
    });
  }
  const endTime = Math.max(lastTime, phases[phases.length - 1].profile.endTime);
  return { nodes, startTime: first.startTime, endTime, samples, timeDeltas };
}
