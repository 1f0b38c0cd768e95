// A corpus of real-world functions (copied verbatim from widely used npm packages' published
// source, test/fixtures/corpus/) and the example notebooks' functions written without semicolons,
// instrumented in every mode (hits, time, memory): each copy must compile, return exactly what the
// original returns on the same inputs, and count each line as V8's precise block coverage of the
// original counts it — an independent count, read from the syntax tree and coverage ranges here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import vm from 'node:vm';
import { parse } from 'acorn';
import { instrument, MODES, type Mode } from './helpers/instrumented.js';
import { lineAt, lineStarts } from '../magics/engines/v8/lines.js';

const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'corpus');

interface Case {
  fixture: string;
  /** Statements run in order; each one's outcome (value or error message) is compared. */
  calls: string[];
  /** Functions to instrument (all at once: calls between them reach the copies). */
  targets: string[];
  setup?: string;
}

const CASES: Case[] = [
  { fixture: 'ms', targets: ['parse', 'fmtShort', 'fmtLong', 'plural'], calls: ['parse("2 days")', 'parse("1h")', 'parse("100")', 'parse("-3.5 weeks")', 'parse("nonsense")', 'parse("1.5y")', 'parse("x".repeat(101))', 'fmtShort(60000)', 'fmtShort(1)', 'fmtShort(108e6)', 'fmtLong(60000)', 'fmtLong(12)', 'fmtLong(2592e5)', 'fmtLong(-1500)'] },
  { fixture: 'balanced-match', targets: ['balanced', 'maybeMatch', 'range'], calls: ['balanced("{", "}", "pre{in{nest}}post")', 'balanced(/\\s+\\{\\s+/, /\\s+\\}\\s+/, "pre  {   in{nest}   }  post")', 'balanced("{", "}", "nope")', 'range("{", "}", "{{a}b}{c")', 'range("a", "a", "xaay")'] },
  { fixture: 'fast-deep-equal', targets: ['equal'], calls: ['equal({ a: [1, 2, { b: 3 }] }, { a: [1, 2, { b: 3 }] })', 'equal([1, 2], [1, 3])', 'equal(new Date(1), new Date(1))', 'equal(/a/g, /a/g)', 'equal({ a: 1 }, { b: 1 })', 'equal(NaN, NaN)', 'equal({ valueOf() { return 1 } }, { valueOf() { return 1 } })'] },
  { fixture: 'compute-gcd', targets: ['gcd', 'bitwise'], calls: ['gcd(48, 18)', 'gcd(17, 5)', 'gcd(0, 9)', 'bitwise(48, 18)', 'bitwise(1071, 462)', 'bitwise(0, 5)', 'bitwise(64, 12)'] },
  { fixture: 'd3-array', targets: ['range', 'extent', 'variance', 'tickSpec', 'ticks', 'quickselect', 'swap', 'mean', 'numbers', 'cumsum', 'quantileSorted'], calls: ['range(0, 10, 3)', 'range(5)', 'range(1, 0, -0.25)', 'extent([3, 1, 4, 1, 5])', 'extent([{ v: 2 }, { v: 9 }], (d) => d.v)', 'variance([1, 2, 3, 4])', 'variance([{ v: 1 }, { v: 5 }], (d) => d.v)', 'ticks(0, 1, 10)', 'ticks(-10, 10, 5)', 'ticks(10, 0, 3)', 'quickselect([5, 3, 1, 4, 2, 9, 7, 8, 6, 0], 4)', 'mean([1, 2, null, 3])', 'mean([{ v: 4 }], (d) => d.v)', 'Array.from(cumsum([1, 2, 3]))', 'Array.from(cumsum([{ v: 1 }, { v: 2 }], (d) => d.v))', 'quantileSorted([1, 2, 3, 4], 0.5)', 'quantileSorted([1, 2, 3, 4], 1)'] },
  { fixture: 'commander', targets: ['camelcase', 'pad', 'wrap', 'humanReadableArgName', 'incrementNodeInspectorPort'], calls: ['camelcase("--foo-bar-baz")', 'pad("ab", 5)', 'pad("abcdef", 3)', 'wrap("some long text that wraps around and around", 12, 2)', 'wrap("short", 80, 2)', 'humanReadableArgName({ name: "x", required: true, variadic: true })', 'humanReadableArgName({ name: "y", required: false })', 'incrementNodeInspectorPort(["--inspect=9229", "--x", "--inspect-brk", "--inspect=127.0.0.1:1"])'], setup: 'var process = { execArgv: [] }' },
  { fixture: 'escape-string-regexp', targets: ['escapeStringRegexp'], calls: ['escapeStringRegexp("a.b*c-[d]")', 'escapeStringRegexp(3)'] },
  { fixture: 'ansi-regex', targets: ['ansiRegex'], calls: ['String(ansiRegex())', 'String(ansiRegex({ onlyFirst: true }))'] },
  { fixture: 'concat-map', targets: ['concatMap'], calls: ['concatMap([1, 2, 3], (x) => [x, x * 2])', 'concatMap(["a", "b"], (x) => x)'] },
  { fixture: 'deepmerge', targets: ['deepmerge', 'mergeObject', 'cloneUnlessOtherwiseSpecified', 'defaultArrayMerge', 'getKeys', 'propertyIsUnsafe', 'isMergeableObject', 'getEnumerableOwnPropertySymbols'], calls: ['deepmerge({ a: { b: 1 }, c: [1] }, { a: { d: 2 }, c: [2] })', 'deepmerge([1, { x: 1 }], [{ y: 2 }])', 'deepmerge({ a: 1 }, { a: { nested: true } }, { clone: false })', 'deepmerge({ [Symbol.for("s")]: 1 }, { [Symbol.for("s")]: 2 })'] },
  { fixture: 'd3-color', targets: ['hsl2rgb', 'hex', 'clampi', 'clampa'], calls: ['hsl2rgb(30, 0.2, 0.8)', 'hsl2rgb(150, 0.2, 0.8)', 'hsl2rgb(220, 0.2, 0.8)', 'hsl2rgb(300, 0.2, 0.8)', 'hex(17.3)', 'hex(300)', 'clampa(NaN)', 'clampa(0.5)'] },
  { fixture: 'color-convert', targets: ['rgbToHsl', 'hslToRgb', 'rgbToHsv', 'rgbToAnsi16', 'rgbToHcg'], calls: ['rgbToHsl([255, 0, 0])', 'rgbToHsl([10, 200, 30])', 'rgbToHsl([80, 80, 80])', 'rgbToHsl([30, 60, 200])', 'hslToRgb([120, 50, 50])', 'hslToRgb([0, 0, 40])', 'hslToRgb([300, 80, 20])', 'rgbToHsv([10, 200, 30])', 'rgbToHsv([0, 0, 0])', 'rgbToHsv([200, 10, 90])', 'rgbToAnsi16([200, 10, 90])', 'rgbToAnsi16([0, 0, 0])', 'rgbToHcg([200, 10, 90])', 'rgbToHcg([5, 5, 5])'], setup: 'var convert = { rgb: {} }' },
  { fixture: 'd3-format', targets: ['formatDecimal', 'formatDecimalParts', 'exponent', 'formatGroup', 'formatTrim', 'formatRounded'], calls: ['formatDecimal(1234.5)', 'formatDecimal(1e22)', 'formatDecimalParts(1234.5, 3)', 'formatDecimalParts(Infinity)', 'exponent(0.00123)', 'formatGroup([3], ",")("1234567", 9)', 'formatTrim("1.2300e+5")', 'formatTrim("0.000")', 'formatRounded(1234.5678, 3)', 'formatRounded(0.000123, 2)', 'formatRounded(1.5e30, 2)'] },
  { fixture: 'examples-nosemi', targets: ['primes', 'sumOfPrimes', 'builder', 'fib', 'fibMemo', 'report', 'pace', 'parseDistance', 'tally'], calls: ['sumOfPrimes(300)', 'builder(500)', 'fib(12)', 'fibMemo(30)', 'report(10)', 'pace({ minutes: 48, km: 10 })', 'parseDistance("10")', 'parseDistance("ten")', 'tally(["a", "bb", "cccc", "a"])', 'tally(["x"])', 'tally(["hello", "a"])'] },
];

