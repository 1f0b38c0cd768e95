// The functions a line-level magic (%lprun, %mprun) is pointed at with -f: where their source is,
// a fresh copy compiled from it on the same lines (plain, with statement probes or hit counters), and
// pointing the user's binding at that copy for the run and back afterwards.
import vm from 'node:vm';
import { parse, parseExpressionAt, tokenizer } from 'acorn';
import { instrumentExpression, instrumentScript, type Instrumentation } from './instrument.js';
import { globalCountingProbes } from './probes.js';
import { FUNCTION_TYPES } from './instrument/source.js';
import { editedScripts, ensureDebugger, latestScript, scriptSource, scriptsNewestFirst, scriptUrl, setScriptSource } from './v8/debugger.js';
import { functionLocation, post, type FunctionCoverage, type ScriptCoverage } from './v8/inspector.js';
import { lineAt, lineStarts } from './v8/lines.js';
import { bindUserConstant, EngineUsageError as UsageError, freshConstantName, USER_SLOTS, userSlots, type EngineHost } from './host.js';

// The function handed to user code, in the frozen-proof slot object (host.ts).
const SLOT = 'lprun';
const READ_SLOT = `${USER_SLOTS}.${SLOT}`;

/**
 * A function to profile line by line. A cell's function is recompiled as a fresh copy and the
 * user's binding points at it for the run; a function from a file or a package is recompiled in
 * place with V8's LiveEdit (its module scope and identity stay), and put back afterwards.
 */
export interface Target {
  expr: string;
  original: Function;
  name: string;
  kind: 'cell' | 'script';
  url: string;
  /** For functions from files: the script V8 knows them by. */
  scriptId?: string;
  /** Exact JS of the cell and where the function's text sits in it. */
  js: string;
  startOffset: number;
  endOffset: number;
  firstLine: number;
  lastLine: number;
  freshUrl: string;
  fresh?: Function;
  /** The source V8 runs during the measurement: coverage offsets refer to it. */
  measured?: string;
  /** Where the function starts in `measured`. */
  measuredStart?: number;
  /**
   * A cell's class or method recompiled in place (inPlace) with line counters: the counts, by
   * 0-based line, calls in the last slot (as a copy's). Set by activate for the run.
   */
  counted?: Float64Array;
  /** Recompile in place with counters (a cell's class or method), not under coverage. */
  countInPlace?: boolean;
  /**
   * A method (`area() {…}`, `async *items() {…}`, `get size() {…}`): alone it needs `function` in
   * front, in place of its name (`replace` characters of its text): lines do not move.
   */
  head?: { replace: number; text: string };
  /** A class: its methods, static blocks and fields are profiled, in a fresh copy of the class. */
  isClass?: boolean;
  /** `-f obj.method` where the method is inherited: the copy is an own property for the run, deleted after. */
  ownBefore?: boolean;
}

let freshCount = 0;

function describeValue(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : `a ${typeof v}`;
}

export async function resolveTarget(ctx: EngineHost, expr: string, magic = 'lprun'): Promise<Target> {
  let value: unknown;
  try {
    value = await ctx.runCode(`(${expr})`);
  } catch (e) {
    throw new UsageError(`%${magic}: -f ${expr}: ${(e as Error).message}`);
  }
  if (typeof value !== 'function') throw new UsageError(`%${magic}: -f ${expr} is not a function (it is ${describeValue(value)})`);
  const src = Function.prototype.toString.call(value);
  if (/\{\s*\[native code\]\s*\}$/.test(src)) throw new UsageError(`%${magic}: -f ${expr} is a native function; there are no lines to profile`);
  let found: Omit<Target, 'expr' | 'original' | 'freshUrl' | 'kind'> | undefined;
  for (const [url, source] of ctx.sources) {
    const at = source.js.lastIndexOf(src);
    if (at < 0) continue;
    const starts = lineStarts(source.js);
    found = { name: (value as Function).name || expr, url, js: source.js, startOffset: at, endOffset: at + src.length, firstLine: lineAt(starts, at), lastLine: lineAt(starts, at + src.length - 1) };
  }
  if (found) return { ...found, ...shapeOf(src), kind: 'cell', expr, original: value as Function, freshUrl: `${magic}-${++freshCount}-${found.name}` };
  return resolveScriptTarget(expr, value as Function, src, magic);
}

/**
 * A cell's method that cannot be compiled alone (it uses `#private` names or `super`), to be
 * recompiled in place in its cell's script (LiveEdit, as a file's function is) instead of as a fresh
 * copy: the objects made before the run carry the original class's private brand. Its probes are
 * bare counters on a global (globalCountingProbes): they declare nothing, so the scope LiveEdit
 * patches stays as it was. Other targets are returned as they are.
 */
