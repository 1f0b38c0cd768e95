// A CPU profile as the user's call tree: the kernel's own frames (and everything above the
// statement) are cut away, each sample gets its duration, and stacks are merged into a tree that
// both the pstats table and the flame graph read.
import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import type { CallFrame, CpuProfile, ProfileNode } from './inspector.js';

/** dist/ of this package: frames from here are the kernel's, never the user's. */
const PACKAGE_DIST = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url))))) + sep;
export const PACKAGE_DIST_URL = `file://${PACKAGE_DIST}`;

export interface FunctionId {
  key: string;
  name: string;
  url: string;
  /** 0-based, as V8 reports it. */
  line: number;
  column: number;
  scriptId: string;
}

export interface TreeNode {
  fn: FunctionId;
  /** Time with this node on top of the stack, µs. */
  self: number;
  /** Time with this node anywhere on the stack, µs. */
  total: number;
  samples: number;
  children: Map<string, TreeNode>;
  /** Per-line self time inside this function, µs (from positionTicks, for %lprun). */
  lines: Map<number, number>;
}

export interface UserProfile {
  root: TreeNode;
  /** Sampled time attributed to user code, µs. */
  sampled: number;
  sampleCount: number;
  intervalUs: number;
  /** Every sample's user stack (root first) and duration, for stats that need whole stacks. */
  stacks: Array<{ frames: FunctionId[]; duration: number }>;
}

function isKernelFrame(f: CallFrame): boolean {
  // node:internal/async_hooks: the kernel's AsyncLocalStorage (which cell is running) hooks every promise the statement makes.
  return f.url.startsWith(PACKAGE_DIST_URL) || f.url.startsWith(PACKAGE_DIST) || f.url === 'node:inspector' || f.url.startsWith('magic-') || f.url === 'tsprof-runner' || f.url === 'node:internal/async_hooks';
}

/**
 * The statement always runs as a cell script (`cell-N` or `cell-N.K`), so user code starts at the
 * first such frame: everything above it is the kernel calling it (with its own dependencies).
 */
function isStatementFrame(f: CallFrame): boolean {
  return f.url.startsWith('cell-');
}

/** What an unnamed function is called: a cell's or a module's top level (as cProfile's `<module>`), else `<anonymous>`. */
export function unnamed(url: string, line: number, column: number): string {
  if (url.startsWith('cell-')) return '<cell>';
  return line === 0 && column === 0 && url.startsWith('file:') ? '<module>' : '<anonymous>';
}

export function functionId(f: CallFrame): FunctionId {
  // A script's top level that was already running when a profile started is reported at -1:-1
  // (seen on the second phase of a fine-then-coarse run); it is the code at 0:0.
  const [line, column] = f.lineNumber < 0 && f.url ? [0, 0] : [f.lineNumber, f.columnNumber];
  const name = f.functionName || unnamed(f.url, line, column);
  return { key: `${f.url}:${line}:${column}:${name}`, name, url: f.url, line, column, scriptId: f.scriptId };
}

function newNode(fn: FunctionId): TreeNode {
  return { fn, self: 0, total: 0, samples: 0, children: new Map(), lines: new Map() };
}

/** Durations of each sample in µs: the gap to the next sample (the last one gets the mean gap). */
function sampleDurations(p: CpuProfile, window?: { startUs: number; endUs: number }): number[] {
  const n = p.samples.length;
  const times: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < n; i++) times.push((t += p.timeDeltas[i] ?? 0));
  const out = new Array<number>(n);
  for (let i = 0; i < n - 1; i++) out[i] = Math.max(0, times[i + 1] - times[i]);
  if (n > 0) out[n - 1] = Math.max(0, Math.min(p.endTime - times[n - 1], n > 1 ? (times[n - 1] - times[0]) / (n - 1) : p.endTime - times[0]));
  // Only the statement's own time counts: a sample's span is cut to the window it ran in, so
  // the sampled total never exceeds the statement's wall time.
  if (window) for (let i = 0; i < n; i++) out[i] = Math.max(0, Math.min(times[i] + out[i], window.endUs) - Math.max(times[i], window.startUs));
  return out;
}

export interface UserStackRules {
  /** Where user code begins on a stack: by default the statement's cell (a magic); the command line starts at the script's first frame. */
  isStart?: (f: CallFrame) => boolean;
  /** Frames of tsprof's own work inside the program (the command line's runner writing its profile): samples through them are left out. */
  exclude?: (f: CallFrame) => boolean;
  /** The statement's start and end on the profile's clock (µs): sample time outside it is nobody's. */
  window?: { startUs: number; endUs: number };
}

