// The callgrind format (valgrind's; KCachegrind, QCacheGrind, callgrind_annotate read it), as
// pyprof2calltree writes cProfile data for them. Events are the profile's value types; each
// function's self cost sits on its lines (`fn=`), and each caller → callee edge carries the
// callee's inclusive cost (`cfn=` / `calls=` / cost line). With exact counts, a `Calls` event puts
// each function's calls on its first line, so callgrind_annotate prints them per function.
//
// `calls=N` on an edge is, in a sampled profile, the number of samples that saw that edge (a
// sampler cannot count calls per edge; the file's header says so).
import type { ExportFrame, ExportProfile } from './model.js';

/** callgrind event names: short, no spaces (`Samples`, `Time_ns`, `Bytes`). */
function eventName(type: string, unit: string): string {
  const base = type.replace(/[^A-Za-z0-9]+/g, '_').replace(/^./, (c) => c.toUpperCase());
  return unit === 'nanoseconds' ? `${base}_ns` : unit === 'bytes' ? `${base}_bytes` : base;
}

export function toCallgrind(p: ExportProfile): string {
  const events = p.valueTypes.map((v) => eventName(v.type, v.unit));
  const withCalls = p.calls !== undefined;
  if (withCalls) events.push('Calls');
  const width = events.length;
  const zero = (): number[] => new Array<number>(width).fill(0);

  interface Fn { frame: ExportFrame; self: Map<number, number[]>; callees: Map<string, { frame: ExportFrame; line: number; inclusive: number[]; count: number }> }
  const fns = new Map<string, Fn>();
  const fnOf = (f: ExportFrame): Fn => {
    let x = fns.get(f.key);
    if (!x) fns.set(f.key, (x = { frame: f, self: new Map(), callees: new Map() }));
    return x;
  };
  const add = (into: number[], values: number[]): void => values.forEach((v, i) => (into[i] += v));

  for (const s of p.samples) {
    const leaf = s.stack[s.stack.length - 1];
    const self = fnOf(leaf).self;
    const row = self.get(leaf.line) ?? zero();
    add(row, s.values);
    self.set(leaf.line, row);
    // Inclusive cost per edge, once per sample even if the edge repeats (recursion).
    const seen = new Set<string>();
    for (let i = 0; i + 1 < s.stack.length; i++) {
      const caller = s.stack[i];
      const callee = s.stack[i + 1];
      const edge = `${caller.key}\u0000${callee.key}`;
      if (seen.has(edge)) continue;
      seen.add(edge);
      const c = fnOf(caller).callees;
      let e = c.get(callee.key);
      if (!e) c.set(callee.key, (e = { frame: callee, line: caller.line, inclusive: zero(), count: 0 }));
      add(e.inclusive, s.values);
      e.count++;
    }
  }
  for (const { frame, count } of p.calls ?? []) {
    const f = fnOf(frame);
    const row = f.self.get(frame.fnLine) ?? zero();
    row[width - 1] += count;
    f.self.set(frame.fnLine, row);
  }

  // Name compression keeps files small and is what valgrind writes: `(id) name` once, `(id)` after.
  const ids = new Map<string, number>();
  const name = (kind: 'fl' | 'fn', text: string): string => {
    const key = `${kind}\u0000${text}`;
    const id = ids.get(key);
    if (id !== undefined) return `(${id})`;
    const next = ids.size + 1;
    ids.set(key, next);
    return `(${next}) ${text}`;
  };
  const cost = (values: number[]): string => values.map((v) => String(Math.round(v))).join(' ');
  const totals = zero();
  for (const f of fns.values()) for (const v of f.self.values()) add(totals, v);

  const out = [
    '# callgrind format',
    'version: 1',
    `creator: ${p.tool}`,
    `cmd: ${p.command}`,
    'positions: line',
    `events: ${events.join(' ')}`,
    `summary: ${cost(totals)}`,
    `# ${p.tool}: calls= on an edge counts the samples that saw it; ${withCalls ? 'the Calls event holds each function\'s exact calls' : 'calls were not counted'}.`,
    '',
  ];
  const label = (f: ExportFrame): string => `${f.name} (${f.file}:${f.fnLine})`;
  for (const f of fns.values()) {
    out.push(`fl=${name('fl', f.frame.file)}`, `fn=${name('fn', label(f.frame))}`);
    for (const [line, values] of [...f.self].sort((a, b) => a[0] - b[0])) out.push(`${line} ${cost(values)}`);
    for (const e of f.callees.values()) {
      out.push(`cfi=${name('fl', e.frame.file)}`, `cfn=${name('fn', label(e.frame))}`, `calls=${e.count} ${e.frame.fnLine}`, `${e.line} ${cost(e.inclusive.map((v, i) => (i === width - 1 && withCalls ? 0 : v)))}`);
    }
    out.push('');
  }
  return out.join('\n');
}