export async function inPlace(t: Target, magic: string): Promise<Target> {
  if (t.kind !== 'cell' || t.isClass || !t.head || !needsItsClass(t)) return t;
  const src = Function.prototype.toString.call(t.original);
  return { ...(await resolveScriptTarget(t.expr, t.original, src, magic)), ...shapeOf(src), name: t.name, countInPlace: true };
}

/** A function defined in a file or a package: find its script and where its text sits in it. */
async function resolveScriptTarget(expr: string, fn: Function, src: string, magic: string): Promise<Target> {
  userSlots[SLOT] = fn;
  let location: Awaited<ReturnType<typeof functionLocation>>;
  try {
    const { result } = await post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: READ_SLOT, objectGroup: 'tsprof-targets' });
    location = result.objectId ? await functionLocation(result.objectId) : undefined;
  } finally {
    delete userSlots[SLOT];
    await post('Runtime.releaseObjectGroup', { objectGroup: 'tsprof-targets' });
  }
  if (!location) throw new UsageError(`%${magic}: -f ${expr}: V8 does not say where this function is defined`);
  await ensureDebugger();
  const known = scriptUrl(location.scriptId);
  // A function of a script LiveEdit recompiled lives in a copy no session was told of, served under
  // the id of the script that was edited (editedScripts): take the newest candidate whose source
  // holds the function's text where V8 says it starts.
  const candidates = known === undefined ? editedScripts() : known.startsWith('file:') ? scriptsNewestFirst(known) : [];
  let scriptId = location.scriptId;
  let js = '';
  let at = -1;
  for (const id of [...candidates, location.scriptId]) {
    const text = await scriptSource(id).catch(() => '');
    const starts = lineStarts(text);
    const near = (starts[location.lineNumber] ?? 0) + location.columnNumber;
    for (let i = text.indexOf(src); i >= 0; i = text.indexOf(src, i + 1)) if (i <= near && near < i + src.length) at = i;
    if (at >= 0) {
      [scriptId, js] = [id, text];
      break;
    }
  }
  if (at < 0) throw new UsageError(`%${magic}: -f ${expr}: its source text could not be found in its script`);
  const url = scriptUrl(scriptId) ?? `script ${scriptId}`;
  const starts = lineStarts(js);
  return {
    kind: 'script', expr, original: fn, name: fn.name || expr, url, scriptId, js,
    startOffset: at, endOffset: at + src.length, firstLine: lineAt(starts, at), lastLine: lineAt(starts, at + src.length - 1), freshUrl: `${magic}-${++freshCount}-${fn.name || 'fn'}`,
  };
}

/**
 * What a function's text is: a function or arrow (compiles alone in parentheses), a class, or a
 * method, whose name is replaced by `function` for its copy (what the copy's head becomes).
 */
export function shapeOf(src: string): Pick<Target, 'head' | 'isClass'> {
  const options = { ecmaVersion: 'latest', allowAwaitOutsideFunction: true } as const;
  try {
    const e = parseExpressionAt(`(${src}\n)`, 0, options) as unknown as { end: number; expression?: unknown };
    if (e.end === src.length + 1 || e.end === src.length + 3) return /^class\b/.test(src) ? { isClass: true } : {};
  } catch {
    // Not an expression alone: a method.
  }
  // A method: its head is everything before the parameters' `(` (a computed key's brackets
  // skipped). Read from tokens: its body may use private names, which do not parse outside the class.
  try {
    const tokens = [...tokenizer(src, options)];
    let depth = 0;
    for (const [i, tok] of tokens.entries()) {
      const label = tok.type.label;
      if (label === '[') depth++;
      else if (label === ']') depth--;
      else if (label === '(' && depth === 0 && i > 0) {
        const before = tokens.slice(0, i);
        const async = before.length > 1 && before[0].type.label === 'name' && (before[0] as { value?: unknown }).value === 'async';
        const generator = before.some((t) => t.type.label === '*');
        return { head: { replace: tok.start, text: `${async ? 'async ' : ''}function${generator ? '*' : ''} ` } };
      }
    }
  } catch {
    // Leave it to the compiler to say what is wrong.
  }
  return {};
}

/** Slots a counters array needs for a target: one per line, and the last for calls. */
export function counterSlots(t: Target): number {
  return t.lastLine + 2;
}

interface FnNode {
  type: string;
  start: number;
  end: number;
  body?: FnNode | FnNode[];
  [key: string]: unknown;
}

