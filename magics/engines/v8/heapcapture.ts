// Main-thread side of the leak magics: taking heap snapshots of this process, the allocation
// sampler and tracker (HeapProfiler domain, on an inspector session of our own so that events
// reach us), and the heap worker that parses and remembers snapshots off this thread and heap.
//
// Measured here (Node 20, kernel heap ~7 MB, 75k nodes, 7 MB of JSON): v8.writeHeapSnapshot
// ≈ 0.3 s, the inspector's takeHeapSnapshot ≈ 0.45 s (chunks cross into JS as events),
// v8.getHeapSnapshot's stream ≈ 0.65 s; so snapshots go to a file and the worker reads it.
// A snapshot's closures need their script's line ends: V8 computes them by scanning the source
// when missing, per closure, and with a large module loaded (typescript) one snapshot took 35 s.
// Enabling the debugger once computes them for every script (then 0.7 s).
import { collectGarbage } from './memory.js';
import v8 from 'node:v8';
import { Session } from 'node:inspector';
import { HelperThread } from '../thread.js';
import { PACKAGE_DIST_URL } from './calltree.js';
import type { SamplingProfile } from './heapleaks.js';
import type { WorkerReply, WorkerRequest } from './heapworker.js';
import { adopt } from '../realm.js';

// Made when this module loads, before any cell runs: Node's Session constructor spreads its
// arguments, which fails once a cell deletes Array.prototype[Symbol.iterator].
const ownSession = new Session();
let session: Session | undefined;

function own(): Session {
  if (!session) {
    session = ownSession;
    session.connect();
  }
  return session;
}

export function post<T = unknown>(method: string, params: object = {}): Promise<T> {
  const s = own();
  return new Promise((resolve, reject) => {
    s.post(method, params, (err, res) => (err ? reject(err) : resolve(adopt(res) as T)));
  });
}

export { collectGarbage };

/**
 * Compute line ends for every script (see the header), so snapshots stay fast. Returns the URL of
 * every live script by id: allocation stacks in a snapshot name scripts by id only when the
 * script was evaluated (cells are), and sampling frames carry both.
 */
export async function prepareScripts(): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  const s = own();
  const listener = (m: { params: { scriptId: string; url: string } }): void => {
    if (m.params.url) urls.set(m.params.scriptId, m.params.url);
  };
  s.on('Debugger.scriptParsed', listener);
  try {
    await post('Debugger.enable');
    await post('Debugger.disable');
  } finally {
    s.off('Debugger.scriptParsed', listener);
  }
  return urls;
}

/** GC, then write a snapshot of this thread's heap to `path`; returns the milliseconds it took. */
export function writeSnapshot(path: string): number {
  const t = performance.now();
  collectGarbage();
  v8.writeHeapSnapshot(path);
  return performance.now() - t;
}

// -- Allocation sampling. One sampler per isolate: %heapsnap -t leaves one running between cells
// (like tracemalloc.start()); %%leaks then reads that one, keeping only samples taken after its
// baseline (sample ordinals only grow).
let sampling: { interval: number; persistent: boolean } | undefined;

export function samplingState(): { interval: number; persistent: boolean } | undefined {
  return sampling;
}

export async function startSampling(interval: number, options: { includeCollected?: boolean; persistent?: boolean } = {}): Promise<void> {
  if (sampling) throw new Error('allocation sampling is already running');
  const include = Boolean(options.includeCollected);
  await post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: include, includeObjectsCollectedByMinorGC: include });
  sampling = { interval, persistent: Boolean(options.persistent) };
}

export async function samplingProfile(): Promise<SamplingProfile> {
  return (await post<{ profile: SamplingProfile }>('HeapProfiler.getSamplingProfile')).profile;
}

export async function stopSampling(): Promise<void> {
  if (!sampling) return;
  sampling = undefined;
  await post('HeapProfiler.stopSampling');
}

/** Estimated bytes a profile's samples stand for (V8 scales each node's selfSize already). */
export function profileBytes(p: SamplingProfile): number {
  let total = 0;
  const stack = [p.head];
  while (stack.length) {
    const n = stack.pop()!;
    total += n.selfSize;
    stack.push(...n.children);
  }
  return total;
}

/** The script URLs worth passing to the worker (cells and files), as [id, url] pairs. */
export function scriptUrlPairs(urls: Map<string, string>): Array<[number, string]> {
  return [...urls].filter(([, url]) => url.startsWith('cell-') || url.startsWith('file:')).map(([id, url]) => [Number(id), url]);
}

export function maxOrdinal(p: SamplingProfile): number {
  let m = 0;
  for (const s of p.samples) if (s.ordinal > m) m = s.ordinal;
  return m;
}

// -- Allocation tracking: every allocation's stack, recorded in the next snapshot. Costly per
// allocation (≈100× on an allocation-bound loop), so %%leaks tracks only its last run. The
// inspector's stopTrackingHeapObjects takes a heap snapshot of its own (and in the middle of an
// inspector call, with its pending callback in the heap), so tracking runs on a session of its own
// and ends by disconnecting it, which stops the tracker without a snapshot. (It also resets V8's
// object ids: later snapshots number objects afresh, which is why ids are compared only within one
// %%leaks run.)
let trackingSession: Session | undefined;
// One object, connected for each run and disconnected after (made early, like ownSession).
const trackingObject = new Session();

/** Connect the tracker's session ahead of time, so that it exists in every snapshot of a series. */
export function prepareTracking(): void {
  if (trackingSession) return;
  trackingSession = trackingObject;
  trackingSession.connect();
}

export async function startTracking(): Promise<void> {
  prepareTracking();
  const s = trackingSession!;
  await new Promise<void>((resolve, reject) => {
    s.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true }, (err) => (err ? reject(err) : resolve()));
  });
}

/** Stop tracking (if started) and drop the session. */
export function stopTracking(): void {
  const s = trackingSession;
  trackingSession = undefined;
  s?.disconnect();
}

// -- The worker.
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export class HeapWorker {
  private readonly worker: HelperThread<WorkerReply>;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor() {
    this.worker = new HelperThread<WorkerReply>(new URL('./heapworker.js', import.meta.url));
    this.worker.on((r) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(r.error));
    });
    const fail = (e: Error): void => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      if (worker === this) worker = undefined;
    };
    this.worker.worker.on('error', fail);
    this.worker.worker.on('exit', (code) => fail(new Error(`heap worker exited (code ${code})`)));
    this.send({ op: 'config', packageDistUrl: PACKAGE_DIST_URL });
  }

  /** Fire and forget: errors surface at the next request that depends on it. */
  send(msg: WorkerRequest): void {
    if (this.dead) throw this.dead;
    this.worker.postMessage(msg);
  }

  request<T>(msg: WithoutId<Extract<WorkerRequest, { id: number }>>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }

  /** Round trip: the worker is up and has handled everything sent before. */
  async ready(): Promise<void> {
    await this.request({ op: 'snap-list' });
  }
}

let worker: HeapWorker | undefined;

export function heapWorker(): HeapWorker {
  worker ??= new HeapWorker();
  return worker;
}
