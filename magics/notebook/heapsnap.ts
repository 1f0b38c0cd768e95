// %heapsnap NAME and %heapdiff A B: tracemalloc's take_snapshot() / compare_to() for the V8 heap.
//
// A snapshot is kept as a summary, not whole: per class (constructor, closure name, string, …)
// the instance count and self size, and, while allocation sampling runs (%heapsnap -t, like
// tracemalloc.start()), the live sampled bytes per allocation site. That is all compare_to needs;
// the parsed graph of a snapshot is tens of MB, a summary a few hundred KB. Summaries live in the
// heap worker's isolate, so keeping them does not show up as growth in the next snapshot.
import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intOption, parseOptions } from './argv.js';
import { escapeHtml, thousands } from '../render/format.js';
import { formatBytes } from './leaks.js';
import { htmlNotes, htmlTable } from '../render/html.js';
import type { DiffRow } from '../engines/v8/heapsnapshot.js';
import type { SnapDiff, SnapInfo } from '../engines/v8/heapworker.js';
import { heapWorker, prepareScripts, samplingProfile, samplingState, scriptUrlPairs, startSampling, stopSampling, writeSnapshot, type HeapWorker } from '../engines/v8/heapcapture.js';
import { UsageError, type Magic, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

const DEFAULT_SAMPLING = 1024;
let taken = 0;

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already removed by the worker
  }
}

const SNAP_OPTIONS: OptionSpec[] = [
  { name: 't', help: 'start allocation sampling first (kept running, like tracemalloc.start()), so this and later snapshots record live allocations by site' },
  { name: 'i', value: true, metavar: 'BYTES', help: `sampling interval for -t in bytes (default ${thousands(DEFAULT_SAMPLING)}; smaller is more precise and slower)` },
  { name: 'stop', help: 'stop allocation sampling (no snapshot unless NAME is given)' },
  { name: 'l', help: 'list the snapshots taken so far' },
  { name: 'd', help: 'delete snapshot NAME' },
  { name: 'o', help: 'return the snapshot summary' },
  { name: 'q', help: 'quiet: show nothing' },
];

const DIFF_OPTIONS: OptionSpec[] = [
  { name: 'l', value: true, metavar: 'LIMIT', help: 'show the top LIMIT rows of each table (default 10)' },
  { name: 'a', help: 'include V8-internal classes (compiled code, hidden classes, internal arrays)' },
  { name: 'o', help: 'return the comparison (all rows) instead of only showing it' },
  { name: 'q', help: 'quiet: show nothing' },
];

function checkName(name: string, magic: string): string {
  if (!name) throw new UsageError(`%${magic}: a snapshot NAME is required\nusage: %heapsnap [-t] [-i BYTES] NAME`);
  if (/\s/.test(name)) throw new UsageError(`%${magic}: a snapshot name is one word, got ${JSON.stringify(name)}`);
  return name;
}

function infoLine(s: SnapInfo, ms?: number): string {
  const took = ms !== undefined ? `; ${(ms / 1e3).toFixed(2)} s to take, ${(s.parseMs / 1e3).toFixed(2)} s to parse` : '';
  const sites = s.sites ? `, ${thousands(s.sites)} allocation sites` : '';
  return `heap snapshot '${s.name}': ${thousands(s.nodeCount)} objects, ${formatBytes(s.totalSize)}, ${thousands(s.classes)} classes${sites}${took}`;
}

function samplingLine(): string {
  const s = samplingState();
  return s ? `allocation sampling: on, every ${thousands(s.interval)} bytes` : 'allocation sampling: off (%heapsnap -t NAME starts it)';
}

async function knownNames(worker: HeapWorker): Promise<string[]> {
  return (await worker.request<SnapInfo[]>({ op: 'snap-list' })).map((s) => s.name);
}