/** The script's syntax tree (as a module, else as a script), or undefined when it does not parse here. */
function parseAny(js: string): FnNode | undefined {
  for (const sourceType of ['module', 'script'] as const) {
    try {
      return parse(js, { ecmaVersion: 'latest', sourceType, allowHashBang: true, allowReturnOutsideFunction: sourceType === 'script', allowAwaitOutsideFunction: true }) as unknown as FnNode;
    } catch {
      // try the other
    }
  }
  return undefined;
}

/** Visit every node of the tree, parents before children. */
function walk(n: FnNode, visit: (n: FnNode) => void): void {
  visit(n);
  for (const key of Object.keys(n)) {
    const v = n[key];
    if (Array.isArray(v)) for (const c of v) if (c && typeof c === 'object' && typeof (c as FnNode).type === 'string') walk(c as FnNode, visit);
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as FnNode).type === 'string') walk(v as FnNode, visit);
  }
}

/** `js[from, to)` with a space inserted at each of `at` that falls in it. */
function withSpaces(js: string, at: number[], from = 0, to = js.length): string {
  let out = '';
  let last = from;
  for (const p of at.filter((q) => q >= from && q < to).sort((a, b) => a - b)) {
    out += js.slice(last, p) + ' ';
    last = p;
  }
  return out + js.slice(last, to);
}

/**
 * The script with a space before the body of every function: LiveEdit recompiles every function
 * (the profiled one now under coverage), lines and the rest of the text unchanged. Every function,
 * not only the profiled one: LiveEdit moves only the functions that changed into the new copy of
 * the script, which the script's id then stands for, and a function left behind in an older copy
 * could not be reached by a later edit (measured: a second function of a file profiled after the
 * first counted nothing). Putting the original back changes every function again, so all of them
 * follow. Only the profiled function changes if the script does not parse here. With a
 * `replacement`, the profiled text is replaced whole and only the functions around it are respaced.
 */
function respaced(t: Target, replacement?: string): { measured: string; start: number } {
  const at: number[] = [];
  const ast = parseAny(t.js);
  if (ast) walk(ast, (n) => {
    if (FUNCTION_TYPES.has(n.type) && n.body && !Array.isArray(n.body)) at.push(n.body.start);
  });
  if (replacement !== undefined) {
    const outside = at.filter((p) => p < t.startOffset || p >= t.endOffset);
    const before = withSpaces(t.js, outside, 0, t.startOffset);
    return { measured: before + replacement + withSpaces(t.js, outside, t.endOffset), start: before.length };
  }
  // The profiled function's own body: its text begins at the body (a method's head is outside it).
  const bodyAt = t.js.indexOf('{', t.startOffset);
  if (!at.some((p) => p > t.startOffset && p < t.endOffset)) at.push(bodyAt > t.startOffset && bodyAt < t.endOffset ? bodyAt : t.endOffset - 1);
  return { measured: withSpaces(t.js, at), start: t.startOffset + at.filter((p) => p < t.startOffset).length };
}

/** The target's text with line counters on the global `name` (lines and the text around unchanged). */
function countedText(t: Target, name: string): string {
  const fresh = freshScript(t);
  const { code } = instrumentExpression(fresh, globalCountingProbes(name, counterSlots(t)));
  // freshScript puts the text after its lines' padding and `(`, and closes with `\n)`; the probes go inside.
  let text = code.slice(fresh.indexOf('(') + 1, code.length - 2);
  // A method was compiled as `function …`: its own head goes back.
  if (t.head) text = t.js.slice(t.startOffset, t.startOffset + t.head.replace) + text.slice(t.head.text.length);
  return text;
}

/** The original script with a space just inside the body of the class that holds `t` (undefined when none is found). */
function classSpaced(t: Target): string | undefined {
  const ast = parseAny(t.js);
  let at: number | undefined;
  if (ast) walk(ast, (n) => {
    if (n.type === 'ClassBody' && n.start < t.startOffset && t.endOffset <= n.end) {
      // The class's function is its constructor: a space in the constructor's body when it has one.
      const ctor = (n.body as FnNode[]).find((m) => m.type === 'MethodDefinition' && m.kind === 'constructor');
      at = ctor ? ((ctor.value as FnNode).body as FnNode).start + 1 : n.start + 1;
    }
  });
  return at === undefined ? undefined : withSpaces(t.js, [at]);
}

