// Exact call counts for %prun's default run: a counter compiled into every function of the cells'
// scripts for the length of one run, through V8's LiveEdit (`Debugger.setScriptSource`), then the
// original put back.
//
// Measured on this kernel (fib(32), primes(100,000)): one counter at function entry costs 0-5%;
// V8's precise coverage with call counts costs about 2.2x, and tracking depth on entry and exit
// (try/finally) about 1.6x on fib. So primitive calls (cProfile's `242785/1`) come from a second
// counter on the function's calls to itself by name: primitive = calls - self calls. That is
// exact for direct recursion, the common case; a cycle through other functions (a -> b -> a)
// counts as primitive here, where cProfile would not.
//
// The counters are global constants of the user's realm bound for the run (host.ts
// bindUserConstant), so the recompiled functions keep their scopes, LiveEdit patches the closures
// that already exist, and optimized code reads each counter array as a constant. They are
// Uint32Arrays: a Float64Array's `++` measured 1.49x plain on fib(32) against 1.27x; a count wraps
// past 2^32 - 1 calls of one function in one run (over a second of nothing but calls).
// Probes add no newlines: lines stay put.
import { parse } from 'acorn';
import { transform } from 'sucrase';
import { ensureDebugger, latestScript, scriptSource, setScriptSource } from './v8/debugger.js';
import { lineAt, lineStarts } from './v8/lines.js';
// The cells run in the user's realm (host.ts): the counters must be its globals, not the kernel's.
import { bindUserConstant, freshConstantName } from './host.js';

export interface CountedFunction {
  url: string;
  name: string;
  /** Offsets in the instrumented script (the one that runs while counting). */
  start: number;
  end: number;
  /** 0-based line (the same in the original and the instrumented script). */
  line: number;
  slot: number;
  calls: number;
  /** Calls to itself by name from its own body. */
  selfCalls: number;
}

interface AstNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

type Edit = { at: number; text: string };

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** A function's name as V8 infers it for the common forms: declarations, `const f = …`, methods, `obj.f = …`. */
function nameOf(fn: AstNode, parent: AstNode | undefined): string {
  const id = fn.id as AstNode | null | undefined;
  if (id && typeof id.name === 'string') return id.name;
  if (!parent) return '';
  const keyName = (k: unknown): string => {
    const key = k as AstNode | undefined;
    if (!key) return '';
    if (key.type === 'Identifier') return key.name as string;
    if (key.type === 'PrivateIdentifier') return `#${key.name as string}`;
    if (key.type === 'Literal') return String(key.value);
    return '';
  };
  if (parent.type === 'VariableDeclarator') return keyName(parent.id);
  if (parent.type === 'MethodDefinition' || parent.type === 'Property' || parent.type === 'PropertyDefinition') return keyName(parent.key);
  if (parent.type === 'AssignmentExpression') {
    const left = parent.left as AstNode;
    if (left.type === 'Identifier') return left.name as string;
    if (left.type === 'MemberExpression') return keyName(left.property);
  }
  return '';
}

/**
 * The script with a counter at the start of every function and a self-call counter around each
 * call of a function to its own name. Slots are numbered from `firstSlot`.
 */
