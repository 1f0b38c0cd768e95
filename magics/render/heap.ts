// Heap results as text and HTML: what %%leaks found to grow (LeakResult) and tracemalloc-style
// snapshot comparisons (%heapsnap / %heapdiff). Pure functions of the results.
import { escapeHtml, thousands } from './format.js';
import { htmlNotes, htmlTable } from './html.js';
import type { LeakReport, LeakRow } from '../engines/v8/heapleaks.js';
import type { LeakTimings } from '../engines/leaks.js';
import type { DiffRow } from '../engines/v8/heapsnapshot.js';
import type { SnapDiff, SnapInfo } from '../engines/v8/heapworker.js';

export function formatBytes(n: number, sign = false): string {
  const s = sign && n > 0 ? '+' : n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a < 1024) return `${s}${Math.round(a)} B`;
  if (a < 1024 * 1024) return `${s}${(a / 1024).toFixed(1)} KiB`;
  if (a < 1024 ** 3) return `${s}${(a / 1024 ** 2).toFixed(1)} MiB`;
  return `${s}${(a / 1024 ** 3).toFixed(2)} GiB`;
}

function signed(n: number): string {
  const r = Math.round(n * 10) / 10;
  const s = Number.isInteger(r) ? thousands(Math.abs(r)) : Math.abs(r).toFixed(1);
  return `${r > 0 ? '+' : r < 0 ? '-' : ''}${s}`;
}

function allocatedAt(r: LeakRow): string {
  if (!r.allocatedAt.length) return '—';
  return r.allocatedAt.slice(0, 2).map((s) => `${s.site}${s.via ? ` via ${s.via}` : ''}${r.allocatedAt.length > 1 ? ` ${Math.round(s.share * 100)}%` : ''}`).join('; ');
}

function pathCell(r: LeakRow): string {
  const notes: string[] = [];
  if (r.captures?.length) notes.push(`captures ${r.captures.slice(0, 3).map((c) => `${c.name}: ${c.cls} ${formatBytes(c.size)}`).join(', ')}`);
  if (r.definedAt && r.cls === '(anonymous closure)') notes.push(`defined at ${r.definedAt}`);
  const caps = notes.length ? ` [${notes.join('; ')}]` : '';
  const share = r.pathShare !== undefined && r.pathShare < 0.9 ? ` (${Math.round(r.pathShare * 100)}% of new ones)` : '';
  return `${r.path}${caps}${share}`;
}

function timingLine(t: LeakTimings): string {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return `${t.snapshotMs.length} snapshots, ${(mean(t.snapshotMs) / 1e3).toFixed(2)} s each (parsed in ${(mean(t.parseMs) / 1e3).toFixed(2)} s on the heap worker); total ${(t.totalMs / 1e3).toFixed(1)} s`;
}

export function leaksText(rep: LeakReport, t: LeakTimings): string {
  const lines: string[] = [];
  const N = rep.iterations;
  if (!rep.rows.length) {
    lines.push(`%%leaks: no growth found in ${N} runs (after a warm-up run; heap ${thousands(rep.baseline.nodeCount)} objects, ${formatBytes(rep.baseline.totalSize)}).`);
    if (rep.hiddenInternal) lines.push(`(${rep.hiddenInternal} V8-internal ${rep.hiddenInternal === 1 ? 'class' : 'classes'} grew; -a shows them)`);
  } else {
    lines.push(`%%leaks: ${rep.rows.length} ${rep.rows.length === 1 ? 'class grows' : 'classes grow'} on every one of ${N} runs (per run, after a warm-up run):`);
    const head = ['class', 'count/run', 'bytes/run', 'retained/run', 'retainer path', 'allocated at'];
    const body = rep.rows.map((r) => [r.cls, signed(r.countPerIteration), formatBytes(r.bytesPerIteration, true), formatBytes(r.retainedPerIteration, true), pathCell(r), allocatedAt(r)]);
    const widths = head.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
    const fmt = (cells: string[]): string => cells.map((c, k) => (k >= 1 && k <= 3 ? c.padStart(widths[k]) : k === cells.length - 1 ? c : c.padEnd(widths[k]))).join('  ').trimEnd();
    lines.push(fmt(head), ...body.map(fmt));
    if (rep.hiddenInternal) lines.push(`(${rep.hiddenInternal} V8-internal ${rep.hiddenInternal === 1 ? 'class' : 'classes'} also grew; -a shows them)`);
  }
  if (rep.sites.length && (rep.rows.length || rep.showSites)) {
    lines.push('', `Surviving allocations by function (sampled every ${thousands(rep.samplingInterval ?? 0)} bytes; estimates per run):`);
    for (const s of rep.sites.slice(0, 10)) lines.push(`  ${formatBytes(s.bytesPerIteration, true).padStart(11)}  ~${signed(s.countPerIteration).replace('+', '').padStart(7)} objects  ${s.site}${s.via ? ` via ${s.via}` : ''}`);
  }
  for (const n of rep.notes) lines.push(`note: ${n}`);
  lines.push(timingLine(t));
  return lines.join('\n');
}

