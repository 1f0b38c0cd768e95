// What %%leaks concludes from its snapshots: the classes that grew on every iteration, by how
// much (count, self bytes, retained bytes), the path that keeps a new instance alive, what a
// closure captures, and where the surviving objects were allocated. Pure functions over parsed
// snapshots; they run in the heap worker, away from the heap being measured.
import { displayFile } from './sources.js';
import { formatPath, type HeapSnapshot, type PathStep, type TraceFrame } from './heapsnapshot.js';

/** What is kept of each snapshot of the series: per-class totals. */
export interface SeriesPoint {
  counts: Map<string, { count: number; size: number; internal: boolean }>;
  maxId: number;
  nodeCount: number;
  totalSize: number;
}

export interface AllocationSite {
  /** `cell-3:2(makeHandler)`: the innermost frame in user code (a cell or a file outside node_modules). */
  site: string;
  /** The innermost frame when it is not the site itself (`node:events:…(_addListener)`). */
  via?: string;
  count: number;
  share: number;
}

export interface LeakRow {
  cls: string;
  internal: boolean;
  /** Instances after the baseline and after each iteration. */
  counts: number[];
  /** Self bytes after the baseline and after each iteration. */
  sizes: number[];
  /** Median growth over the N steps. */
  countPerIteration: number;
  bytesPerIteration: number;
  /** Growth of the class's retained size, last snapshot minus baseline, divided by N. */
  retainedPerIteration: number;
  /** Instances allocated during the runs that are still alive. */
  newObjects: number;
  path: string;
  /** The share of new instances (a sample of them) whose path has the shape shown. */
  pathShare?: number;
  pathSteps?: PathStep[];
  allocatedAt: AllocationSite[];
  /** For closures: where the function is defined (`cell-4:3`). */
  definedAt?: string;
  /** For closures: the variables the example instance's scope holds, largest first. */
  captures?: Array<{ name: string; cls: string; size: number }>;
  example?: { id: number; selfSize: number; retainedSize: number };
}

export interface SiteRow {
  site: string;
  via?: string;
  bytesPerIteration: number;
  countPerIteration: number;
}

export interface LeakReport {
  iterations: number;
  rows: LeakRow[];
  /** Grown V8-internal classes not in `rows` (shown with -a). */
  hiddenInternal: number;
  sites: SiteRow[];
  /** Show the sampled sites even when nothing grew (-a). */
  showSites: boolean;
  samplingInterval?: number;
  tracked: boolean;
  notes: string[];
  timings: { parseMs: number[]; analyzeMs: number };
  baseline: { nodeCount: number; totalSize: number };
}

/** A sampling heap profile as the inspector returns it. */
export interface SamplingProfile {
  head: SamplingNode;
  samples: Array<{ size: number; nodeId: number; ordinal: number }>;
}

export interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId: string };
  selfSize: number;
  id: number;
  children: SamplingNode[];
}

let packageDistUrl = '';

/** Names for scripts an allocation stack leaves unnamed (evaluated cells): by script id. */
export interface ScriptNames {
  urls: Map<number, string>;
  /** For an unnamed script not in `urls`: the cell being measured, whose runs compile anew. */
  fallback?: string;
  /** Drop allocations charged to this cell (`cell-4`: the one running the magic). */
  exclude?: string;
}

export function nameFrames(frames: TraceFrame[], names: ScriptNames | undefined): TraceFrame[] {
  if (!names) return frames;
  return frames.map((f) => {
    if (f.url || !f.scriptId || f.scriptId <= 0) return f;
    const url = names.urls.get(f.scriptId) ?? names.fallback;
    return url ? { ...f, url } : f;
  });
}
/** dist/ of tsprof: frames from the kernel itself are never an allocation site. */
export function setPackageDistUrl(url: string): void {
  packageDistUrl = url;
}

function isUserUrl(url: string): boolean {
  if (url.startsWith('cell-')) return true;
  if (url.startsWith('file://') || url.startsWith('/')) return !url.includes('/node_modules/') && !(packageDistUrl && url.startsWith(packageDistUrl));
  return false;
}

