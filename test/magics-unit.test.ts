// The magic framework's pure parts: flag parsing, rewriting cells, IPython's number formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, intOption } from '../magics/notebook/argv.js';
import { rewriteMagics } from '../magics/notebook/rewrite.js';
import { formatTime } from '../magics/render/format.js';
import { TimeitResult } from '../magics/engines/timing.js';
import { splitVariants } from '../magics/notebook/timeit.js';
import { createRegistry } from '../magics/notebook/index.js';
import { UsageError, type OptionSpec } from '../magics/notebook/types.js';

const SPECS: OptionSpec[] = [
  { name: 'n', value: true, help: '' },
  { name: 'r', value: true, help: '' },
  { name: 'q', help: '' },
  { name: 'o', help: '' },
  { name: 's', value: true, repeat: true, help: '' },
  { name: 'compare', help: '' },
];

test('getopt-style flags: separate, attached and clustered values; the rest is the statement', () => {
  const { opts, rest } = parseOptions('-n 10 -r3 -qo x + 1', SPECS, 't');
  assert.deepEqual(opts, { n: '10', r: '3', q: true, o: true });
  assert.equal(rest, 'x + 1');
  assert.equal(intOption(opts, 'n', 't', 1), 10);
});

test('quoted values, repeatable flags, long flags and -- ending the options', () => {
  const { opts, rest } = parseOptions(`-s "a b" -s 'c' --compare -- -n 5`, SPECS, 't');
  assert.deepEqual(opts, { s: ['a b', 'c'], compare: true });
  assert.equal(rest, '-n 5');
});

test('statements that start like numbers or operators are not flags', () => {
  assert.equal(parseOptions('-1 + x', SPECS, 't').rest, '-1 + x');
  assert.throws(() => parseOptions('-n 3 -x', SPECS, 't'), UsageError, 'a letter flag that is unknown is an error, not the statement');
});

test('a bad flag, a missing value and a non-integer name the flag', () => {
  assert.throws(() => parseOptions('-z 1', SPECS, 'timeit'), (e: Error) => e instanceof UsageError && /option -z not recognized/.test(e.message));
  assert.throws(() => parseOptions('-n', SPECS, 'timeit'), (e: Error) => e instanceof UsageError && /option -n requires an argument/.test(e.message));
  assert.throws(() => parseOptions('--nope x', SPECS, 'timeit'), (e: Error) => e instanceof UsageError && /--nope/.test(e.message));
  assert.throws(() => intOption({ n: 'ten' }, 'n', 'timeit', 1), (e: Error) => e instanceof UsageError && /-n/.test(e.message));
  assert.throws(() => parseOptions('-n "unterminated', SPECS, 'timeit'), UsageError);
});

test('rewriting keeps every line on its line and turns magics into awaited calls', () => {
  const cell = 'const a = 1;\n%timeit -n 3 a + 1\nconst b = 2;\n  const r = %timeit -o a\nb';
  const out = rewriteMagics(cell);
  const lines = out.split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[0], 'const a = 1;');
  assert.equal(lines[1], 'await __tsprof.magic("timeit", "-n 3 a + 1", null, 2);');
  assert.equal(lines[3], '  const r = await __tsprof.magic("timeit", "-o a", null, 4);');
  assert.equal(lines[4], 'b');
  const cellMagic = rewriteMagics('%%timeit -n 2 setup()\nbody1\nbody2');
  assert.deepEqual(cellMagic.split('\n'), ['await __tsprof.magic("timeit", "-n 2 setup()", "body1\\nbody2", 1);', '', '']);
  assert.equal(rewriteMagics('%timeit?'), 'await __tsprof.help("timeit");');
  assert.equal(rewriteMagics('Math.max?'), 'await __tsprof.objectHelp("Math.max", 0);');
  assert.equal(rewriteMagics('const x = 5 % 3;\nx'), 'const x = 5 % 3;\nx', 'the modulo operator is not a magic');
});

test("formatTime follows IPython's _format_time", () => {
  assert.equal(formatTime(8.26e-9), '8.26 ns');
  assert.equal(formatTime(1.2e-10), '0.12 ns');
  assert.equal(formatTime(0.000123456), '123 \u03bcs');
  assert.equal(formatTime(0.5), '500 ms');
  assert.equal(formatTime(2.3456), '2.35 s');
  assert.equal(formatTime(75.5), '1min 15s');
  assert.equal(formatTime(0), '0 ns');
});

test("TimeitResult carries IPython's fields and prints IPython's line", () => {
  const r = new TimeitResult(1000, 3, [0.001, 0.002, 0.003], 0.01);
  assert.deepEqual(r.timings, [1e-6, 2e-6, 3e-6]);
  assert.equal(r.best, 1e-6);
  assert.equal(r.worst, 3e-6);
  assert.ok(Math.abs(r.average - 2e-6) < 1e-15);
  assert.ok(Math.abs(r.stdev - Math.sqrt(2 / 3) * 1e-6) < 1e-15, 'population std. dev., as IPython');
  assert.ok(Math.abs(r.median - 2e-6) < 1e-15);
  assert.equal(r.toString(), '2 \u03bcs ± 816 ns per loop (mean ± std. dev. of 3 runs, 1,000 loops each)');
  assert.equal(new TimeitResult(1, 1, [0.5], 0).toString(), '500 ms ± 0 ns per loop (mean ± std. dev. of 1 run, 1 loop each)');
});

test('compare variants: one per line, or blocks headed by // label', () => {
  assert.deepEqual(splitVariants('a.push(1)\n\nb.unshift(1)\n').map((v) => v.label), ['a.push(1)', 'b.unshift(1)']);
  const blocks = splitVariants('// push\nconst a = [];\na.push(1)\n// map\n[1].map((x) => x)\n');
  assert.deepEqual(blocks.map((v) => v.label), ['push', 'map']);
  assert.equal(blocks[0].code, 'const a = [];\na.push(1)\n');
});

test('the registry suggests the nearest magic and lists help with every flag', () => {
  const registry = createRegistry();
  assert.throws(() => registry.lookup('timit', 'line'), (e: Error) => /Did you mean %timeit\?/.test(e.message));
  assert.throws(() => registry.lookup('lsmagic', 'cell'), (e: Error) => /%%lsmagic/.test(e.message));
  const help = registry.help('timeit');
  for (const flag of ['-n N', '-r R', '-t', '-c', '-p P', '-q', '-o', '--compare']) assert.ok(help.includes(flag), `help mentions ${flag}`);
});
