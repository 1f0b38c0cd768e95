// %prun and %lprun through a real kernel, against ground truth the test computes itself:
// exact call counts of a recursion, hits per line counted by an instrumented plain run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { renderSvg, VEGALITE_MIME, type VegaLiteSpec } from '../magics/render/vegalite.js';
import { assertAlive, content, errorOf, evalOk, ofType, type DisplayContent } from './helpers/kernel.js';

let k: LaunchedKernel;
const dir = mkdtempSync(join(tmpdir(), 'tsprof-prof-'));
before(async () => {
  // A CommonJS package and an ES module beside the notebook, for profiling functions from files.
  mkdirSync(join(dir, 'node_modules', 'slowpkg'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'slowpkg', 'package.json'), JSON.stringify({ name: 'slowpkg', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(dir, 'node_modules', 'slowpkg', 'index.js'), 'let total = 0;\nfunction work(n) {\n  let s = 0;\n  for (let i = 0; i < n; i++) {\n    if (i % 3 === 0) s += i;\n  }\n  total += 1;\n  return s;\n}\nmodule.exports = { work, calls: () => total };\n');
  writeFileSync(join(dir, 'helpers.mjs'), 'export function twice(n) {\n  return 2 * n;\n}\nexport function thrice(n) {\n  const t = 3 * n;\n  return t;\n}\n');
  k = await launchKernel({ cwd: dir });
});
after(async () => {
  await k.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Run a cell whose last line is an expression; returns that value, sent through JSON on stdout. */
async function json<T>(code: string): Promise<T> {
  const lines = code.split('\n');
  const last = lines.pop();
  const r = await k.client.execute([...lines, `console.log(JSON.stringify(${last}))`].join('\n'));
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  return JSON.parse(ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('')) as T;
}

const shown = (r: Awaited<ReturnType<LaunchedKernel['client']['execute']>>): Array<Record<string, unknown>> =>
  ofType(r.iopub, 'display_data').map((m) => content<DisplayContent>(m).data);

// The primes program of the examples: set-based trial division, with a counter per statement line
// in a plain copy so the test knows the true hits.
const PRIMES = `function primes(count: number): number[] {
  const found: number[] = [];
  const seen = new Set<number>();
  let candidate = 2;
  while (found.length < count) {
    let isPrime = true;
    for (const p of found) {
      if (p * p > candidate) break;
      if (candidate % p === 0) { isPrime = false; break; }
    }
    if (isPrime) { found.push(candidate); seen.add(candidate); }
    candidate++;
  }
  return found;
}`;
// Loop headers count once per evaluation, as a Python line tracer fires (line_profiler's Hits):
// the while test each time it runs, the for…of once per step (each body entry, and the step that
// finds the end when the loop is not left by break).
const COUNTED = `const truth: Record<number, number> = {};
const hit = (line: number) => { truth[line] = (truth[line] ?? 0) + 1; };
function countedPrimes(count: number): number[] {
  hit(2); const found: number[] = [];
  hit(3); const seen = new Set<number>();
  hit(4); let candidate = 2;
  while ((hit(5), found.length < count)) {
    hit(6); let isPrime = true;
    let ended = true;
    for (const p of found) {
      hit(7);
      hit(8); if (p * p > candidate) { ended = false; break; }
      hit(9); if (candidate % p === 0) { isPrime = false; ended = false; break; }
    }
    if (ended) hit(7);
    hit(11); if (isPrime) { found.push(candidate); seen.add(candidate); }
    hit(12); candidate++;
  }
  hit(14); return found;
}
countedPrimes(2000);
truth`;

test('%prun -c counts a naive fib(25) exactly: 242,785 calls; memoized far fewer; the slow one first by tottime', async () => {
  await evalOk(k, `function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
function fibm(n: number, memo = new Map<number, number>()): number {
  if (n < 2) return n;
  if (memo.has(n)) return memo.get(n)!;
  const v = fibm(n - 1, memo) + fibm(n - 2, memo);
  memo.set(n, v);
  return v;
}`);
  const r = await k.client.execute('%prun -c fib(25); for (let i = 0; i < 2000; i++) fib(15); fibm(25)');
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const text = String(shown(r)[0]['text/plain']);
  const line = (fn: string): string[] => text.split('\n').find((l) => l.endsWith(`(${fn})`))!.trim().split(/\s+/);
  // total/primitive, as pstats prints a recursive function: 2,001 calls began a recursion.
  assert.equal(line('fib')[0], `${242785 + 2000 * 1973}/2001`, 'fib(25) calls fib 242,785 times; fib(15) 1,973 times');
  assert.equal(line('fibm')[0], '49/1', 'memoized: 2n - 1 calls');
  assert.match(text, /^\s+\d+ function calls \(\d+ primitive calls\) in [\d.]+ seconds$/m);
  assert.match(text, /Ordered by: internal time/);
  assert.match(text, /^\s+ncalls\s+tottime\s+percall\s+cumtime\s+percall filename:lineno\(function\)$/m);
  const rows = text.split('\n').filter((l) => /^\s*(\d+(\/\d+)?|-)\s+\d/.test(l));
  assert.ok(rows[0].endsWith('cell-1:1(fib)'), `slowest by tottime first: ${rows[0]}`);
  assert.ok(!/dist\/|node:internal|sucrase|es-module-lexer|tsprof-runner/.test(text), 'no kernel frames');
});

test('%prun sampled: header, recursion counted once in cumtime, sorting and limits', async () => {
  const rows = await json<Array<[string, number, number]>>('const p = %prun -r -q -s cumulative fib(32)\np.rows.map((x) => [x.label, x.cumtime, x.tottime])');
  const fib = rows.find(([l]) => l === 'cell-1:1(fib)')!;
  const top = rows.find(([l]) => /\(<cell>\)$/.test(l))!;
  assert.ok(fib[1] <= top[1] + 1e-9, 'cumtime of recursive fib is counted once, never above the statement');
  assert.ok(fib[1] > 0.5 * top[1], 'fib is most of the statement');
  const limited = await k.client.execute('%prun -l 1 -s time fib(32)');
  const text = String(shown(limited)[0]['text/plain']);
  assert.match(text, /List reduced from \d+ to 1 due to restriction <"1">/);
  assert.match(text, /^\s+\d+ function calls \(2 primitive calls\) in [\d.]+ seconds$/m);
  assert.match(text, /^\s+Times from \d+ samples? \(every \d+ µs/m);
  const byName = await k.client.execute('%prun -q -r -l fib -s name fib(20); fibm(20)');
  assert.equal(byName.reply.content.status, 'ok');
});

test('%prun shows an HTML table, a flame graph and a top chart that compile with vega-lite 5', async () => {
  const r = await k.client.execute('%prun fib(32)');
  const bundles = shown(r);
  assert.ok(String(bundles[0]['text/html']).includes('filename:lineno(function)'));
  assert.ok(String(bundles[0]['text/html']).includes('cell-1:1(fib)'));
  const charts = bundles.filter((b) => VEGALITE_MIME in b);
  assert.equal(charts.length, 2, 'flame graph and top-N chart');
  for (const c of charts) {
    assert.match(await renderSvg(c[VEGALITE_MIME] as VegaLiteSpec), /<svg/);
    assert.match(String(c['image/svg+xml']), /^<svg/);
  }
  const flame = charts[0][VEGALITE_MIME] as { data: { values: Array<{ name: string; depth: number }> } };
  assert.ok(flame.data.values.some((v) => v.name === 'fib' && v.depth === 1), 'fib sits under the statement in the flame graph');
});

test('%prun -D writes a DevTools .cpuprofile naming the user functions; -T writes the text', async () => {
  const r = await k.client.execute('%prun -q -D fib.cpuprofile -T fib.txt fib(31)');
  assert.equal(r.reply.content.status, 'ok');
  const p = JSON.parse(readFileSync(join(dir, 'fib.cpuprofile'), 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  assert.ok(Array.isArray(p.nodes) && p.nodes.length > 1);
  assert.equal(p.samples.length, p.timeDeltas.length);
  assert.ok(p.endTime >= p.startTime);
  const ids = new Set(p.nodes.map((n) => n.id));
  assert.ok(p.samples.every((s) => ids.has(s)), 'samples reference nodes');
  assert.ok(p.nodes.some((n) => n.callFrame.functionName === 'fib' && n.callFrame.url === 'cell-1'));
  assert.match(readFileSync(join(dir, 'fib.txt'), 'utf8'), /cell-1:1\(fib\)/);
});

test('%lprun hits per line equal the counts of an instrumented plain run; % Time sums to 100', async () => {
  await evalOk(k, PRIMES);
  const truth = await json<Record<string, number>>(COUNTED);
  const lines = await json<Array<{ line: number; hits?: number; percent: number }>>('const lp = %lprun -r -q -f primes primes(2000)\nlp.functions[0].lines');
  // primes starts at line 1 of its cell, and the counted copy keeps its line numbers.
  assert.ok(Object.keys(truth).length >= 10);
  for (const [line, count] of Object.entries(truth)) {
    const l = lines.find((x) => x.line === Number(line));
    assert.equal(l?.hits, count, `line ${line}: ${JSON.stringify(l)}`);
  }
  const exact = await json<Array<{ line: number; hits?: number; time: number }>>('const lx = %lprun -x -r -q -f primes primes(2000)\nlx.functions[0].lines');
  for (const [line, count] of Object.entries(truth)) assert.equal(exact.find((x) => x.line === Number(line))?.hits, count, `exact mode, line ${line}`);
  // The clock steps every 0.3-2 µs (much less often when the machine is overloaded): lines run a few times may read 0.
  const share = await json<number | null>('lx.clockShare ?? null');
  assert.ok(exact.some((x) => x.time > 0) || (share ?? 1) < 0.8, `exact mode has times, or says its clock thread got no CPU (${share})`);
  assert.equal(exact.find((x) => x.line === 1)?.hits, 1, 'the function line counts its calls');
  const r = await k.client.execute('%lprun -f primes primes(2000)');
  const text = String(shown(r)[0]['text/plain']);
  assert.match(text, /^Timer unit: 1e-09 s$/m);
  assert.match(text, /^Function: primes at line 1$/m);
  assert.match(text, /^Line #\s+Hits\s+Time\s+Per Hit\s+% Time\s+Line Contents$/m);
  assert.ok(text.includes('  for (const p of found) {'), 'the TypeScript source is shown');
});

test('%lprun on a longer run: the while loop carries the time and % Time sums to 100 ± 1', async () => {
  const pct = await json<Array<[number, number]>>('const big = %lprun -r -q -f primes primes(30000)\nbig.functions[0].lines.map((l) => [l.line, l.percent])');
  const sum = pct.reduce((a, [, p]) => a + p, 0);
  assert.ok(Math.abs(sum - 100) <= 1, `% Time sums to ${sum}`);
  // All the work is in the while loop (its header, line 5, evaluated per iteration, and lines
  // 6-12). How it splits inside varies: line 11 (push, Set.add, callees included as in
  // line_profiler) measured 17-78% of the instrumented copy's time on a loaded machine.
  const loop = pct.filter(([l]) => l >= 5 && l <= 12).reduce((a, [, p]) => a + p, 0);
  assert.ok(loop > 95, `the while loop (lines 5-12) has ${loop}% of the time: ${JSON.stringify(pct)}`);
});

test('%lprun counts lines after an await in an async function', async () => {
  await evalOk(k, 'async function ticker(n: number) {\n  let s = 0;\n  for (let i = 0; i < n; i++) {\n    await null;\n    s += i;\n  }\n  return s;\n}');
  const hits = new Map(await json<Array<[number, number | null]>>('const a = %lprun -r -q -f ticker await ticker(25)\na.functions[0].lines.map((l) => [l.line, l.hits ?? null])'));
  assert.equal(hits.get(4), 25, 'the await line');
  assert.equal(hits.get(5), 25, 'the line after the await');
  assert.equal(hits.get(7), 1, 'return after the loop');
});

test('%lprun says why the Time column is empty when no sample landed, and what to do', async () => {
  // One sample every 100 ms; primes(10) takes microseconds.
  const r = await k.client.execute('%lprun -i 100000 -f primes primes(10)');
  const notes = shown(r).map((d) => String(d['text/plain'])).filter((t) => t.startsWith('No sample landed'));
  assert.equal(notes.length, 1, 'one note');
  assert.match(notes[0], /^No sample landed in primes \(sampled every 100000 µs or a little more\).*1 ms is enough.*-x/);
  const exact = await k.client.execute('%lprun -x -f primes primes(10)');
  assert.equal(shown(exact).filter((d) => String(d['text/plain']).startsWith('No sample')).length, 0, 'exact mode times every line: no note');
});

test('%lprun bad input: not a function, native, missing -f, unknown flag; the kernel lives on', async () => {
  for (const [code, pattern] of [
    ['%lprun -f 42 1', /is not a function \(it is a number\)/],
    ['%lprun -f Math.max 1', /native function/],
    ['%lprun primes(3)', /give at least one function with -f/],
    ['%lprun -k -f primes primes(3)', /option -k not recognized/],
    ['%lprun -f nothingHere 1', /nothingHere is not defined/],
  ] as const) {
    const e = errorOf(await k.client.execute(code));
    assert.equal(e.ename, 'UsageError', code);
    assert.match(e.evalue, pattern, code);
  }
  assert.equal(await evalOk(k, 'primes(5).join(",")'), "'2,3,5,7,11'", 'the function is restored after profiling');
  await assertAlive(k);
});

test('%mprun puts allocated bytes on the right lines (within 10%) with exact occurrences', async () => {
  await evalOk(k, `function build(n: number) {
  const numbers = new Array(n).fill(0);
  const floats = new Float64Array(n);
  const table = new Map<number, number>();
  for (let i = 0; i < n; i++) table.set(i, i);
  let count = 0;
  for (let i = 0; i < n; i++) count += 1;
  return [numbers, floats, table, count];
}`);
  const lines = await json<Array<{ line: number; allocated?: number; increment?: number; occurrences?: number; memUsage?: number }>>('const mp = %mprun -r -q -f build build(100_000)\nmp.functions[0].lines');
  const MiB = 1024 * 1024;
  const at = (n: number) => lines.find((l) => l.line === n)!;
  // 100,000 small integers in a FixedArray of 8-byte slots; a Float64Array's 800,000-byte buffer.
  assert.ok(Math.abs(at(2).allocated! * MiB - 800_000) / 800_000 < 0.1, `new Array(n).fill(0): ${at(2).allocated! * MiB} bytes`);
  assert.ok(Math.abs(at(3).allocated! * MiB - 800_000) / 800_000 < 0.1, `new Float64Array(n): ${at(3).allocated! * MiB} bytes`);
  assert.ok(at(5).allocated! * MiB > 2_000_000, `a Map of 100,000 entries takes megabytes: ${at(5).allocated! * MiB}`);
  // Nothing per step: what shows is the probes' first 64 measured runs and, on this cold copy, V8
  // tiering it up (0.1–0.3 MiB), which the Increments now keep so that they add up.
  assert.ok(Math.abs(at(7).allocated!) * MiB < 512 * 1024, `counting in small integers allocates nothing per step: ${at(7).allocated! * MiB}`);
  assert.equal(at(1).occurrences, 1, 'one call');
  assert.equal(at(2).occurrences, 1);
  assert.equal(at(5).occurrences, 100_001, 'a one-line loop: its header counts each evaluation, as memory_profiler does');
  assert.equal(at(7).occurrences, 100_001);
  assert.equal(at(8).occurrences, 1);
  const r = await k.client.execute('%mprun -f build build(1000)');
  const text = String(shown(r)[0]['text/plain']);
  assert.match(text, /^Line #\s+Mem usage\s+Increment\s+Allocated\s+Occurrences\s+Line Contents$/m);
  assert.match(text, /^\s+2\s+[\d.]+ MiB\s+[-\d.]+ MiB\s+[\d.]+ MiB\s+1\s+ {2}const numbers = new Array\(n\)\.fill\(0\);$/m);
});

test('%mprun counts the occurrences of a loop body exactly and survives bad input', async () => {
  await evalOk(k, 'function loop(n: number) {\n  const out: number[][] = [];\n  for (let i = 0; i < n; i++) {\n    out.push(new Array(1000).fill(i));\n  }\n  return out.length;\n}');
  const lines = await json<Array<{ line: number; allocated?: number; occurrences?: number }>>('const ml = %mprun -r -q -c -f loop loop(50)\nml.functions[0].lines');
  assert.equal(lines.find((l) => l.line === 4)?.occurrences, 50);
  const bytes = lines.find((l) => l.line === 4)!.allocated! * 1024 * 1024;
  assert.ok(bytes > 50 * 8000 * 0.9 && bytes < 50 * 8000 * 1.5, `50 arrays of 1,000 slots: ${bytes} bytes`);
  for (const [code, pattern] of [['%mprun -f 7 1', /is not a function/], ['%mprun loop(1)', /give at least one function/]] as const) {
    const e = errorOf(await k.client.execute(code));
    assert.equal(e.ename, 'UsageError');
    assert.match(e.evalue, pattern);
  }
  const thrown = await k.client.execute('%mprun -f loop loop(-1 as unknown as number) ; null.x');
  assert.equal(thrown.reply.content.status, 'error');
  assert.equal(await evalOk(k, 'loop(3)'), '3', 'the function is restored');
});

test('%lprun profiles a function from an npm package: exact hits, module state kept, original restored', async () => {
  await evalOk(k, 'import pkg from "slowpkg";\nfor (let i = 0; i < 300; i++) pkg.work(1000);');
  const lines = await json<Array<{ line: number; hits?: number }>>('const pk = %lprun -r -q -f pkg.work pkg.work(3000)\npk.functions[0].lines');
  const hits = new Map(lines.map((l) => [l.line, l.hits]));
  assert.equal(hits.get(2), 1, 'one call');
  assert.equal(hits.get(5), 3000, 'the loop body ran 3,000 times');
  assert.equal(hits.get(8), 1);
  const r = await k.client.execute('%lprun -f pkg.work pkg.work(10)');
  assert.match(String(shown(r)[0]['text/plain']), /^File: node_modules\/slowpkg\/index\.js$/m);
  assert.equal(await evalOk(k, '[pkg.calls(), pkg.work(7)].join(" ")'), "'302 9'", 'the module kept its state and the function works as before');
  const again = await json<Array<{ line: number; hits?: number }>>('const pk2 = %lprun -r -q -f pkg.work pkg.work(30)\npk2.functions[0].lines');
  assert.equal(again.find((l) => l.line === 5)?.hits, 30, 'a second profile of the same function counts again');
});

test('%lprun profiles a function from an ES module; statement probes on files are refused with a reason', async () => {
  await evalOk(k, 'import { twice } from "./helpers.mjs";');
  const lines = await json<Array<{ line: number; hits?: number; contents: string }>>('const tw = %lprun -r -q -f twice [1, 2, 3].map(twice)\ntw.functions[0].lines');
  assert.equal(lines.find((l) => l.line === 2)?.hits, 3);
  assert.equal(lines.find((l) => l.line === 2)?.contents, '  return 2 * n;');
  const probes = errorOf(await k.client.execute('%lprun -x -f twice twice(2)'));
  assert.equal(probes.ename, 'UsageError');
  assert.match(probes.evalue, /need a function defined in a notebook cell/);
  const mem = errorOf(await k.client.execute('%mprun -f twice twice(2)'));
  assert.match(mem.evalue, /need a function defined in a notebook cell/);
  assert.equal(await evalOk(k, 'twice(21)'), '42');
});

test('%lprun -f on two functions of one file in turn: each is found and counted, and both are put back', async () => {
  await evalOk(k, 'import { twice, thrice } from "./helpers.mjs";');
  const first = await json<Array<{ line: number; hits?: number }>>('const tw2 = %lprun -r -q -f twice [1, 2].map(twice)\ntw2.functions[0].lines');
  assert.equal(first.find((l) => l.line === 2)?.hits, 2);
  const second = await json<Array<{ line: number; hits?: number; contents: string }>>('const th = %lprun -r -q -f thrice [1, 2, 3, 4].map(thrice)\nth.functions[0].lines');
  assert.equal(second.find((l) => l.line === 5)?.contents, '  const t = 3 * n;');
  assert.equal(second.find((l) => l.line === 5)?.hits, 4);
  const again = await json<Array<{ line: number; hits?: number }>>('const tw3 = %lprun -r -q -f twice [5].map(twice)\ntw3.functions[0].lines');
  assert.equal(again.find((l) => l.line === 2)?.hits, 1, 'and the first one again');
  assert.equal(await evalOk(k, 'twice(4) + thrice(4)'), '20', 'both originals are back');
});

test('%lprun in one run: counters for cell functions (an expression-bodied arrow too) beside coverage for a module function', async () => {
  await evalOk(k, 'import { twice } from "./helpers.mjs";');
  await evalOk(k, 'const sq = (x: number) => x * x;\nfunction sumSquares(n: number) {\n  let s = 0;\n  for (let i = 0; i < n; i++) {\n    s += sq(twice(i));\n  }\n  return s;\n}');
  type Fn = [string, number, Array<[number, number | null]>];
  const fns = await json<Fn[]>('const both = %lprun -r -q -f sq -f sumSquares -f twice sumSquares(50)\nboth.functions.map((f) => [f.name, f.calls, f.lines.map((l) => [l.line, l.hits ?? null])])');
  const byName = new Map(fns.map(([name, calls, lines]) => [name, { calls, hits: new Map(lines) }]));
  assert.equal(byName.get('sq')?.calls, 50, 'an arrow with an expression body counts its calls');
  assert.equal(byName.get('sq')?.hits.get(1), 50);
  const sum = byName.get('sumSquares')!;
  assert.deepEqual([2, 3, 4, 5, 7].map((l) => sum.hits.get(l)), [1, 1, 51, 50, 1], 'function line, let, for (each test: N+1), body, return');
  assert.equal(sum.hits.get(6) ?? null, null, 'a lone closing brace has no hits');
  assert.equal(byName.get('twice')?.hits.get(2), 50, 'the module function, counted by coverage in the same run');
  assert.equal(await evalOk(k, 'sumSquares(3)'), '20', 'the original is back');
});