/** `cell-3:2(makeHandler)`; line is 1-based (the function's first line). */
export function siteLabel(name: string, url: string, line: number): string {
  if (!url) return `${name || '(anonymous)'} (native)`;
  // A script's top level is a function starting at line 1 (V8 reports 0 or 1 for it).
  const fn = name || (url.startsWith('cell-') && line <= 1 ? '<cell>' : '(anonymous)');
  return `${displayFile(url)}:${Math.max(1, line)}(${fn})`;
}

/**
 * The user frame an allocation is charged to, and the innermost frame when that differs. Only
 * stacks that pass through a cell count: everything else is the kernel (or Node) at work.
 */
export function chooseSite(frames: TraceFrame[], exclude?: string): { site: string; via?: string } | undefined {
  const real = frames.filter((f) => f.url || f.name);
  if (!real.some((f) => f.url.startsWith('cell-'))) return undefined;
  const user = real.find((f) => isUserUrl(f.url));
  const leaf = real[0];
  // tsprof's own code at work for a magic the cell called: not the user's allocation.
  const innermostScript = real.find((f) => f.url);
  if (packageDistUrl && innermostScript?.url.startsWith(packageDistUrl)) return undefined;
  if (exclude && user && displayFile(user.url) === exclude) return undefined;
  const leafLabel = siteLabel(leaf.name, leaf.url, leaf.line);
  if (!user) return { site: leafLabel };
  const site = siteLabel(user.name, user.url, user.line);
  return user === leaf ? { site } : { site, via: leafLabel };
}

/**
 * Growth per run: the median of the N steps, so a one-off allocation by the kernel in one step
 * (an Array, an Object) does not turn +1 into +1.2.
 */
function medianStep(xs: number[]): number {
  const d = xs.slice(1).map((x, i) => x - xs[i]).sort((a, b) => a - b);
  const m = d.length >> 1;
  return d.length % 2 ? d[m] : (d[m - 1] + d[m]) / 2;
}

/** Strictly increasing at every step. */
function increasing(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i] > xs[i - 1])) return false;
  return xs.length > 1;
}

/**
 * Per-class retained size: the sum of the retained sizes of the class's instances that no other
 * instance of the same class dominates (DevTools' "retained size" of a constructor group).
 */
export function classRetained(snap: HeapSnapshot, dom: { idom: Int32Array; retained: Float64Array }): Map<string, number> {
  const n = snap.nodeCount;
  const { idom, retained } = dom;
  const first = new Uint32Array(n + 1);
  for (let v = 1; v < n; v++) if (idom[v] >= 0) first[idom[v] + 1]++;
  for (let v = 0; v < n; v++) first[v + 1] += first[v];
  const fill = first.slice(0, n);
  const children = new Uint32Array(first[n]);
  for (let v = 1; v < n; v++) if (idom[v] >= 0) children[fill[idom[v]]++] = v;
  const { classOf, classes } = snap.classes();
  const active = new Int32Array(classes.length);
  const sums = new Float64Array(classes.length);
  const stack = new Uint32Array(n);
  const cursor = new Uint32Array(n);
  let sp = 0;
  const enter = (v: number): void => {
    const c = classOf[v];
    if (active[c] === 0) sums[c] += retained[v];
    active[c]++;
    stack[sp] = v;
    cursor[sp] = first[v];
    sp++;
  };
  enter(0);
  while (sp > 0) {
    const v = stack[sp - 1];
    if (cursor[sp - 1] < first[v + 1]) enter(children[cursor[sp - 1]++]);
    else {
      active[classOf[v]]--;
      sp--;
    }
  }
  const out = new Map<string, number>();
  classes.forEach((c, k) => out.set(c.name, (out.get(c.name) ?? 0) + sums[k]));
  return out;
}

export function seriesPoint(snap: HeapSnapshot): SeriesPoint {
  const { classOf, classes } = snap.classes();
  const counts = new Map<string, { count: number; size: number; internal: boolean }>();
  const cnt = new Float64Array(classes.length);
  const size = new Float64Array(classes.length);
  let total = 0;
  const self = snap.a.selfSizes;
  for (let i = 0; i < snap.nodeCount; i++) {
    cnt[classOf[i]]++;
    size[classOf[i]] += self[i];
    total += self[i];
  }
  classes.forEach((c, k) => {
    if (c.name !== '(root)') counts.set(c.name, { count: cnt[k], size: size[k], internal: c.internal });
  });
  return { counts, maxId: snap.maxId(), nodeCount: snap.nodeCount, totalSize: total };
}