/** Swap in the version to measure: a fresh copy (plain or instrumented) for a cell's function, a recompiled one for a file's. */
export async function activate(ctx: EngineHost, t: Target, instrumentation?: Instrumentation): Promise<void> {
  if (t.kind === 'cell') {
    t.fresh = compileFresh(t, instrumentation);
    await bindCopy(ctx, t, t.fresh);
    return;
  }
  // Measured: LiveEdit reports success for a version with statement probes but leaves the live
  // function as it was (a changed scope is not patched into existing closures), so probes need a
  // function from a cell.
  if (instrumentation) throw new UsageError(`-f ${t.expr} is defined in ${t.url}: statement probes (%lprun -x, %mprun) need a function defined in a notebook cell; %lprun without -x profiles it`);
  if (t.countInPlace) {
    t.counted = new Float64Array(counterSlots(t));
    const name = freshConstantName();
    bindUserConstant(name, t.counted);
    // Only the method changes: measured, spaces in the other functions as well kept LiveEdit from
    // matching the probed method to the running one (nothing counted).
    t.measured = t.js.slice(0, t.startOffset) + countedText(t, name) + t.js.slice(t.endOffset);
    t.measuredStart = t.startOffset;
  } else ({ measured: t.measured, start: t.measuredStart } = respaced(t));
  try {
    await setScriptSource(t.scriptId!, t.measured);
  } catch (e) {
    // LiveEdit refuses to change a function that is running (a test file's async test body that
    // calls lineProfile: BlockedByActiveGenerator / BlockedByActiveFunction). Then only the profiled
    // function changes, as before the respacing: the script's other functions stay where they are.
    const alone = t.countInPlace || !/Blocked/.test((e as Error).message) ? undefined : respacedAlone(t);
    try {
      if (!alone) throw e;
      await setScriptSource(t.scriptId!, alone);
      [t.measured, t.measuredStart] = [alone, t.startOffset];
    } catch (e2) {
      t.measured = undefined;
      throw new UsageError(`-f ${t.expr}: V8 could not recompile it in place (${(e2 as Error).message}); %prun profiles it`);
    }
  }
}

/** The script with a space before the profiled function's last character only. */
function respacedAlone(t: Target): string {
  return withSpaces(t.js, [t.endOffset - 1]);
}

/** Put the original back (into the newest copy of the script, where the function now lives). */
export async function deactivate(ctx: EngineHost, t: Target): Promise<void> {
  if (t.kind === 'cell') await unbindCopy(ctx, t);
  else if (t.measured !== undefined && t.countInPlace) {
    // LiveEdit moves a function to the new copy only when its own text changed: putting the original
    // back leaves the class around the method in the probed copy (`String(Class)` showed the probes).
    // A space in the class's own text first, then the original: the class moves twice, to the original.
    const spaced = classSpaced(t);
    if (spaced) await setScriptSource(t.scriptId!, spaced);
    await setScriptSource(t.scriptId!, t.js);
  } else if (t.measured !== undefined) await setScriptSource(latestScript(t.url) ?? t.scriptId!, t.js);
}


/** The source the coverage offsets refer to, and the coverage of the measured version. */
export function measuredCoverage(t: Target, coverage: ScriptCoverage[]): { source: string; functions: FunctionCoverage[] | undefined; start: number } {
  if (t.kind === 'cell') {
    // In the fresh script the function starts after the padding and the opening parenthesis.
    const start = t.firstLine + (t.startOffset - lineStarts(t.js)[t.firstLine]) + 1;
    return { source: freshScript(t), functions: coverage.find((c) => c.url === t.freshUrl)?.functions, start };
  }
  // LiveEdit moved the function to a new script with the same URL: take the one where it ran.
  const ran = coverage.filter((c) => c.url === t.url).sort((a, b) => Number(b.scriptId) - Number(a.scriptId));
  const start = t.measuredStart ?? t.startOffset;
  const script = ran.find((c) => c.functions.some((f) => f.ranges[0]?.startOffset === start && f.ranges[0].count > 0)) ?? ran[0];
  return { source: t.measured ?? t.js, functions: script?.functions, start };
}

/** Does a profile frame run the target's code? */
export function inTarget(t: Target, fn: { url: string; scriptId: string; line: number }): boolean {
  // A file's function runs in a LiveEdit copy of its script: the same URL and lines, another script id.
  return t.kind === 'cell' ? fn.url === t.freshUrl : fn.url === t.url && fn.line >= t.firstLine && fn.line <= t.lastLine;
}