type Outcome = { value: unknown } | { error: string };
function run(context: vm.Context, calls: string[]): Outcome[] {
  return calls.map((c) => {
    try {
      // Results go through structured cloning's notion of equality: compare as plain data.
      // Values from the vm's realm, cloned into this one to compare as data.
      return { value: structuredClone(vm.runInContext(`(() => { const v = (${c}); return v instanceof RegExp ? String(v) : v })()`, context)) };
    } catch (e) {
      return { error: String((e as Error).message) };
    }
  });
}

function load(c: Case, filename: string): { context: vm.Context; text: string } {
  const text = readFileSync(join(dir, `${c.fixture}.js`), 'utf8');
  const context = vm.createContext({});
  if (c.setup) vm.runInContext(c.setup, context);
  vm.runInContext(text, context, { filename });
  if (c.fixture === 'color-convert') vm.runInContext('convert.rgb.hsv = rgbToHsv', context);
  return { context, text };
}

// ---- The independent count: statements from the syntax tree, counts from V8's block coverage. ----

interface N { type: string; start: number; end: number; [k: string]: unknown }
interface Range { startOffset: number; endOffset: number; count: number }
type Expected = Map<number, { min: number; max: number } | 'mixed'>;

/** Line → hits a Python line tracer would show, read from coverage: exact, or bounds where a loop may be left early. */
function expectedLines(text: string, fn: N, ranges: Range[]): Expected {
  const starts = lineStarts(text);
  const line = (o: number) => lineAt(starts, o);
  // V8 reports a continuation range after a statement that can leave early (`if (…) return`) only
  // up to the next nested range (a `||` operand, say): after it, the innermost range is an outer
  // one again, with too high a count. So a count is exact only when no early exit lies between the
  // innermost range's start and the offset; otherwise it is an upper bound.
  const exits = exitOffsets(fn);
  const cov = (o: number): { min: number; max: number } => {
    let best: Range | undefined;
    for (const r of ranges) if (r.startOffset <= o && o < r.endOffset && (!best || r.endOffset - r.startOffset <= best.endOffset - best.startOffset)) best = r;
    const count = best?.count ?? 0;
    return exits.some((e) => e >= (best?.startOffset ?? 0) && e < o) ? { min: 0, max: count } : { min: count, max: count };
  };
  const out: Expected = new Map();
  const set = (l: number, b: { min: number; max: number }, nested = false, adds = false) => {
    const had = out.get(l);
    if (!had) out.set(l, b);
    else if (nested || had === 'mixed') out.set(l, 'mixed');
    else if (adds) out.set(l, { min: had.min + b.min, max: had.max + b.max });
  };
  const leavesEarly = (n: unknown, top = true): boolean => {
    if (!n || typeof n !== 'object') return false;
    if (Array.isArray(n)) return n.some((c) => leavesEarly(c, top));
    const node = n as N;
    if (!top && /Function/.test(node.type)) return false;
    if (['BreakStatement', 'ReturnStatement', 'ThrowStatement', 'YieldExpression', 'AwaitExpression'].includes(node.type)) return true;
    if (node.type === 'ContinueStatement' && node.label) return true;
    // Calls may throw: a loop whose body calls anything may be left early too, unless the callee is known not to.
    return Object.entries(node).some(([k, v]) => k !== 'type' && typeof v === 'object' && leavesEarly(v, false));
  };
  const statements = (list: N[], nested: boolean): void => {
    for (const s of list) statement(s, nested);
  };
  const statement = (s: N, nested: boolean): void => {
    const l = line(s.start);
    const entries = cov(s.start);
    switch (s.type) {
      case 'ForStatement':
      case 'WhileStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const body = s.body as N;
        const iterations = cov(body.start);
        const early = leavesEarly(body) || (s.type === 'ForStatement' && !s.test);
        // A loop on the line of the statement around it (`if (c) for (…) x`) adds its evaluations to that line.
        set(l, { min: early ? iterations.min : iterations.min + entries.min, max: iterations.max + entries.max }, nested, true);
        return child(body, nested);
      }
      case 'DoWhileStatement': {
        set(l, entries, nested);
        const body = s.body as N;
        const iterations = cov(body.start);
        const tl = line((s.test as N).start);
        if (tl !== l) set(tl, { min: leavesEarly(body) ? 0 : iterations.min, max: iterations.max }, nested);
        return child(body, nested);
      }
      case 'LabeledStatement':
        return statement(s.body as N, nested);
      case 'TryStatement': {
        set(l, entries, nested);
        statements((s.block as N).body as N[], nested);
        const h = s.handler as N | null;
        if (h) {
          const hb = h.body as N;
          set(line(h.start), cov(hb.start), nested);
          statements(hb.body as N[], nested);
        }
        if (s.finalizer) statements((s.finalizer as N).body as N[], nested);
        return;
      }
      case 'EmptyStatement':
        return;
      case 'BlockStatement':
        return statements(s.body as N[], nested);
      default:
        set(l, entries, nested);
    }
    for (const [k, v] of Object.entries(s)) if (k !== 'type' && v && typeof v === 'object') child(v, nested);
  };
  const child = (n: unknown, nested: boolean): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => child(c, nested));
    const node = n as N;
    if (typeof node.type !== 'string') return;
    if (/Function/.test(node.type)) {
      const body = node.body as N;
      if (body.type === 'BlockStatement') statements(body.body as N[], true);
      return;
    }
    if (/Statement|Declaration/.test(node.type) && node.type !== 'VariableDeclaration') return statement(node, nested);
    if (node.type === 'SwitchCase') return statements(node.consequent as N[], nested);
    for (const [k, v] of Object.entries(node)) if (k !== 'type' && v && typeof v === 'object') child(v, nested);
  };
  statements(((fn.body as N).body as N[]) ?? [], false);
  return out;
}