export function userProfile(p: CpuProfile, intervalUs: number, rules: UserStackRules = {}): UserProfile {
  const isStart = rules.isStart ?? isStatementFrame;
  const byId = new Map<number, ProfileNode>(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Stacks repeat a lot: memoize each profile node's user stack.
  const stackOf = new Map<number, FunctionId[] | null>();
  const userStack = (id: number): FunctionId[] | null => {
    const cached = stackOf.get(id);
    if (cached !== undefined) return cached;
    const chain: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) chain.push(byId.get(cur)!.callFrame);
    chain.reverse();
    let result: FunctionId[] | null = null;
    if (rules.exclude && chain.some(rules.exclude)) result = null;
    else if (chain.some((f) => f.functionName === '(garbage collector)')) {
      result = [{ key: '(garbage collector)', name: '<garbage collector>', url: '', line: -1, column: -1, scriptId: '' }];
    } else {
      // Everything above the first user frame is the kernel calling the statement.
      const start = chain.findIndex(isStart);
      if (start >= 0) result = chain.slice(start).filter((f) => !isKernelFrame(f)).map(functionId);
    }
    stackOf.set(id, result);
    return result;
  };

  const rootFn: FunctionId = { key: '(root)', name: '(root)', url: '', line: -1, column: -1, scriptId: '' };
  const root = newNode(rootFn);
  const durations = sampleDurations(p, rules.window);
  const stacks: UserProfile['stacks'] = [];
  let sampled = 0;
  let count = 0;
  // Line ticks: the leaf node's positionTicks are per profile node, so attribute them proportionally.
  const lineShare = new Map<number, Array<[number, number]>>();
  for (const n of p.nodes) {
    if (!n.positionTicks?.length) continue;
    const total = n.positionTicks.reduce((a, t) => a + t.ticks, 0);
    lineShare.set(n.id, n.positionTicks.map((t) => [t.line, t.ticks / total]));
  }
  for (let i = 0; i < p.samples.length; i++) {
    const frames = userStack(p.samples[i]);
    if (!frames || frames.length === 0) continue;
    const d = durations[i];
    sampled += d;
    count++;
    stacks.push({ frames, duration: d });
    root.total += d;
    let node = root;
    for (const f of frames) {
      let child = node.children.get(f.key);
      if (!child) node.children.set(f.key, (child = newNode(f)));
      child.total += d;
      node = child;
    }
    node.self += d;
    node.samples++;
    for (const [line, share] of lineShare.get(p.samples[i]) ?? []) node.lines.set(line, (node.lines.get(line) ?? 0) + d * share);
  }
  return { root, sampled, sampleCount: count, intervalUs, stacks };
}

/** The filtered tree back in DevTools' `.cpuprofile` format, so DevTools and speedscope show the user's code only. */
export function toCpuProfile(up: UserProfile, original: CpuProfile): CpuProfile {
  const nodes: ProfileNode[] = [];
  let nextId = 1;
  const ids = new Map<TreeNode, number>();
  const visit = (n: TreeNode): number => {
    const id = nextId++;
    ids.set(n, id);
    const frame: CallFrame = n.fn.key === '(root)'
      ? { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }
      : { functionName: n.fn.name, scriptId: n.fn.scriptId, url: n.fn.url, lineNumber: n.fn.line, columnNumber: n.fn.column };
    const node: ProfileNode = { id, callFrame: frame, hitCount: n.samples, children: [] };
    nodes.push(node);
    for (const c of n.children.values()) node.children!.push(visit(c));
    if (n.lines.size) node.positionTicks = [...n.lines].map(([line, us]) => ({ line, ticks: Math.max(1, Math.round(us / up.intervalUs)) }));
    return id;
  };
  visit(up.root);
  // Re-derive samples: walk each recorded stack to its node. A sample lasts until the next one
  // (DevTools and speedscope read it so), so each delta is the previous sample's duration.
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let previous = 0;
  for (const s of up.stacks) {
    let n = up.root;
    for (const f of s.frames) n = n.children.get(f.key)!;
    samples.push(ids.get(n)!);
    timeDeltas.push(previous);
    previous = Math.round(s.duration);
  }
  const startTime = original.startTime;
  return { nodes, startTime, endTime: startTime + timeDeltas.reduce((a, b) => a + b, 0) + previous, samples, timeDeltas };
}
