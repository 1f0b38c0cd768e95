// The library's warnings: a function's time drifting from its running mean, the heap a function
// leaves behind growing on every run, more live instances of a class than allowed. Each is typed
// data with its figures; by default it goes to process.emitWarning (stderr, once per occurrence, and
// `node --throw-deprecation`-style tooling sees it), or to the handler the caller gave.
import { formatTime } from '../render/format.js';
import { formatBytes } from '../render/heap.js';

export type TsprofWarning =
  | { kind: 'drift'; name: string; seconds: number; mean: number; ratio: number; factor: number; calls: number }
  | { kind: 'leak'; name: string; runs: number; /** Bytes a call kept, the median of the `runs` calls. */ growthPerRun: number; retained: number }
  | { kind: 'instances'; name: string; live: number; max: number; created: number };

export const WARNING_CODES: Record<TsprofWarning['kind'], string> = { drift: 'TSPROF_DRIFT', leak: 'TSPROF_LEAK', instances: 'TSPROF_INSTANCES' };

export function warningMessage(w: TsprofWarning): string {
  switch (w.kind) {
    case 'drift':
      return `${w.name} took ${formatTime(w.seconds)}, ${w.ratio >= 1 ? `${w.ratio.toFixed(2)}× its running mean` : `${(1 / w.ratio).toFixed(2)}× faster than its running mean`} (${formatTime(w.mean)} over ${w.calls} calls that did not drift; warning past ${w.factor}×)`;
    case 'leak':
      return `${w.name}: each of the last ${w.runs} calls kept memory after a full GC, ${formatBytes(w.growthPerRun)} per call (median; JS heap + external now ${formatBytes(w.retained)}): a leak?`;
    case 'instances':
      return `${w.name}: ${w.live} live instances (after a GC), more than the ${w.max} allowed (${w.created} created so far)`;
  }
}

/** Hand a warning to `handler`, or to process.emitWarning with a code per kind. */
export function emit(w: TsprofWarning, handler?: (w: TsprofWarning) => void): void {
  if (handler) handler(w);
  else process.emitWarning(warningMessage(w), { type: 'TsprofWarning', code: WARNING_CODES[w.kind] });
}
