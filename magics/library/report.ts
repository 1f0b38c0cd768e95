// report(result): any result the library returns, as the text the notebook shows for it.
import { CompareResult, TimeitResult } from '../engines/timing.js';
import { MemitResult } from '../engines/memit.js';
import { timeitText } from '../render/timing.js';
import { memitText } from '../render/memory.js';

/** What the notebook prints for a result (IPython's line and the warnings for timeit, pstats' table for profile, …). */
export function report(result: { toString(): string }): string {
  if (result instanceof TimeitResult) return timeitText(result);
  if (result instanceof CompareResult) return result.toString();
  if (result instanceof MemitResult) return memitText(result);
  // ProfileResult, LineProfileResult, MprofResult, LeakResult: their text is the report.
  return String(result);
}