export interface AnalyzeInput {
  iterations: number;
  series: SeriesPoint[];
  firstRetained: Map<string, number>;
  last: HeapSnapshot;
  profile?: SamplingProfile;
  /** Only samples with a larger ordinal were taken during the iterations. */
  minOrdinal: number;
  samplingInterval?: number;
  limit: number;
  showInternal: boolean;
  parseMs: number[];
  scriptNames?: ScriptNames;
}

/** Sampling profile → surviving allocations per site, per iteration (estimates). */
export function samplingSites(profile: SamplingProfile, minOrdinal: number, interval: number, iterations: number, names?: ScriptNames): SiteRow[] {
  const parent = new Map<number, SamplingNode | undefined>();
  const byId = new Map<number, SamplingNode>();
  const walk = (node: SamplingNode, up: SamplingNode | undefined): void => {
    byId.set(node.id, node);
    parent.set(node.id, up);
    for (const c of node.children) walk(c, node);
  };
  walk(profile.head, undefined);
  const siteOf = new Map<number, { site: string; via?: string } | undefined>();
  const siteFor = (id: number): { site: string; via?: string } | undefined => {
    if (siteOf.has(id)) return siteOf.get(id);
    const frames: TraceFrame[] = [];
    for (let n = byId.get(id); n; n = parent.get(n.id)) {
      const f = n.callFrame;
      if (f.functionName === '(root)') continue;
      frames.push({ name: f.functionName, url: f.url, scriptId: Number(f.scriptId), line: f.lineNumber + 1, column: f.columnNumber + 1 });
    }
    const s = chooseSite(nameFrames(frames, names), names?.exclude);
    siteOf.set(id, s);
    return s;
  };
  const rows = new Map<string, SiteRow>();
  for (const s of profile.samples) {
    if (s.ordinal <= minOrdinal) continue;
    const site = siteFor(s.nodeId);
    if (!site) continue;
    // V8 scales each sample by 1 / (1 - e^(-size/interval)): the allocations it stands for.
    const weight = 1 / (1 - Math.exp(-s.size / interval));
    const key = `${site.site}\u0000${site.via ?? ''}`;
    const row = rows.get(key) ?? { site: site.site, via: site.via, bytesPerIteration: 0, countPerIteration: 0 };
    row.bytesPerIteration += (s.size * weight) / iterations;
    row.countPerIteration += weight / iterations;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.bytesPerIteration - a.bytesPerIteration);
}

/**
 * The instance to show a path for: among new instances (a sample of at most 400), the most common
 * path shape (edge kinds and names, element indices ignored, and the class of each holder) wins,
 * and within it the instance with an allocation stack, then the largest retained size, then the
 * newest. One odd instance (a temporary the kernel held) then does not stand for the growth.
 */
function representative(snap: HeapSnapshot, list: number[], paths: { parentEdge: Int32Array; parentNode: Int32Array }, retained: Float64Array): { node: number; share: number } {
  const { classOf } = snap.classes();
  const { edgeTypes, edgeNames } = snap.a;
  const element = snap.et.element;
  const hidden = snap.et.hidden;
  const traces = snap.a.traces;
  const step = Math.max(1, Math.floor(list.length / 400));
  // Internal edges into a Map's or Set's table are named by slot number: ignore it like an index.
  const numericMemo = new Map<number, boolean>();
  const numeric = (nameIndex: number): boolean => {
    let v = numericMemo.get(nameIndex);
    if (v === undefined) numericMemo.set(nameIndex, (v = /^\d+$/.test(snap.a.strings[nameIndex] ?? '')));
    return v;
  };
  const groups = new Map<string, { count: number; best: number }>();
  let sampled = 0;
  const better = (a: number, b: number): boolean => {
    const ta = traces ? traces.nodeTrace[a] > 0 : false;
    const tb = traces ? traces.nodeTrace[b] > 0 : false;
    if (ta !== tb) return ta;
    if (retained[a] !== retained[b]) return retained[a] > retained[b];
    return snap.id(a) > snap.id(b);
  };
  for (let j = 0; j < list.length; j += step) {
    const i = list[j];
    sampled++;
    const parts: number[] = [];
    for (let cur = i, depth = 0; cur > 0 && depth < 64; depth++) {
      const e = paths.parentEdge[cur];
      if (e < 0) break;
      const t = edgeTypes[e];
      parts.push(t, t === element || t === hidden || numeric(edgeNames[e]) ? -1 : edgeNames[e], classOf[paths.parentNode[cur]]);
      cur = paths.parentNode[cur];
    }
    const sig = parts.join(',');
    const g = groups.get(sig);
    if (!g) groups.set(sig, { count: 1, best: i });
    else {
      g.count++;
      if (better(i, g.best)) g.best = i;
    }
  }
  let top: { count: number; best: number } | undefined;
  for (const g of groups.values()) if (!top || g.count > top.count || (g.count === top.count && better(g.best, top.best))) top = g;
  return { node: top!.best, share: top!.count / sampled };
}

