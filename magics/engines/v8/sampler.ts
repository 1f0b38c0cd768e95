// Fine-then-coarse CPU sampling: the first milliseconds of a statement sampled every few tens of
// microseconds (so a 1-3 ms statement still gets dozens of samples), the rest at the usual
// interval (so a long one keeps the low cost).
//
// V8 fixes a profile's interval when it starts, and the statement holds the main thread, so the
// fine profile is stopped from a worker thread through its own inspector session on the main
// thread (`connectToMainThread`): V8 serves that session by interrupting the running JavaScript.
// The two profiles are joined into one.
import { HelperThread } from '../thread.js';
import { post, type CpuProfile, type ProfileNode } from './inspector.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const answers = workerData.port
const { Session } = require('node:inspector')
const s = new Session()
s.connectToMainThread()
const post = (m, p = {}) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))))
const flag = new Int32Array(workerData.flag)
let fine = null
let running = false
// One message at a time: a stop that arrives during the switch waits for it.
let queue = Promise.resolve()
parentPort.on('message', (msg) => { queue = queue.then(() => handle(msg)) })
async function handle(msg) {
  try {
    if (msg.cmd === 'start') {
      fine = null
      await post('Profiler.enable')
      await post('Profiler.setSamplingInterval', { interval: msg.fineUs })
      await post('Profiler.start')
      running = true
      answers.postMessage({ started: true })
      // Blocks this thread only; the statement runs on the main thread meanwhile.
      Atomics.wait(flag, 0, 0, msg.switchMs)
      fine = (await post('Profiler.stop')).profile
      running = false
    } else if (msg.cmd === 'stop') {
      if (running) fine = (await post('Profiler.stop')).profile
      running = false
      answers.postMessage({ fine })
    }
  } catch (e) {
    answers.postMessage({ error: String(e && e.message || e) })
  }
}
`;

export interface Phase {
  intervalUs: number;
  profile: CpuProfile;
}

type Answer = { started?: true; fine?: CpuProfile | null; error?: string };
let worker: HelperThread<Answer> | undefined;
let flag: Int32Array | undefined;

/** The thread's next answer (already copied into this realm: see thread.ts). */
async function reply<T>(w: HelperThread<Answer>): Promise<T> {
  const m = await w.answer();
  if (m.error) throw new Error(m.error);
  return m as T;
}

function sampler(): { w: HelperThread<Answer>; flag: Int32Array } {
  if (!worker || !flag || worker.exited) {
    const sab = new SharedArrayBuffer(4);
    flag = new Int32Array(sab);
    worker = new HelperThread<Answer>(WORKER, { eval: true, workerData: { flag: sab } });
  }
  return { w: worker, flag };
}

/**
 * Sample while `run` runs: every `coarseUs` throughout (this thread's session) and every `fineUs`
 * for the first `switchMs` ms (the worker's session, stopped from there). Two profiles run side by
 * side because starting a profile in this kernel costs tens of ms (V8 logs every compiled
 * function): both start before the statement, and only a stop (cheap) happens during it.
 * `switchMs` 0: one profile at `coarseUs`.
 */
export async function withPhasedProfile<T>(fineUs: number, coarseUs: number, switchMs: number, run: () => Promise<T>): Promise<{ value: T; phases: Phase[]; startUs: number; endUs: number }> {
  const useFine = switchMs > 0;
  const { w, flag } = useFine ? sampler() : { w: undefined, flag: undefined };
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: coarseUs });
  await post('Profiler.start');
  if (w && flag) {
    Atomics.store(flag, 0, 0);
    const started = reply<{ started: true }>(w);
    w.postMessage({ cmd: 'start', fineUs, switchMs });
    try {
      await started;
    } catch (e) {
      await post('Profiler.stop').catch(() => undefined);
      throw e;
    }
  }
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
  const phases: Phase[] = [];
  if (w && flag) {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const stopped = reply<{ fine: CpuProfile | null }>(w);
    w.postMessage({ cmd: 'stop' });
    const { fine } = await stopped.catch(() => ({ fine: null }));
    if (fine) phases.push({ intervalUs: fineUs, profile: fine });
  }
  const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
  phases.push({ intervalUs: coarseUs, profile });
  if (failed) throw failed.e;
  return { value: value!, phases, startUs, endUs };
}

/**
 * The phases as one profile: the fine profile's samples up to its end, then the coarse profile's
 * samples after it (the coarse tree hangs under the fine one's root). Both ran on one clock.
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
  let from = first.endTime;
  for (const { profile } of phases.slice(1)) {
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
    // The last fine sample lasts until the first coarse one after the switch.
    let t = profile.startTime;
    profile.samples.forEach((s, i) => {
      t += profile.timeDeltas[i] ?? 0;
      if (t < from) return;
      samples.push(ids.get(s)!);
      timeDeltas.push(Math.max(0, t - lastTime));
      lastTime = Math.max(lastTime, t);
    });
    from = profile.endTime;
  }
  const endTime = Math.max(lastTime, phases[phases.length - 1].profile.endTime);
  return { nodes, startTime: first.startTime, endTime, samples, timeDeltas };
}