export class HeapSnapshotInfo {
  constructor(readonly info: SnapInfo, readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const heapsnap: Magic = {
  name: 'heapsnap',
  kinds: ['line'],
  summary: "Take a named heap snapshot (kept as per-class and per-site totals) for %heapdiff, like tracemalloc's take_snapshot().",
  usage: '%heapsnap [-t] [-i BYTES] [-o] [-q] NAME\n%heapsnap --stop | -l | -d NAME',
  options: SNAP_OPTIONS,
  details: `Each snapshot runs a full GC first, then keeps per class the instance count and self size (and,
while sampling is on, the live sampled bytes per allocation site, function granularity). Compare two
with %heapdiff A B. -t starts V8's sampling heap profiler and leaves it on (later snapshots include
sites) until --stop; it slows allocation a little.`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, SNAP_OPTIONS, 'heapsnap');
    const worker = heapWorker();
    if (opts.l) {
      const list = await worker.request<SnapInfo[]>({ op: 'snap-list' });
      const text = list.length ? list.map((s) => infoLine(s)).join('\n') : 'no heap snapshots yet';
      ctx.display.bundle({ 'text/plain': `${text}\n${samplingLine()}` });
      return undefined;
    }
    if (opts.d) {
      const name = checkName(rest, 'heapsnap');
      if (!(await worker.request<boolean>({ op: 'snap-delete', name }))) throw new UsageError(`%heapsnap: no snapshot named '${name}'; known: ${(await knownNames(worker)).join(', ') || '(none)'}`);
      return undefined;
    }
    if (opts.stop) {
      await stopSampling();
      if (!rest) {
        if (!opts.q) ctx.display.bundle({ 'text/plain': samplingLine() });
        return undefined;
      }
    }
    const name = checkName(rest, 'heapsnap');
    const interval = intOption(opts, 'i', 'heapsnap', 64);
    if (interval !== undefined && !opts.t) throw new UsageError('%heapsnap: -i sets the sampling interval of -t; give -t too');
    await worker.ready();
    if (opts.t && !samplingState()) await startSampling(interval ?? DEFAULT_SAMPLING, { persistent: true });
    const scripts = await prepareScripts();
    // One file, removed by the worker once parsed. (Not fs.rmSync: Node 20 loads its rimraf module
    // lazily on the first call, which would then show up between two snapshots.)
    const file = join(tmpdir(), `tsprof-heapsnap-${process.pid}-${++taken}.heapsnapshot`);
    try {
      const ms = writeSnapshot(file);
      const sampling = samplingState();
      const profile = sampling ? await samplingProfile() : undefined;
      const info = await worker.request<SnapInfo>({
        op: 'snap-take', name, file, profile, samplingInterval: sampling?.interval, scriptUrls: scriptUrlPairs(scripts), currentCell: `cell-${ctx.cell.cell}`,
      });
      const text = `${infoLine(info, ms)}\n${samplingLine()}`;
      if (!opts.q) ctx.display.bundle({ 'text/plain': text });
      if (!opts.o) return undefined;
      const result = new HeapSnapshotInfo(info, text);
      displaysAs(result, () => text);
      return result;
    } finally {
      removeFile(file);
    }
  },
};

/** tracemalloc's StatisticDiff line: `KEY: size=X (+Y), count=N (+M), average=Z`. */
function diffLine(r: DiffRow): string {
  const avg = r.count ? formatBytes(r.size / r.count) : '0 B';
  const sd = r.sizeDiff ? ` (${formatBytes(r.sizeDiff, true)})` : '';
  const cd = r.countDiff ? ` (${r.countDiff > 0 ? '+' : '-'}${thousands(Math.abs(r.countDiff))})` : '';
  return `${r.key}: size=${formatBytes(r.size)}${sd}, count=${thousands(r.count)}${cd}, average=${avg}`;
}

