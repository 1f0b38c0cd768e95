// Tracebacks that point at cells and TypeScript lines, without the kernel's own frames.
//
// Transpiling keeps lines in place, so a V8 frame `cell-3:12:5` already names TypeScript line 12;
// only the column can differ, and we drop it. Frames inside the kernel, node internals and the
// inspector's evaluate call are noise to the user and are removed.
import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import { lineMaps } from './transpile.js';

/** The package's compiled code (kernel/ and magics/): its frames are the kernel's, not the user's. */
const KERNEL_DIR = dirname(dirname(dirname(fileURLToPath(import.meta.url)))) + sep;

const FRAME = /^\s+at\s/;

function isInternal(frame: string): boolean {
  return (
    frame.includes('node:internal') ||
    frame.includes('node:inspector') ||
    frame.includes('node:vm') ||
    frame.includes('tsprof-runner') ||
    frame.includes(KERNEL_DIR) ||
    /\(<anonymous>\)$/.test(frame) ||
    /at <anonymous>$/.test(frame)
  );
}

/**
 * `cell-3:12:5` → `cell-3:12` in every frame; a magic's chunk `cell-3.2:12:5` is cell 3 too. A cell
 * TypeScript had to transpile has a line map back to its own lines.
 */
function shortenCellPositions(line: string): string {
  return line.replace(/(cell-\d+)((?:\.\d+)?):(\d+):\d+/g, (_m, cell: string, chunk: string, l: string) => `${cell}:${lineMaps.get(cell + chunk)?.[Number(l)] ?? l}`);
}

export interface FormattedError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export function formatError(err: unknown): FormattedError {
  if (!(err instanceof Error) && !(typeof err === 'object' && err !== null && 'stack' in err)) {
    const evalue = describe(err);
    return { ename: 'Uncaught', evalue, traceback: [`Uncaught ${evalue}`] };
  }
  const e = err as Error;
  const ename = safe(() => e.name) || e.constructor?.name || 'Error';
  const evalue = safe(() => e.message) ?? '';
  // A usage error is about what the user typed, not where the kernel noticed it.
  if (ename === 'UsageError') return { ename, evalue, traceback: [`UsageError: ${evalue}`] };
  const stack = typeof e.stack === 'string' ? e.stack : `${ename}: ${evalue}`;
  const lines = stack.split('\n');
  const kept = lines.filter((l) => !FRAME.test(l) || !isInternal(l)).map(shortenCellPositions);
  // Cause chains are part of the story; show them the way Node prints them.
  const cause = safe(() => (e as Error & { cause?: unknown }).cause);
  if (cause !== undefined && cause !== e) {
    const inner = formatError(cause);
    kept.push(`Caused by: ${inner.traceback[0] ?? ''}`, ...inner.traceback.slice(1));
  }
  return { ename, evalue, traceback: kept };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function describe(v: unknown): string {
  try {
    return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
