// Block coverage → hits per line. The innermost covered range that contains a line's first
// statement gives its count (the usual reading of V8 block coverage); lines with no statement
// of their own (blank, comments, lone closing brackets) get none, as in line_profiler.
import type { FunctionCoverage } from './inspector.js';

const NO_STATEMENT = /^\s*(\/\/.*|\/\*.*\*\/\s*|[})\]]+[;,)]*\s*|)$/;

export function lineStarts(text: string): number[] {
  const s = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) s.push(i + 1);
  return s;
}

/** The 0-based line of a character offset, given the line starts. */
export function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Hits for each 0-based line in [firstLine, lastLine] of `js`, from the coverage of that script. */
export function hitsPerLine(js: string, functions: FunctionCoverage[], firstLine: number, lastLine: number): Map<number, number> {
  const starts = lineStarts(js);
  const ranges = functions.flatMap((f) => f.ranges);
  const hits = new Map<number, number>();
  for (let line = firstLine; line <= lastLine && line < starts.length; line++) {
    const end = line + 1 < starts.length ? starts[line + 1] - 1 : js.length;
    const text = js.slice(starts[line], end);
    if (NO_STATEMENT.test(text)) continue;
    const offset = starts[line] + (text.length - text.trimStart().length);
    let best: { size: number; count: number } | undefined;
    for (const r of ranges) {
      if (r.startOffset <= offset && offset < r.endOffset) {
        const size = r.endOffset - r.startOffset;
        if (!best || size <= best.size) best = { size, count: r.count };
      }
    }
    if (best) hits.set(line, best.count);
  }
  return hits;
}
