// mprof(fn): memory over time while a function runs (until the promise it returns settles), with
// chosen methods marked, as `%mprof -o` returns it (MprofResult).
import { mprof as record, type MprofResult } from '../engines/mprof.js';
import { EngineUsageError } from '../engines/host.js';

export interface MprofOptions {
  /** Seconds between samples (default 0.005: 200 Hz). */
  interval?: number;
  /** Add the summed RSS of child processes. */
  children?: boolean;
  /**
   * Methods to mark (when each call started and ended): `[object, 'method']` pairs. The method is
   * replaced on that object for the run (a class's prototype works) and put back afterwards.
   */
  mark?: Array<[object, string]>;
}

/** `Class.method` for a prototype or a class, the key alone for a plain object. */
function markName(obj: object, key: string): string {
  const owner = typeof obj === 'function' ? obj.name : (obj as { constructor?: { name?: string } }).constructor?.name;
  return owner && owner !== 'Object' ? `${owner}.${key}` : key;
}

export async function mprof(fn: () => unknown, options: MprofOptions = {}): Promise<MprofResult> {
  if (typeof fn !== 'function') throw new EngineUsageError(`mprof: expected a function to run, got ${fn === null ? 'null' : typeof fn}`);
  const marks = options.mark ?? [];
  for (const [obj, key] of marks) {
    if (typeof (obj as Record<string, unknown>)[key] !== 'function') throw new EngineUsageError(`mprof: mark: ${key} is not a method of the object given`);
  }
  return record(fn, {
    interval: options.interval,
    children: options.children,
    mark(log) {
      const saved = marks.map(([obj, key]) => {
        const target = obj as Record<string, unknown>;
        const original = target[key] as Function;
        const own = Object.prototype.hasOwnProperty.call(target, key);
        target[key] = log.wrap(original, markName(obj, key));
        return () => {
          if (own) target[key] = original;
          else delete target[key];
        };
      });
      return () => saved.reverse().forEach((undo) => undo());
    },
  });
}
