// %mprun's table as text, memory_profiler's layout: shared by the notebook, the command line and the library.
import type { MemFunction } from '../engines/memory-lines.js';

export const GC_UNMATCHED = '(GC events could not be matched to their sizes; Allocated may undercount lines during which a GC ran)';

// A change that rounds to zero reads 0.0, not -0.0.
const mib = (v: number | undefined): string => (v === undefined ? '' : `${(Math.round(v * 10) / 10 || 0).toFixed(1)} MiB`);

export function formatText(f: MemFunction): string {
  const row = (a: string, b: string, c: string, d: string, e: string, g: string): string => `${a.padStart(6)} ${b.padStart(12)} ${c.padStart(12)} ${d.padStart(12)}  ${e.padStart(11)}   ${g}`;
  const header = row('Line #', 'Mem usage', 'Increment', 'Allocated', 'Occurrences', 'Line Contents');
  return [`Filename: ${f.file}`, '', header, '='.repeat(header.length),
    ...f.lines.map((l) => row(String(l.line), mib(l.memUsage), mib(l.increment), mib(l.allocated), l.occurrences === undefined ? '' : String(l.occurrences), l.contents)),
  ].join('\n');
}