export function instrumentCounters(js: string, firstSlot: number, names: { calls: string; self: string }, sourceType: 'script' | 'module' = 'script'): { code: string; functions: Array<Omit<CountedFunction, 'url' | 'calls' | 'selfCalls'>>; slots: number; named: boolean; names: string[] } {
  const ast = parse(js, { ecmaVersion: 'latest', sourceType, allowAwaitOutsideFunction: true, allowReturnOutsideFunction: sourceType === 'script', allowHashBang: true }) as unknown as AstNode;
  const [CALLS, SELF] = [names.calls, names.self];
  const edits: Edit[] = [];
  const found: Array<{ node: AstNode; name: string; slot: number }> = [];
  let nextSlot = 0;
  const visit = (node: AstNode, parent: AstNode | undefined, fn: { name: string; slot: number } | undefined): void => {
    let inner = fn;
    if (FUNCTIONS.has(node.type)) {
      const name = nameOf(node, parent);
      const slot = firstSlot + nextSlot++;
      found.push({ node, name, slot });
      inner = { name, slot };
      const body = node.body as AstNode;
      if (body.type === 'BlockStatement') {
        // After the directive prologue ('use strict' must stay first); the `;` ends a directive written without one.
        const stmts = body.body as AstNode[];
        let at = body.start + 1;
        for (const s of stmts) {
          if (s.type !== 'ExpressionStatement' || typeof s.directive !== 'string') break;
          at = s.end;
        }
        edits.push({ at, text: `;${CALLS}[${slot}]++;` });
      } else {
        // An expression body gets a prefix only: text inserted at a function's end keeps LiveEdit
        // from matching it to the running function (measured: its closures were not patched).
        // `(count, 0) || body` is the body's value for any body that binds tighter than `||`.
        const arrow = js.lastIndexOf('=>', body.start);
        const paren = js.indexOf('(', arrow);
        const parenthesized = paren >= 0 && paren < body.start;
        const loose = body.type === 'AssignmentExpression' || body.type === 'ArrowFunctionExpression' || (body.type === 'LogicalExpression' && body.operator === '??');
        if (parenthesized || !loose) edits.push({ at: parenthesized ? paren : body.start, text: `(${CALLS}[${slot}]++, 0) || ` });
        else found.pop(); // `x => y = x`, `a => b => …`: left uncounted rather than changed in meaning
      }
    } else if (node.type === 'CallExpression' && fn?.name) {
      const callee = node.callee as AstNode;
      if (callee.type === 'Identifier' && callee.name === fn.name) edits.push({ at: callee.start, text: `(${SELF}[${fn.slot}]++, ` }, { at: callee.end, text: ')' });
    }
    for (const key of Object.keys(node)) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c === 'object' && typeof (c as AstNode).type === 'string') visit(c as AstNode, node, inner);
      } else if (v && typeof v === 'object' && typeof (v as AstNode).type === 'string') visit(v as AstNode, node, inner);
    }
  };
  visit(ast, undefined, undefined);
  // Apply in order of position; an edit's shift applies to every position after it.
  const sorted = edits.map((e, i) => ({ ...e, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  let code = '';
  let last = 0;
  for (const e of sorted) {
    code += js.slice(last, e.at) + e.text;
    last = e.at;
  }
  code += js.slice(last);
  const shift = (pos: number, inclusive: boolean): number => {
    let s = 0;
    for (const e of sorted) if (e.at < pos || (inclusive && e.at === pos)) s += e.text.length;
    return s;
  };
  const starts = lineStarts(js);
  const functions = found.map(({ node, name, slot }) => ({
    name, slot, line: lineAt(starts, node.start),
    start: node.start + shift(node.start, false), end: node.end + shift(node.end, true),
  }));
  return { code, functions, slots: nextSlot, ...topLevelDefinitions(ast) };
}

/**
 * What a script defines at its top level that keeps functions reachable after it ran: function and
 * class declarations, declarations or assignments whose value holds a function (`const f = …`,
 * `obj.m = …`, an object with methods), with the names they bind. A script whose functions are only
 * arguments of calls (`xs.map(x => …)`) defines none.
 */
function topLevelDefinitions(ast: AstNode): { named: boolean; names: string[] } {
  const holdsFunction = (n: unknown): boolean => {
    if (!n || typeof n !== 'object') return false;
    const node = n as AstNode;
    if (FUNCTIONS.has(node.type) || node.type === 'ClassExpression') return true;
    if (node.type === 'CallExpression' || node.type === 'NewExpression') return false;
    return Object.keys(node).some((k) => k !== 'type' && (Array.isArray(node[k]) ? (node[k] as unknown[]).some(holdsFunction) : holdsFunction(node[k])));
  };
  const rootName = (n: AstNode | undefined): string | undefined => {
    while (n && n.type === 'MemberExpression') n = n.object as AstNode;
    return n?.type === 'Identifier' ? (n.name as string) : undefined;
  };
  let named = false;
  const names: string[] = [];
  for (const st of ast.body as AstNode[]) {
    const s = st.type === 'ExportNamedDeclaration' || st.type === 'ExportDefaultDeclaration' ? ((st.declaration as AstNode | null) ?? st) : st;
    if (s.type === 'FunctionDeclaration' || s.type === 'ClassDeclaration') {
      named = true;
      const id = rootName(s.id as AstNode | undefined);
      if (id) names.push(id);
    } else if (s.type === 'VariableDeclaration') {
      for (const d of s.declarations as AstNode[]) {
        if (!holdsFunction(d.init)) continue;
        named = true;
        const id = rootName(d.id as AstNode);
        if (id) names.push(id);
      }
    } else if (s.type === 'ExpressionStatement' && (s.expression as AstNode).type === 'AssignmentExpression' && holdsFunction((s.expression as AstNode).right)) {
      named = true;
      const id = rootName((s.expression as AstNode).left as AstNode);
      if (id) names.push(id);
    }
  }
  return { named, names };
}

/**
 * Counters for `slots` functions. At least 64 of them: V8 keeps a typed array of 64 bytes or less
 * inside the object, and optimized code reaches such elements through two loads where an
 * off-heap array takes one (measured on fib(32): 1.26x plain on the heap, 1.16x off it).
 */
function counterArray(slots: number): Uint32Array {
  return new Uint32Array(Math.max(slots, 64));
}

/** Cells recompiled with counters at most, per run (see arm): those that define functions by name, and the others. */
export const MAX_NAMED = 24;
export const MAX_CALLBACKS_ONLY = 4;

interface Armed {
  url: string;
  /** The source that was there before (put back by disarm). */
  original: string;
  functions: Array<Omit<CountedFunction, 'url' | 'calls' | 'selfCalls'>>;
}

/** Counters in the cells' scripts for one run. */
export class CallCounters {
  private armed: Armed[] = [];
  /** Scripts that could not be counted, and why. */
  readonly skipped: Array<{ url: string; reason: string }> = [];
  /** Cells left uncounted: beyond the newest MAX_NAMED / MAX_CALLBACKS_ONLY (see arm), newest first. */
  unarmed: string[] = [];
  /** Line starts of each instrumented script (the offsets counted functions and sampled frames refer to). */
  private readonly starts = new Map<string, number[]>();
  private calls = new Uint32Array(0);
  private self = new Uint32Array(0);

  /** The URLs whose functions were counted. */
  get countedUrls(): Set<string> {
    return new Set(this.starts.keys());
  }

  lineStartsOf(url: string): number[] | undefined {
    return this.starts.get(url);
  }

  /** Recompile every script whose URL passes `want` (the newest copy of each) with counters. */
  async arm(want: (url: string) => boolean, knownUrls: Iterable<string>, mentioned: ReadonlySet<string> = new Set()): Promise<void> {
    await ensureDebugger();
    const prepared: Array<Armed & { scriptId: string; code: string; named: boolean; order: number; mentioned: boolean }> = [];
    const names = { calls: freshConstantName(), self: freshConstantName() };
    let slots = 0;
    for (const url of new Set(knownUrls)) {
      if (!want(url)) continue;
      const scriptId = latestScript(url);
      if (!scriptId) continue;
      let original: string;
      try {
        original = await scriptSource(scriptId);
      } catch {
        continue;
      }
      try {
        const { code, functions, slots: used, named, names: defined } = instrumentCounters(original, slots, names);
        if (!functions.length) continue;
        slots += used;
        prepared.push({ url, original, functions, scriptId, code, named, order: prepared.length, mentioned: defined.some((n) => mentioned.has(n)) });
      } catch (e) {
        this.skipped.push({ url, reason: `not parsed: ${(e as Error).message}` });
      }
    }
    // Each recompile walks V8's whole heap (LiveEdit finds the script's closures), and the restore
    // again: measured 40-45 ms a script in a kernel that had run 200 small cells, 20 s for one %prun
    // when every cell was recompiled. So the newest MAX_NAMED cells that define functions by name, and
    // the newest MAX_CALLBACKS_ONLY whose functions are only callbacks (`xs.map(x => …)`: usually gone
    // once the cell ran), those defining a name the statement mentions first; the rest are named in a note.
    // Cells that define a name the statement mentions come first, whatever their age.
    const newest = (a: { order: number; mentioned: boolean }, b: { order: number; mentioned: boolean }): number => Number(b.mentioned) - Number(a.mentioned) || b.order - a.order;
    const named = prepared.filter((p) => p.named).sort(newest);
    const callbacks = prepared.filter((p) => !p.named).sort(newest);
    const left = [...named.splice(Math.max(MAX_NAMED, named.filter((p) => p.mentioned).length)), ...callbacks.splice(MAX_CALLBACKS_ONLY)].sort((a, b) => b.order - a.order);
    prepared.splice(0, prepared.length, ...named, ...callbacks);
    if (left.length) this.unarmed = left.map((p) => p.url);
    if (!prepared.length) return;
    this.calls = counterArray(slots);
    this.self = counterArray(slots);
    bindUserConstant(names.calls, this.calls);
    bindUserConstant(names.self, this.self);
    for (const p of prepared) {
      try {
        await setScriptSource(p.scriptId, p.code);
        this.armed.push({ url: p.url, original: p.original, functions: p.functions });
        this.starts.set(p.url, lineStarts(p.code));
      } catch (e) {
        this.skipped.push({ url: p.url, reason: (e as Error).message });
      }
    }
  }

  /** Zero the counters (after arming, just before the statement). */
  reset(): void {
    this.calls.fill(0);
    this.self.fill(0);
  }

  /** The counts of every function that ran. */
  read(): CountedFunction[] {
    const out: CountedFunction[] = [];
    for (const a of this.armed) {
      for (const f of a.functions) {
        const calls = this.calls[f.slot];
        if (calls > 0) out.push({ ...f, url: a.url, calls, selfCalls: Math.min(calls, this.self[f.slot]) });
      }
    }
    return out;
  }

  /** Put every original back, into the copy LiveEdit made (where the functions live now). */
  async disarm(): Promise<void> {
    const armed = this.armed;
    for (const a of armed) {
      const id = latestScript(a.url);
      if (id) await setScriptSource(id, a.original).catch(() => undefined);
    }
    // The globals stay defined: a generator suspended mid-run may still hold counted code.
  }
}

/**
 * Counters in the functions a statement itself defines (a %%prun body): the statement is compiled
 * with them, so it needs no LiveEdit. Its types are stripped first (sucrase, lines kept) and the
 * JavaScript goes to the session as the statement. The counters are constants of their own for this
 * run: the functions keep them after it, harmlessly, and a later run's counters never mix with them.
 * Undefined when the statement is left as it is (a magic line in it, or it does not parse).
 */
export function countStatement(ts: string): { code: string; read: (url: string, padLines: number) => CountedFunction[] } | undefined {
  if (/^\s*%/m.test(ts)) return undefined;
  let js: string;
  try {
    js = transform(ts, { transforms: ['typescript'], disableESTransforms: true, keepUnusedImports: true }).code;
  } catch {
    return undefined;
  }
  const names = { calls: freshConstantName(), self: freshConstantName() };
  let out: ReturnType<typeof instrumentCounters> | undefined;
  for (const type of ['script', 'module'] as const) {
    try {
      out = instrumentCounters(js, 0, names, type);
      break;
    } catch {
      out = undefined;
    }
  }
  if (!out || !out.functions.length) return undefined;
  const calls = counterArray(out.slots);
  const self = counterArray(out.slots);
  bindUserConstant(names.calls, calls);
  bindUserConstant(names.self, self);
  const { functions, code } = out;
  return {
    code,
    read: (url, padLines) => functions.filter((f) => calls[f.slot] > 0).map((f) => ({
      ...f, url, line: f.line + padLines, start: f.start + padLines, end: f.end + padLines, calls: calls[f.slot], selfCalls: Math.min(calls[f.slot], self[f.slot]),
    })),
  };
}

/** Counted URLs: cells (and the chunks magics ran), never the kernel's own scripts. */
export function isCellUrl(url: string): boolean {
  return /^cell-\d+(\.\d+)?$/.test(url) || /^cell-silent\d+(\.\d+)?$/.test(url);
}
