// The three views: %prun (flame graph + pstats table), %lprun and %mprun (source with heat bars).
import type { LprunBundle, MprunBundle, PrunBundle, PrunRow, ProfileBundle, SourceFunction, SourceLine } from './bundle';
import { count, el, mib, percent, seconds } from './dom';
import { flameGraph } from './flame';
import { sortableTable, type Column } from './table';

export function renderBundle(bundle: ProfileBundle): HTMLElement {
  switch (bundle.kind) {
    case 'prun':
      return prunView(bundle);
    case 'lprun':
      return sourceView(bundle);
    case 'mprun':
      return sourceView(bundle);
  }
}

/** A bundle this version cannot read: say so; the HTML and text outputs still exist beside it. */
export function unsupported(data: unknown): HTMLElement {
  const d = (data ?? {}) as { version?: unknown; kind?: unknown };
  return el('div', { class: 'tsprof-profile tsprof-unsupported' },
    `tsprof: cannot show this profile (version ${String(d.version)}, kind ${String(d.kind)}); update the tsprof JupyterLab extension.`);
}

export function isProfileBundle(data: unknown): data is ProfileBundle {
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  if (d.version !== 1) return false;
  if (d.kind === 'prun') return Array.isArray(d.rows) && !!d.flame && typeof d.flame === 'object';
  if (d.kind === 'lprun' || d.kind === 'mprun') return Array.isArray(d.functions);
  return false;
}

function prunView(b: PrunBundle): HTMLElement {
  const flame = flameGraph(b.flame);
  const percall = (t: number, n: number | undefined): number | undefined => (n ? t / n : undefined);
  const maxTot = Math.max(1e-12, ...b.rows.map((r) => r.tottime));
  const maxCum = Math.max(1e-12, ...b.rows.map((r) => r.cumtime));
  const columns: Column<PrunRow>[] = [
    {
      title: 'ncalls',
      help: b.exactCounts ? 'exact calls; total/primitive for a recursive function, as cProfile prints it' : 'calls are not counted by sampling: run %prun -c for exact counts',
      sortValue: (r) => r.ncalls,
      cell: (r) => (r.ncalls !== undefined && r.pcalls !== undefined && r.pcalls !== r.ncalls ? `${count(r.ncalls)}/${count(r.pcalls)}` : count(r.ncalls)),
    },
    { title: 'tottime', help: 'time in the function itself', sortValue: (r) => r.tottime, cell: (r) => bar(seconds(r.tottime), r.tottime / maxTot, 'time') },
    { title: 'percall', help: 'tottime / ncalls', sortValue: (r) => percall(r.tottime, r.ncalls), cell: (r) => seconds(percall(r.tottime, r.ncalls)) },
    { title: 'cumtime', help: 'time in the function and everything it called', sortValue: (r) => r.cumtime, cell: (r) => bar(seconds(r.cumtime), r.cumtime / maxCum, 'cum') },
    // pstats divides cumtime by the primitive calls (the calls that began a recursion).
    { title: 'percall', help: 'cumtime / primitive calls', sortValue: (r) => percall(r.cumtime, r.pcalls ?? r.ncalls), cell: (r) => seconds(percall(r.cumtime, r.pcalls ?? r.ncalls)) },
    { title: 'samples', help: 'profiler samples that landed in the function', sortValue: (r) => r.samples, cell: (r) => count(r.samples) },
    {
      title: 'filename:lineno(function)', align: 'left', firstDescending: false, className: 'tsprof-code',
      sortValue: (r) => r.label, cell: (r) => r.label,
    },
  ];
  const initial = sortedBy(b.rows, (r) => r.tottime) ? { column: 1, descending: true }
    : sortedBy(b.rows, (r) => r.cumtime) ? { column: 3, descending: true } : undefined;
  const table = sortableTable(columns, b.rows, { initial, className: 'tsprof-pstats', decorateRow: (tr, r) => tr.setAttribute('data-label', r.label) });
  // hovering a row outlines that function's frames in the flame graph
  table.node.addEventListener('mouseover', (e) => {
    const tr = (e.target as Element).closest('tbody tr');
    if (tr) flame.highlight(tr.getAttribute('data-label') ?? undefined);
  });
  table.node.addEventListener('mouseleave', () => flame.highlight(undefined));

  return el('div', { class: 'tsprof-profile tsprof-prun' },
    el('div', { class: 'tsprof-header' }, el('code', {}, b.header)),
    flame.node,
    el('div', { class: 'tsprof-table-wrap' }, table.node),
  );
}

function sourceView(b: LprunBundle | MprunBundle): HTMLElement {
  const root = el('div', { class: `tsprof-profile tsprof-${b.kind}` });
  if (b.kind === 'lprun') root.append(el('div', { class: 'tsprof-header' }, el('code', {}, `Timer unit: ${b.unit} s`)));
  if (!b.functions.length) root.append(el('div', { class: 'tsprof-dim' }, 'No profiled function ran.'));
  for (const fn of b.functions) root.append(b.kind === 'lprun' ? lprunFunction(fn) : mprunFunction(fn));
  return root;
}

function functionHeading(fn: SourceFunction, extra: string[]): HTMLElement {
  return el('div', { class: 'tsprof-function-heading' },
    el('span', { class: 'tsprof-function-name' }, fn.name),
    ` at ${fn.file}:${fn.line}`,
    ...extra.map((x) => el('span', { class: 'tsprof-dim' }, ` · ${x}`)),
  );
}