/** `a.b.c` → holder `a.b` and key `'c'` (as code); `a[k]` → `a` and `k`; undefined for a plain name. */
function memberOf(expr: string): { holder: string; key: string } | undefined {
  try {
    const e = parseExpressionAt(expr, 0, { ecmaVersion: 'latest' }) as unknown as { type: string; end: number; computed: boolean; object: { start: number; end: number }; property: { type: string; name: string; start: number; end: number } };
    if (e.type !== 'MemberExpression' || e.end !== expr.length || e.property.type === 'PrivateIdentifier') return undefined;
    return { holder: expr.slice(e.object.start, e.object.end), key: e.computed ? expr.slice(e.property.start, e.property.end) : JSON.stringify(e.property.name) };
  } catch {
    return undefined;
  }
}

/** The function alone as a script, on the same lines as in its cell: padding, then `(function …\n)`. */
export function freshScript(t: { js: string; startOffset: number; endOffset: number; firstLine: number; head?: Target['head'] }): string {
  const col = t.startOffset - lineStarts(t.js)[t.firstLine];
  let text = t.js.slice(t.startOffset, t.endOffset);
  if (t.head) text = t.head.text + text.slice(t.head.replace);
  return `${'\n'.repeat(t.firstLine)}${' '.repeat(col)}(${text}\n)`;
}

/** A fresh copy of a cell's function compiled now (plain or instrumented), on the same lines as the original. */
export function compileFresh(t: Target, instrumentation?: Instrumentation): Function {
  const script = freshScript(t);
  try {
    if (!instrumentation) return vm.runInThisContext(script, { filename: t.freshUrl }) as Function;
    const factory = vm.runInThisContext(instrumentScript(script, instrumentation.style).code, { filename: t.freshUrl }) as (...args: unknown[]) => Function;
    return factory(...instrumentation.args);
  } catch (e) {
    throw recompileError(t, e);
  }
}

/**
 * Said under the table when a class copied for the run counted nothing: the copy is bound to the
 * class's name for the run, but objects made before it keep the original class's prototype.
 */
export function classNotReachedNote(t: Target, ran: boolean): string | undefined {
  if (!t.isClass || t.kind !== 'cell' || ran) return undefined;
  return `No line of ${t.expr} ran: -f ${t.expr} measures a fresh copy of the class, bound to ${t.expr} for the run, so objects made before the statement (their methods are the original class's) are not measured. Make the objects in the statement, or profile a method: -f obj.method.`;
}

/** A method using `super` or `#private` names: it compiles only inside its class. */
function needsItsClass(t: Target): boolean {
  const text = t.js.slice(t.startOffset, t.endOffset);
  return Boolean(t.head && (/\bsuper\b/.test(text) || /#[\w$]/.test(text.slice(t.head.replace))));
}

/** Why a copy of `t` did not compile, in the user's terms: a method using `super` or `#private` needs its class. */
export function recompileError(t: Target, e: unknown): UsageError {
  const message = (e as Error).message;
  if (needsItsClass(t)) return new UsageError(`-f ${t.expr} cannot be recompiled outside its class (${message}): profile the class, -f ClassName, which covers all its methods; or %lprun -f ${t.expr} without -x, which recompiles it in place`);
  return new UsageError(`-f ${t.expr} cannot be recompiled on its own (${message}); profile the function that calls it`);
}

/** Point `t`'s binding at a copy, noting whether a member was the holder's own (`sq.area` is inherited). */
export async function bindCopy(ctx: EngineHost, t: Target, copy: Function): Promise<void> {
  const member = memberOf(t.expr);
  if (member) t.ownBefore = (await ctx.runCode(`Object.prototype.hasOwnProperty.call((${member.holder}), ${member.key})`)) === true;
  await rebind(ctx, t.expr, copy);
}

/** Undo bindCopy: the original back, or no own property where there was none. */
export async function unbindCopy(ctx: EngineHost, t: Target): Promise<void> {
  const member = memberOf(t.expr);
  if (member && t.ownBefore === false) await ctx.runCode(`delete (${member.holder})[${member.key}]`);
  else await rebind(ctx, t.expr, t.original);
}

/** Point the user's binding at `value`: assignment, or a REPL redeclaration for a const. */
export async function rebind(ctx: EngineHost, expr: string, value: Function): Promise<void> {
  userSlots[SLOT] = value;
  try {
    await ctx.runCode(`${expr} = ${READ_SLOT};`);
  } catch (e) {
    if (/^[\w$]+$/.test(expr) && /constant/.test(String((e as Error).message))) await ctx.runCode(`const ${expr} = ${READ_SLOT};`);
    else throw new UsageError(`cannot point ${expr} at the profiled copy: ${(e as Error).message}`);
  } finally {
    delete userSlots[SLOT];
  }
}
