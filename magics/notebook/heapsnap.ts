// %heapsnap NAME and %heapdiff A B: tracemalloc's take_snapshot() / compare_to() for the V8 heap,
// over the heapsnap engine (engines/heapsnap.ts) and its renderer (render/heap.ts).
import { intOption, parseOptions } from './argv.js';
import { thousands } from '../render/format.js';
import { heapDiffHtml, samplingLine, snapshotInfoLine } from '../render/heap.js';
import { allocationSampling, deleteSnapshot, DEFAULT_SNAPSHOT_SAMPLING as DEFAULT_SAMPLING, diffSnapshots, listSnapshots, stopAllocationSampling, takeSnapshot } from '../engines/heapsnap.js';
import { UsageError, type Magic, type OptionSpec } from './types.js';
import { displaysAs } from '../../kernel/session/mime.js';

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
    if (opts.l) {
      const list = await listSnapshots();
      const text = list.length ? list.map((s) => snapshotInfoLine(s)).join('\n') : 'no heap snapshots yet';
      ctx.display.bundle({ 'text/plain': `${text}\n${samplingLine(allocationSampling())}` });
      return undefined;
    }
    if (opts.d) {
      await deleteSnapshot(checkName(rest, 'heapsnap')).catch((e: Error) => {
        throw e.name === 'UsageError' ? new UsageError(`%heapsnap: ${e.message}`) : e;
      });
      return undefined;
    }
    if (opts.stop) {
      await stopAllocationSampling();
      if (!rest) {
        if (!opts.q) ctx.display.bundle({ 'text/plain': samplingLine(allocationSampling()) });
        return undefined;
      }
    }
    const name = checkName(rest, 'heapsnap');
    const interval = intOption(opts, 'i', 'heapsnap', 64);
    if (interval !== undefined && !opts.t) throw new UsageError('%heapsnap: -i sets the sampling interval of -t; give -t too');
    const result = await takeSnapshot(name, { sampling: Boolean(opts.t), interval, currentUrl: `cell-${ctx.cell.cell}` });
    if (!opts.q) ctx.display.bundle({ 'text/plain': result.text });
    if (!opts.o) return undefined;
    displaysAs(result, () => result.text);
    return result;
  },
};

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
    const [a, b] = names;
    const result = await diffSnapshots(a, b, { internal: Boolean(opts.a), limit }).catch((e: Error) => {
      throw e.name === 'UsageError' ? new UsageError(`%heapdiff: ${e.message.replace('(none yet)', '(none; %heapsnap NAME takes one)')}`) : e;
    });
    if (!opts.q) ctx.display.bundle({ 'text/plain': result.text, 'text/html': heapDiffHtml({ a: result.a, b: result.b, byClass: result.byClass, bySite: result.bySite, siteNote: result.siteNote }, limit) });
    if (!opts.o) return undefined;
    displaysAs(result, () => result.text);
    return result;
  },
};
