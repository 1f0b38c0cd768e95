// %mprun / %%mprun: memory line by line for chosen functions, in memory_profiler's layout, plus an
// Allocated column: bytes each line allocated whatever the GC did afterwards, so a line that
// allocates and frees is not shown as free (memory_profiler's famous negative increments).
//
// Each function runs as a fresh copy with a probe before every statement (magics/instrument.ts).
// A probe reads V8's used heap + external memory and the young generation (~0.5 µs), allocating nothing
// the lines are charged with (engines/memory-lines.ts). A line seen allocating nothing in its
// first 64 runs is afterwards only counted, which keeps hot arithmetic loops cheap. Bytes freed by a
// GC inside a line's interval are added back to that line (GCs are timed with PerformanceObserver
// and sized with v8.GCProfiler, matched in order).
import { writeFileSync } from 'node:fs';
import { functionOptions, parseOptions, statementOf } from './argv.js';
import { escapeHtml } from '../render/format.js';
import { htmlTable } from '../render/html.js';
import { recorderProbes } from '../engines/probes.js';
import { collectGarbage } from '../engines/v8/memory.js';
import { PROFILE_MIME, type ProfileBundle } from '../render/profile-bundle.js';
import { classNotReachedNote, rebind, resolveTarget, type Target } from '../engines/targets.js';
import { keptCopy } from '../engines/line-profile.js';
import { type Magic, type MagicContext, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';
import { MemRecorder, memoryLines, MemoryProfileResult, SKIP_AFTER, watchGcs, type MemFunction } from '../engines/memory-lines.js';
import { formatText, GC_UNMATCHED } from '../render/memory-lines.js';

// The engine's and the renderer's exports, where other modules have imported them from.
export { GcWatch, MemRecorder, memoryLines, MemoryProfileResult, type MemFunction, type MemLine, type MemoryRecord } from '../engines/memory-lines.js';
export { formatText, GC_UNMATCHED } from '../render/memory-lines.js';

const OPTIONS: OptionSpec[] = [
  { name: 'f', value: true, repeat: true, metavar: 'FUNC', help: 'profile this function (repeatable); functions defined in notebook cells work' },
  { name: 'r', help: 'return the result object' },
  { name: 'T', value: true, metavar: 'FILE', help: 'also write the text report to FILE' },
  { name: 'q', help: 'quiet: show nothing (use with -r or -T)' },
  { name: 'c', help: 'measure every run of every line (no skipping of lines seen allocating nothing; slower, for lines that allocate rarely)' },
];

// A change that rounds to zero reads 0.0, not -0.0.
const mib = (v: number | undefined): string => (v === undefined ? '' : `${(Math.round(v * 10) / 10 || 0).toFixed(1)} MiB`);

function formatHtml(f: MemFunction): string {
  const max = Math.max(1e-9, ...f.lines.map((l) => l.allocated ?? 0));
  const bar = (v: number | undefined): string => (v ? `<div style="background:#f0f0f0;width:120px;height:10px"><div style="background:#3178c6;height:10px;width:${((120 * v) / max).toFixed(1)}px"></div></div>` : '');
  return `<p><code>Function: ${escapeHtml(f.name)} at line ${f.line} · File: ${escapeHtml(f.file)} · calls: ${f.calls}</code></p>` + htmlTable(f.lines, [
    { header: 'Line #', cell: (l) => l.line },
    { header: 'Mem usage', cell: (l) => mib(l.memUsage) },
    { header: 'Increment', cell: (l) => mib(l.increment) },
    { header: 'Allocated', cell: (l) => mib(l.allocated) },
    { header: '', cell: (l) => bar(l.allocated), html: true, align: 'left' },
    { header: 'Occurrences', cell: (l) => l.occurrences ?? '' },
    { header: 'Line Contents', cell: (l) => `<pre style="margin:0">${escapeHtml(l.contents)}</pre>`, html: true, align: 'left' },
  ]);
}

async function profileMemory(ctx: MagicContext, targets: Target[], statement: () => Promise<unknown>, measureAll: boolean): Promise<{ functions: MemFunction[]; gcMatched: boolean }> {
  // The instrumented copy is kept between runs (line-profile.ts): a second %mprun of a function
  // runs code V8 has already optimized instead of starting in the interpreter.
  const kept = targets.map((t) => keptCopy(t, `mprun ${measureAll}`, () => {
    const rec = new MemRecorder(t.lastLine + 1, measureAll);
    return { instrumentation: recorderProbes(rec, true), state: rec };
  }));
  const recorders = kept.map((c) => c.state);
  for (const r of recorders) r.reset();
  // Two full GCs first: ArrayBuffers freed earlier are swept (and uncounted from external memory)
  // concurrently, which would read as negative allocation on whatever line is running.
  collectGarbage();
  let watched: Awaited<ReturnType<typeof watchGcs>>;
  try {
    for (const [i, t] of targets.entries()) await rebind(ctx, t.expr, kept[i].fn);
    watched = await watchGcs(statement);
  } finally {
    for (const t of targets) await rebind(ctx, t.expr, t.original);
  }
  const functions = targets.map((t, i) => {
    recorders[i].attributeGcs(watched.gcs);
    return memoryLines(t, recorders[i], (ctx.sources.get(t.url)?.ts ?? t.js).split('\n'));
  });
  return { functions, gcMatched: watched!.matched };
}

export const mprun: Magic = {
  name: 'mprun',
  kinds: ['line', 'cell'],
  summary: "Memory line by line for chosen functions, in memory_profiler's layout, with an Allocated column that GC cannot hide.",
  usage: '%mprun -f FUNC [-f FUNC2 …] [-c] [-r] [-T FILE] [-q] statement\n%%mprun -f FUNC [options]\nbody',
  options: OPTIONS,
  details: `Mem usage is the JS heap in use plus external memory (ArrayBuffers, Buffers) after the line, the
largest over its occurrences; Increment is the net change over all occurrences; Allocated adds back what
the GC freed while the line ran, so it is what the line allocated (including in the functions it calls).
Functions defined in notebook cells work. Each function runs as a recompiled copy with a probe before
every statement; a line measured as allocating nothing in its first ${SKIP_AFTER} runs is then only
counted (-c measures every run), and the change in memory over such a stretch goes to the line it
ran in last. Increment is the exact sum of (after − before) over a line's occurrences, as in
memory_profiler, so a function's Increments add up to its change in memory, GCs included.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, OPTIONS, 'mprun');
    const exprs = functionOptions(mprun, opts);
    const { stmt, firstLine } = statementOf(mprun, call, rest);
    const targets: Target[] = [];
    for (const e of exprs) targets.push(await resolveTarget(ctx, e, 'mprun'));
    const statement = ctx.prepareCode(stmt, firstLine);
    const { functions, gcMatched } = await profileMemory(ctx, targets, statement, Boolean(opts.c));
    const note = [...targets.map((t, i) => classNotReachedNote(t, functions[i].lines.some((l) => (l.occurrences ?? 0) > 0))), gcMatched ? undefined : GC_UNMATCHED].filter((n): n is string => n !== undefined);
    const text = [...functions.map((f) => formatText(f) + '\n'), ...note].join('\n');
    if (typeof opts.T === 'string') {
      writeFileSync(opts.T, text);
      process.stdout.write(`*** Profile printout saved to text file '${opts.T}'.\n`);
    }
    const bundle: ProfileBundle = { version: 1, kind: 'mprun', title: '%mprun', functions: functions.map((f) => ({ name: f.name, file: f.file, line: f.line, calls: f.calls, lines: f.lines.map((l) => ({ line: l.line, contents: l.contents, hits: l.occurrences, memUsage: l.memUsage, increment: l.increment, allocated: l.allocated })) })) };
    if (!opts.q) ctx.display.bundle({ [PROFILE_MIME]: bundle, 'text/plain': text, 'text/html': `<div class="tsprof-mprun">${functions.map(formatHtml).join('')}${note.map((n) => `<p>${escapeHtml(n)}</p>`).join('')}</div>` });
    if (!opts.r) return undefined;
    const result = new MemoryProfileResult(functions, text);
    displaysAs(result, () => text);
    return result;
  },
};
