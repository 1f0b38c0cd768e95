// Functions instrumented in every mode of the line profilers (hits: bare counters; time: %lprun -x's
// recorder; memory: %mprun's recorder), compiled into a vm context where a script defined them, with
// the context's binding pointed at the copy (so recursion runs the copy, as in the notebook).
import vm from 'node:vm';
import { instrumentScript } from '../../magics/engines/instrument.js';
import { countingProbes, recorderProbes, TimeRecorder } from '../../magics/engines/probes.js';
import { MemRecorder } from '../../magics/engines/memory-lines.js';

export type Mode = 'hits' | 'time' | 'memory';
export const MODES: Mode[] = ['hits', 'time', 'memory'];

export interface Instrumented {
  fn: Function;
  /** Hits by line relative to the function's first line (0: calls, for the bare counters). */
  hits(): Map<number, number>;
  code: string;
}

/** Instrument `text` (a function's source, as Function.prototype.toString gives it) for `mode`. */
export function instrument(text: string, mode: Mode, context: vm.Context): Instrumented {
  const lines = text.split('\n').length;
  const script = `(${text}\n)`;
  let hits: () => ArrayLike<number>;
  let instrumentation;
  if (mode === 'hits') {
    const counts = new Float64Array(lines + 2);
    hits = () => counts;
    instrumentation = countingProbes(counts);
  } else if (mode === 'time') {
    const r = new TimeRecorder(lines + 1);
    hits = () => r.hits;
    instrumentation = recorderProbes(r);
  } else {
    const r = new MemRecorder(lines + 1, false);
    hits = () => r.hits;
    instrumentation = recorderProbes(r, true);
  }
  const { code } = instrumentScript(script, instrumentation.style);
  const factory = vm.runInContext(code, context) as (...args: unknown[]) => Function;
  const fn = factory(...instrumentation.args);
  return {
    fn,
    code,
    hits: () => {
      const m = new Map<number, number>();
      const h = hits();
      for (let l = 0; l < lines; l++) if (h[l] > 0) m.set(l, h[l]);
      if (mode === 'hits' && h[lines + 1] > 0) m.set(0, h[lines + 1]);
      return m;
    },
  };
}