const lineColumn: Column<SourceLine> = { title: 'Line #', sortValue: (l) => l.line, firstDescending: false, cell: (l) => String(l.line), className: 'tsprof-lineno' };
const contentsColumn: Column<SourceLine> = {
  title: 'Line Contents', align: 'left', className: 'tsprof-source',
  cell: (l) => el('code', {}, l.contents),
};

function lprunFunction(fn: SourceFunction): HTMLElement {
  const perHit = (l: SourceLine): number | undefined => (l.time !== undefined && l.hits ? l.time / l.hits : undefined);
  const columns: Column<SourceLine>[] = [
    lineColumn,
    { title: 'Hits', sortValue: (l) => l.hits, cell: (l) => (l.hits ? count(l.hits) : '') },
    { title: 'Time', help: 'time on the line, its callees included', sortValue: (l) => l.time, cell: (l) => (l.time ? seconds(l.time) : '') },
    { title: 'Per Hit', sortValue: perHit, cell: (l) => (l.time && l.hits ? seconds(perHit(l)) : '') },
    { title: '% Time', sortValue: (l) => l.percent, cell: (l) => (l.percent !== undefined && l.hits ? percent(l.percent) : '') },
    { title: '', align: 'left', className: 'tsprof-heat-cell', cell: (l) => (l.hits ? heat((l.percent ?? 0) / 100, 'time', percent(l.percent)) : '') },
    contentsColumn,
  ];
  const extra = [`total ${seconds(fn.total)}`];
  if (fn.calls !== undefined) extra.push(`${count(fn.calls)} call${fn.calls === 1 ? '' : 's'}`);
  const table = sortableTable(columns, fn.lines, { initial: { column: 0, descending: false }, className: 'tsprof-source-table', decorateRow: tint((l) => (l.percent ?? 0) / 100) });
  return el('section', { class: 'tsprof-function' }, functionHeading(fn, extra), el('div', { class: 'tsprof-table-wrap' }, table.node));
}

function mprunFunction(fn: SourceFunction): HTMLElement {
  const maxAlloc = Math.max(1e-9, ...fn.lines.map((l) => Math.max(0, l.allocated ?? l.increment ?? 0)));
  const share = (l: SourceLine): number => Math.max(0, l.allocated ?? l.increment ?? 0) / maxAlloc;
  const columns: Column<SourceLine>[] = [
    lineColumn,
    { title: 'Mem usage', help: 'used heap + external memory after the line', sortValue: (l) => l.memUsage, cell: (l) => (l.hits ? mib(l.memUsage) : '') },
    { title: 'Increment', help: 'change of memory across the line (GC may make it negative)', sortValue: (l) => l.increment, cell: (l) => (l.hits ? mib(l.increment, true) : '') },
    { title: 'Allocated', help: 'bytes the line allocated, whatever the GC freed meanwhile', sortValue: (l) => l.allocated, cell: (l) => (l.hits ? mib(l.allocated) : '') },
    { title: '', align: 'left', className: 'tsprof-heat-cell', cell: (l) => (l.hits ? heat(share(l), 'mem', mib(l.allocated)) : '') },
    { title: 'Occurrences', sortValue: (l) => l.hits, cell: (l) => (l.hits ? count(l.hits) : '') },
    contentsColumn,
  ];
  const extra: string[] = [];
  if (fn.calls !== undefined) extra.push(`${count(fn.calls)} call${fn.calls === 1 ? '' : 's'}`);
  const allocated = fn.lines.reduce((s, l) => s + Math.max(0, l.allocated ?? 0), 0);
  extra.push(`allocated ${mib(allocated)}`);
  const table = sortableTable(columns, fn.lines, { initial: { column: 0, descending: false }, className: 'tsprof-source-table', decorateRow: tint(share) });
  return el('section', { class: 'tsprof-function' }, functionHeading(fn, extra), el('div', { class: 'tsprof-table-wrap' }, table.node));
}

/** A number with a thin bar under it, `fraction` of the cell wide. */
function bar(text: string, fraction: number, kind: 'time' | 'cum'): HTMLElement {
  const b = el('span', { class: `tsprof-cellbar tsprof-cellbar-${kind}`, 'aria-hidden': 'true' });
  b.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return el('span', { class: 'tsprof-barred' }, text, b);
}

function heat(fraction: number, kind: 'time' | 'mem', label: string): HTMLElement {
  const f = Math.max(0, Math.min(1, fraction));
  const fill = el('span', { class: `tsprof-heat-fill tsprof-heat-${kind}` });
  fill.style.width = `${(f * 100).toFixed(2)}%`;
  return el('span', { class: 'tsprof-heat', title: label, role: 'img', 'aria-label': label }, fill);
}

/** A row's background tint follows its heat (0..1); lines that never ran are dimmed. */
function tint(share: (l: SourceLine) => number): (tr: HTMLTableRowElement, l: SourceLine) => void {
  return (tr, l) => {
    tr.style.setProperty('--tsprof-heat', share(l).toFixed(3));
    if (!l.hits) tr.classList.add('tsprof-unrun');
  };
}

function sortedBy<T>(rows: readonly T[], key: (r: T) => number): boolean {
  for (let i = 1; i < rows.length; i++) if (key(rows[i - 1]) < key(rows[i])) return false;
  return rows.length > 1;
}