export function leaksHtml(rep: LeakReport, t: LeakTimings): string {
  const N = rep.iterations;
  const parts: string[] = [];
  if (!rep.rows.length) {
    parts.push(`<p><b>no growth found</b> in ${N} runs (after a warm-up run)</p>`);
  } else {
    parts.push(htmlTable(rep.rows, [
      { header: 'constructor', cell: (r) => `<code>${escapeHtml(r.cls)}</code>`, align: 'left', html: true },
      { header: 'count/run', cell: (r) => signed(r.countPerIteration) },
      { header: 'bytes/run', cell: (r) => formatBytes(r.bytesPerIteration, true) },
      { header: 'retained/run', cell: (r) => formatBytes(r.retainedPerIteration, true) },
      { header: 'retainer path', cell: (r) => `<code>${escapeHtml(pathCell(r))}</code>`, align: 'left', html: true },
      { header: 'allocated at', cell: (r) => `<code>${escapeHtml(allocatedAt(r))}</code>`, align: 'left', html: true },
    ], { caption: `grows on every one of ${N} runs (per run)` }));
  }
  if (rep.sites.length && (rep.rows.length || rep.showSites)) {
    parts.push(htmlTable(rep.sites.slice(0, 10), [
      { header: 'bytes/run', cell: (s) => formatBytes(s.bytesPerIteration, true) },
      { header: 'objects/run', cell: (s) => `~${signed(s.countPerIteration).replace('+', '')}` },
      { header: 'function', cell: (s) => `<code>${escapeHtml(s.site + (s.via ? ` via ${s.via}` : ''))}</code>`, align: 'left', html: true },
    ], { caption: `surviving allocations by function (sampled every ${thousands(rep.samplingInterval ?? 0)} bytes)` }));
  }
  const notes = [...rep.notes];
  if (rep.hiddenInternal) notes.push(`${rep.hiddenInternal} V8-internal classes also grew; -a shows them`);
  parts.push(htmlNotes(notes));
  parts.push(`<p style="color:#777;margin:2px 0">${escapeHtml(timingLine(t))}</p>`);
  return `<div class="tsprof-leaks">${parts.join('')}</div>`;
}


// ---------------------------------------------------------------------------------------------
// %heapsnap / %heapdiff

export function snapshotInfoLine(s: SnapInfo, ms?: number): string {
  const took = ms !== undefined ? `; ${(ms / 1e3).toFixed(2)} s to take, ${(s.parseMs / 1e3).toFixed(2)} s to parse` : '';
  const sites = s.sites ? `, ${thousands(s.sites)} allocation sites` : '';
  return `heap snapshot '${s.name}': ${thousands(s.nodeCount)} objects, ${formatBytes(s.totalSize)}, ${thousands(s.classes)} classes${sites}${took}`;
}

export function samplingLine(sampling: { interval: number } | undefined): string {
  return sampling ? `allocation sampling: on, every ${thousands(sampling.interval)} bytes` : 'allocation sampling: off (%heapsnap -t NAME starts it)';
}

/** What taking a snapshot prints: its summary line, and whether allocation sampling is on. */
export function snapshotText(s: SnapInfo, ms: number | undefined, sampling: { interval: number } | undefined): string {
  return `${snapshotInfoLine(s, ms)}\n${samplingLine(sampling)}`;
}

/** tracemalloc's StatisticDiff line: `KEY: size=X (+Y), count=N (+M), average=Z`. */
function diffLine(r: DiffRow): string {
  const avg = r.count ? formatBytes(r.size / r.count) : '0 B';
  const sd = r.sizeDiff ? ` (${formatBytes(r.sizeDiff, true)})` : '';
  const cd = r.countDiff ? ` (${r.countDiff > 0 ? '+' : '-'}${thousands(Math.abs(r.countDiff))})` : '';
  return `${r.key}: size=${formatBytes(r.size)}${sd}, count=${thousands(r.count)}${cd}, average=${avg}`;
}

export function diffTable(rows: DiffRow[], keyHeader: string, caption: string): string {
  return htmlTable(rows, [
    { header: keyHeader, cell: (r) => `<code>${escapeHtml(r.key)}</code>`, align: 'left', html: true },
    { header: 'size', cell: (r) => formatBytes(r.size) },
    { header: 'size diff', cell: (r) => formatBytes(r.sizeDiff, true) },
    { header: 'count', cell: (r) => thousands(r.count) },
    { header: 'count diff', cell: (r) => `${r.countDiff > 0 ? '+' : r.countDiff < 0 ? '-' : ''}${thousands(Math.abs(r.countDiff))}` },
    { header: 'average', cell: (r) => (r.count ? formatBytes(r.size / r.count) : '') },
  ], { caption });
}

function diffHead(diff: SnapDiff, limit: number): string {
  const totalSize = diff.b.totalSize - diff.a.totalSize;
  const totalCount = diff.b.nodeCount - diff.a.nodeCount;
  return `%heapdiff ${diff.a.name} → ${diff.b.name}: ${totalCount >= 0 ? '+' : '-'}${thousands(Math.abs(totalCount))} objects, ${formatBytes(totalSize, true)} (top ${limit} differences)`;
}

export function heapDiffText(diff: SnapDiff, limit: number): string {
  const lines = [diffHead(diff, limit), '', 'By class:', ...diff.byClass.slice(0, limit).map(diffLine)];
  if (diff.bySite) lines.push('', 'By allocation site (live sampled bytes, estimates):', ...diff.bySite.slice(0, limit).map(diffLine));
  else if (diff.siteNote) lines.push('', `By allocation site: ${diff.siteNote}`);
  return lines.join('\n');
}

export function heapDiffHtml(diff: SnapDiff, limit: number): string {
  const html = [
    `<p><code>${escapeHtml(diffHead(diff, limit))}</code></p>`,
    diffTable(diff.byClass.slice(0, limit), 'class', 'by class'),
    diff.bySite ? diffTable(diff.bySite.slice(0, limit), 'allocation site', 'by allocation site (live sampled bytes, estimates)') : htmlNotes(diff.siteNote ? [`by allocation site: ${diff.siteNote}`] : []),
  ].join('');
  return `<div class="tsprof-heapdiff">${html}</div>`;
}
