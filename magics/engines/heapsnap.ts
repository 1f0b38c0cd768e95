// Named heap snapshots and their comparison (%heapsnap, %heapdiff): tracemalloc's take_snapshot() /
// compare_to() for the V8 heap.
//
// A snapshot is kept as a summary, not whole: per class (constructor, closure name, string, …)
// the instance count and self size, and, while allocation sampling runs (%heapsnap -t, like
// tracemalloc.start()), the live sampled bytes per allocation site. That is all compare_to needs;
// the parsed graph of a snapshot is tens of MB, a summary a few hundred KB. Summaries live in the
// heap worker's isolate, so keeping them does not show up as growth in the next snapshot.
import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiffRow } from './v8/heapsnapshot.js';
import type { SnapDiff, SnapInfo } from './v8/heapworker.js';
import { heapWorker, prepareScripts, samplingProfile, samplingState, scriptUrlPairs, startSampling, stopSampling, writeSnapshot } from './v8/heapcapture.js';
import { EngineUsageError } from './host.js';
import { heapDiffText, snapshotText } from '../render/heap.js';

/** Allocation sampling interval of -t, in bytes. */
export const DEFAULT_SNAPSHOT_SAMPLING = 1024;
let taken = 0;

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already removed by the worker
  }
}

export class HeapSnapshotInfo {
  constructor(readonly info: SnapInfo, readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export class HeapDiffResult {
  constructor(readonly a: SnapInfo, readonly b: SnapInfo, readonly byClass: DiffRow[], readonly bySite: DiffRow[] | undefined, readonly text: string, readonly siteNote?: string) {}
  /** The row of one class. */
  get(key: string): DiffRow | undefined {
    return this.byClass.find((r) => r.key === key);
  }
  toString(): string {
    return this.text;
  }
}

/** Allocation sampling (kept on between snapshots), or undefined when off. */
export function allocationSampling(): { interval: number } | undefined {
  const s = samplingState();
  return s && { interval: s.interval };
}

export async function stopAllocationSampling(): Promise<void> {
  await stopSampling();
}

export async function listSnapshots(): Promise<SnapInfo[]> {
  return heapWorker().request<SnapInfo[]>({ op: 'snap-list' });
}

async function knownNames(): Promise<string[]> {
  return (await listSnapshots()).map((s) => s.name);
}

/** Forget a snapshot; a usage error naming the known ones when there is none by that name. */
export async function deleteSnapshot(name: string): Promise<void> {
  if (!(await heapWorker().request<boolean>({ op: 'snap-delete', name }))) throw new EngineUsageError(`no snapshot named '${name}'; known: ${(await knownNames()).join(', ') || '(none)'}`);
}

export interface SnapshotOptions {
  /** Start allocation sampling first and keep it on (like tracemalloc.start()), so sites are recorded. */
  sampling?: boolean;
  /** Sampling interval in bytes (default 1,024). */
  interval?: number;
  /** The script named for allocations V8 cannot place (the running cell, in the notebook). */
  currentUrl?: string;
}

/** A full GC, a snapshot of this thread's heap, kept (as per-class and per-site totals) under `name` in the heap worker. */
export async function takeSnapshot(name: string, options: SnapshotOptions = {}): Promise<HeapSnapshotInfo> {
  if (!name || /\s/.test(name)) throw new EngineUsageError(`a snapshot name is one word, got ${JSON.stringify(name)}`);
  const worker = heapWorker();
  await worker.ready();
  if (options.sampling && !samplingState()) await startSampling(options.interval ?? DEFAULT_SNAPSHOT_SAMPLING, { persistent: true });
  const scripts = await prepareScripts();
  // One file, removed by the worker once parsed. (Not fs.rmSync: Node 20 loads its rimraf module
  // lazily on the first call, which would then show up between two snapshots.)
  const file = join(tmpdir(), `tsprof-heapsnap-${process.pid}-${++taken}.heapsnapshot`);
  try {
    const ms = writeSnapshot(file);
    const sampling = samplingState();
    const profile = sampling ? await samplingProfile() : undefined;
    const info = await worker.request<SnapInfo>({
      op: 'snap-take', name, file, profile, samplingInterval: sampling?.interval, scriptUrls: scriptUrlPairs(scripts), currentCell: options.currentUrl ?? '',
    });
    return new HeapSnapshotInfo(info, snapshotText(info, ms, allocationSampling()));
  } finally {
    removeFile(file);
  }
}

/** tracemalloc's compare_to: what changed from snapshot `a` to `b`, by class and (when sampled) by site. */
export async function diffSnapshots(a: string, b: string, options: { internal?: boolean; limit?: number } = {}): Promise<HeapDiffResult> {
  const known = await knownNames();
  for (const n of [a, b]) {
    if (!known.includes(n)) throw new EngineUsageError(`no snapshot named '${n}'; known: ${known.length ? known.map((k) => `'${k}'`).join(', ') : '(none yet)'}`);
  }
  const diff = await heapWorker().request<SnapDiff>({ op: 'snap-diff', a, b, internal: Boolean(options.internal) });
  return new HeapDiffResult(diff.a, diff.b, diff.byClass, diff.bySite, heapDiffText(diff, options.limit ?? 10), diff.siteNote);
}