function diffTable(rows: DiffRow[], keyHeader: string, caption: string): string {
  return htmlTable(rows, [
    { header: keyHeader, cell: (r) => `<code>${escapeHtml(r.key)}</code>`, align: 'left', html: true },
    { header: 'size', cell: (r) => formatBytes(r.size) },
    { header: 'size diff', cell: (r) => formatBytes(r.sizeDiff, true) },
    { header: 'count', cell: (r) => thousands(r.count) },
    { header: 'count diff', cell: (r) => `${r.countDiff > 0 ? '+' : r.countDiff < 0 ? '-' : ''}${thousands(Math.abs(r.countDiff))}` },
    { header: 'average', cell: (r) => (r.count ? formatBytes(r.size / r.count) : '') },
  ], { caption });
}

export class HeapDiffResult {
  constructor(readonly a: SnapInfo, readonly b: SnapInfo, readonly byClass: DiffRow[], readonly bySite: DiffRow[] | undefined, readonly text: string) {}
  /** The row of one class. */
  get(key: string): DiffRow | undefined {
    return this.byClass.find((r) => r.key === key);
  }
  toString(): string {
    return this.text;
  }
}

export const heapdiff: Magic = {
  name: 'heapdiff',
  kinds: ['line'],
  summary: "Compare two %heapsnap snapshots like tracemalloc's compare_to: the top growth first, by class and by allocation site.",
  usage: '%heapdiff [-l LIMIT] [-a] [-o] [-q] A B',
  options: DIFF_OPTIONS,
  details: `Rows are sorted as tracemalloc sorts them: by |size diff|, then size, |count diff|, count. Sizes are
self sizes (the object itself, not what it keeps alive). The by-site table needs allocation sampling
on for both snapshots (%heapsnap -t) and shows live sampled bytes (estimates).`,
  async run(ctx, call) {
    const { opts, rest } = parseOptions(call.args, DIFF_OPTIONS, 'heapdiff');
    const names = rest.split(/\s+/).filter(Boolean);
    if (names.length !== 2) throw new UsageError(`%heapdiff: two snapshot names are needed, got ${names.length}\nusage: ${heapdiff.usage}`);
    const limit = intOption(opts, 'l', 'heapdiff', 1) ?? 10;
    const worker = heapWorker();
    const known = await knownNames(worker);
    for (const n of names) {
      if (!known.includes(n)) throw new UsageError(`%heapdiff: no snapshot named '${n}'; known: ${known.length ? known.map((k) => `'${k}'`).join(', ') : '(none; %heapsnap NAME takes one)'}`);
    }
    const [a, b] = names;
    const diff = await worker.request<SnapDiff>({ op: 'snap-diff', a, b, internal: Boolean(opts.a) });
    const totalSize = diff.b.totalSize - diff.a.totalSize;
    const totalCount = diff.b.nodeCount - diff.a.nodeCount;
    const head = `%heapdiff ${a} → ${b}: ${totalCount >= 0 ? '+' : '-'}${thousands(Math.abs(totalCount))} objects, ${formatBytes(totalSize, true)} (top ${limit} differences)`;
    const lines = [head, '', 'By class:', ...diff.byClass.slice(0, limit).map(diffLine)];
    if (diff.bySite) lines.push('', 'By allocation site (live sampled bytes, estimates):', ...diff.bySite.slice(0, limit).map(diffLine));
    else if (diff.siteNote) lines.push('', `By allocation site: ${diff.siteNote}`);
    const text = lines.join('\n');
    if (!opts.q) {
      const html = [
        `<p><code>${escapeHtml(head)}</code></p>`,
        diffTable(diff.byClass.slice(0, limit), 'class', 'by class'),
        diff.bySite ? diffTable(diff.bySite.slice(0, limit), 'allocation site', 'by allocation site (live sampled bytes, estimates)') : htmlNotes(diff.siteNote ? [`by allocation site: ${diff.siteNote}`] : []),
      ].join('');
      ctx.display.bundle({ 'text/plain': text, 'text/html': `<div class="tsprof-heapdiff">${html}</div>` });
    }
    if (!opts.o) return undefined;
    const result = new HeapDiffResult(diff.a, diff.b, diff.byClass, diff.bySite, text);
    displaysAs(result, () => text);
    return result;
  },
};