/** Where control can leave a statement list early, in a function (its nested functions included: only more cautious). */
function exitOffsets(fn: N): number[] {
  const out: number[] = [];
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    const node = n as N;
    if (typeof node.type !== 'string') return;
    if (['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement'].includes(node.type)) out.push(node.start);
    for (const [k, v] of Object.entries(node)) if (k !== 'type' && v && typeof v === 'object') walk(v);
  };
  walk(fn);
  return out;
}

/** The function nodes of a fixture by name: declarations and `var name = function/arrow`. */
function functionsOf(text: string): Map<string, N> {
  const ast = parse(text, { ecmaVersion: 'latest' }) as unknown as { body: N[] };
  const out = new Map<string, N>();
  for (const s of ast.body) {
    if (s.type === 'FunctionDeclaration') out.set((s.id as { name: string }).name, s);
    if (s.type === 'VariableDeclaration') for (const d of s.declarations as N[]) if (d.init && /Function/.test((d.init as N).type)) out.set((d.id as { name: string }).name, d.init as N);
  }
  return out;
}

async function coverageOf(c: Case): Promise<{ text: string; ranges: Range[]; functions: Array<{ ranges: Range[] }> }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    const url = `corpus-${c.fixture}-${Math.random()}.js`;
    const { context, text } = load(c, url);
    run(context, c.calls);
    const { result } = (await session.post('Profiler.takePreciseCoverage')) as unknown as { result: Array<{ url: string; functions: Array<{ ranges: Range[] }> }> };
    await session.post('Profiler.stopPreciseCoverage');
    const script = result.find((r) => r.url === url)!;
    return { text, ranges: script.functions.flatMap((f) => f.ranges), functions: script.functions };
  } finally {
    session.disconnect();
  }
}