export function analyzeLeaks(input: AnalyzeInput): LeakReport {
  const t0 = performance.now();
  const { series, iterations: N, last } = input;
  const notes: string[] = [];
  const base = series[0];
  const final = series[series.length - 1];
  // Classes that grew on every iteration: count or self size strictly increasing.
  const grown: string[] = [];
  for (const [cls, fin] of final.counts) {
    if (cls === '(root)') continue;
    const counts = series.map((p) => p.counts.get(cls)?.count ?? 0);
    const sizes = series.map((p) => p.counts.get(cls)?.size ?? 0);
    if ((increasing(counts) || increasing(sizes)) && fin.size > (base.counts.get(cls)?.size ?? 0)) grown.push(cls);
  }
  const rows: LeakRow[] = [];
  if (grown.length) {
    const dom = last.dominators();
    const lastRetained = classRetained(last, dom);
    const paths = last.shortestPaths();
    const { classOf, classes } = last.classes();
    const grownNames = new Set(grown);
    const grownIdx = new Set<number>();
    classes.forEach((c, k) => {
      if (grownNames.has(c.name)) grownIdx.add(k);
    });
    // New instances (object ids past the baseline's) of each grown class, and allocation sites
    // of the ones the tracked iteration allocated.
    const candidates = new Map<number, number[]>();
    const newCount = new Map<number, number>();
    const sites = new Map<number, Map<string, AllocationSite>>();
    const siteMemo = new Map<number, { site: string; via?: string } | undefined>();
    const traces = last.a.traces;
    // Embedder (native) nodes such as ArrayBuffer data have address-derived ids: they are new
    // when the object that owns them (their dominator) is.
    const nativeType = last.t.native;
    const isNew = (i: number): boolean => {
      if (last.a.nodeTypes[i] !== nativeType) return last.isNewerThan(i, base.maxId);
      const owner = dom.idom[i];
      return owner > 0 && last.a.nodeTypes[owner] !== nativeType && last.isNewerThan(owner, base.maxId);
    };
    // Objects of grown classes first seen in the last snapshot, and how many have a stack.
    const previousMaxId = series[N - 1].maxId;
    let lastRunObjects = 0;
    let lastRunTraced = 0;
    for (let i = 0; i < last.nodeCount; i++) {
      const c = classOf[i];
      if (!grownIdx.has(c) || !isNew(i)) continue;
      if (traces && last.a.nodeTypes[i] !== nativeType && last.isNewerThan(i, previousMaxId)) {
        lastRunObjects++;
        if (traces.nodeTrace[i]) lastRunTraced++;
      }
      newCount.set(c, (newCount.get(c) ?? 0) + 1);
      if (paths.dist[i] >= 0) {
        const list = candidates.get(c) ?? [];
        list.push(i);
        candidates.set(c, list);
      }
      if (traces && traces.nodeTrace[i]) {
        const t = traces.nodeTrace[i];
        let s = siteMemo.get(t);
        if (!siteMemo.has(t)) {
          s = chooseSite(nameFrames(last.allocationStack(i), input.scriptNames));
          siteMemo.set(t, s);
        }
        if (s) {
          const m = sites.get(c) ?? new Map<string, AllocationSite>();
          const key = `${s.site}\u0000${s.via ?? ''}`;
          const row = m.get(key) ?? { site: s.site, via: s.via, count: 0, share: 0 };
          row.count++;
          m.set(key, row);
          sites.set(c, m);
        }
      }
    }
    if (lastRunObjects >= 10 && lastRunTraced < lastRunObjects / 2) {
      notes.push(`allocation stacks were lost for ${lastRunObjects - lastRunTraced} of ${lastRunObjects} objects of the tracked run (V8 drops an object's stack when a GC moves it after the inspector's periodic id refresh, which runs when the cell awaits); "allocated at" is incomplete, the sampled table is not affected`);
    }
    const example = new Map<number, { node: number; share: number }>();
    for (const [c, list] of candidates) example.set(c, representative(last, list, paths, dom.retained));
    for (const cls of grown) {
      const k = classes.findIndex((c) => c.name === cls);
      const counts = series.map((p) => p.counts.get(cls)?.count ?? 0);
      const sizes = series.map((p) => p.counts.get(cls)?.size ?? 0);
      const internal = final.counts.get(cls)?.internal ?? false;
      const rep = example.get(k);
      let ex = rep?.node;
      if (ex === undefined && k >= 0) {
        // Size grew without new instances: show the largest instance.
        let best = -1;
        for (let i = 0; i < last.nodeCount; i++) if (classOf[i] === k && paths.dist[i] >= 0 && (best < 0 || last.selfSize(i) > last.selfSize(best))) best = i;
        if (best >= 0) ex = best;
      }
      const steps = ex !== undefined ? last.pathTo(ex, paths) : undefined;
      const siteMap = sites.get(k);
      const total = siteMap ? [...siteMap.values()].reduce((a, s) => a + s.count, 0) : 0;
      const allocatedAt = siteMap ? [...siteMap.values()].sort((a, b) => b.count - a.count).map((s) => ({ ...s, share: s.count / total })) : [];
      const isClosure = ex !== undefined && last.type(ex) === 'closure';
      let definedAt: string | undefined;
      if (isClosure) {
        const loc = last.closureLocation(ex!);
        const url = loc && loc.scriptId > 0 ? input.scriptNames?.urls.get(loc.scriptId) ?? input.scriptNames?.fallback : undefined;
        if (loc && url) definedAt = `${displayFile(url)}:${loc.line + 1}`;
      }
      rows.push({
        cls,
        internal,
        counts,
        sizes,
        countPerIteration: medianStep(counts),
        bytesPerIteration: medianStep(sizes),
        retainedPerIteration: ((lastRetained.get(cls) ?? 0) - (input.firstRetained.get(cls) ?? 0)) / N,
        newObjects: newCount.get(k) ?? 0,
        path: formatPath(steps),
        pathShare: rep?.share,
        pathSteps: steps,
        allocatedAt,
        definedAt,
        captures: isClosure ? last.captures(ex!, dom.retained).sort((a, b) => b.size - a.size) : undefined,
        example: ex !== undefined ? { id: last.id(ex), selfSize: last.selfSize(ex), retainedSize: dom.retained[ex] } : undefined,
      });
    }
  }
  rows.sort((a, b) => b.retainedPerIteration - a.retainedPerIteration || b.bytesPerIteration - a.bytesPerIteration || b.countPerIteration - a.countPerIteration);
  const visible = input.showInternal ? rows : rows.filter((r) => !r.internal);
  const hiddenInternal = rows.length - visible.length;
  const sites = input.profile && input.samplingInterval ? samplingSites(input.profile, input.minOrdinal, input.samplingInterval, N, input.scriptNames) : [];
  if (!last.a.traces) notes.push('allocation sites per class need the last run tracked (skipped); the site table below is from sampling');
  return {
    iterations: N,
    rows: visible.slice(0, input.limit),
    hiddenInternal,
    sites,
    showSites: input.showInternal,
    samplingInterval: input.samplingInterval,
    tracked: Boolean(last.a.traces),
    notes,
    timings: { parseMs: input.parseMs, analyzeMs: performance.now() - t0 },
    baseline: { nodeCount: base.nodeCount, totalSize: base.totalSize },
  };
}