function instrumentedRun(c: Case, mode: Mode): { outcomes: Outcome[]; hits: Map<string, Map<number, number>>; firstLines: Map<string, number> } {
  const { context, text } = load(c, `corpus-${c.fixture}-${mode}.js`);
  const fns = functionsOf(text);
  const starts = lineStarts(text);
  const copies = new Map<string, ReturnType<typeof instrument>>();
  for (const name of c.targets) {
    const source = Function.prototype.toString.call(context[name]);
    const copy = instrument(source, mode, context);
    copies.set(name, copy);
    context[name] = copy.fn;
  }
  if (c.fixture === 'color-convert') vm.runInContext('convert.rgb.hsv = rgbToHsv', context);
  const outcomes = run(context, c.calls);
  const hits = new Map([...copies].map(([name, copy]) => [name, copy.hits()]));
  const firstLines = new Map(c.targets.map((name) => [name, lineAt(starts, fns.get(name)!.start)]));
  return { outcomes, hits, firstLines };
}

let corpusSize = 0;
for (const c of CASES) {
  test(`corpus ${c.fixture}: ${c.targets.join(', ')} — same results, hits as V8's block coverage counts them, in every mode`, async () => {
    const expected = run(load(c, `corpus-${c.fixture}-plain.js`).context, c.calls);
    const coverage = await coverageOf(c);
    const fns = functionsOf(coverage.text);
    for (const mode of MODES) {
      const ours = instrumentedRun(c, mode);
      for (const [i, call] of c.calls.entries()) assert.ok(isDeepStrictEqual(ours.outcomes[i], expected[i]), `${mode}: ${call} gave ${JSON.stringify(ours.outcomes[i])}, the original ${JSON.stringify(expected[i])}`);
      for (const name of c.targets) {
        const fn = fns.get(name)!;
        const first = ours.firstLines.get(name)!;
        const hits = ours.hits.get(name)!;
        const want = expectedLines(coverage.text, fn, coverage.ranges);
        let compared = 0;
        for (const [line, range] of want) {
          if (range === 'mixed') continue;
          const got = hits.get(line - first) ?? 0;
          assert.ok(got >= range.min && got <= range.max, `${mode}: ${c.fixture} ${name}, line ${line + 1} (${coverage.text.split('\n')[line].trim()}): ${got} hits, coverage says ${range.min === range.max ? range.min : `${range.min}…${range.max}`}`);
          compared++;
        }
        assert.ok(compared > 0 || want.size === 0, `${name}: some lines compared`);
        corpusSize++;
        if (mode === 'hits') {
          const calls = coverage.functions.find((f) => f.ranges[0].startOffset === fn.start)?.ranges[0].count ?? 0;
          assert.equal(hits.get(0) ?? 0, calls, `${name}: calls, as coverage counts them`);
        }
      }
    }
  });
}

test('the corpus is large enough to mean something', () => {
  assert.ok(CASES.length >= 14, 'thirteen packages and the example notebooks');
  assert.ok(corpusSize >= 3 * 60, `${corpusSize / 3} functions checked in each mode`);
});
