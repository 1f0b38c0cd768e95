// Evaluation: redeclaration, top-level await, execute_result text, identity, imports of builtins
// and of CommonJS / ESM-only packages from the kernel's directory, TypeScript syntax, tracebacks.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { errorOf, evalOk, ofType, resultText } from './helpers/kernel.js';

let k: LaunchedKernel;
let dir: string;

/** A notebook directory with an ESM-only package, a CommonJS package and a local module. */
function makeNotebookDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'tsprof-eval-'));
  const pkg = (name: string, files: Record<string, string>): void => {
    const d = join(root, 'node_modules', name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  };
  pkg('esm-only', {
    'package.json': JSON.stringify({ name: 'esm-only', version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } } }),
    'index.js': `export default function greet(n) { return 'hello ' + n; }\nexport const named = 'esm-named';\nexport const obj = { kind: 'esm' };\n`,
  });
  pkg('cjs-pkg', {
    'package.json': JSON.stringify({ name: 'cjs-pkg', version: '1.0.0', main: 'main.js' }),
    'main.js': `exports.triple = (x) => x * 3;\nexports.obj = { kind: 'cjs' };\nexports.arr = [1, 2];\n`,
  });
  writeFileSync(join(root, 'local.mjs'), `export const where = 'local module';\n`);
  return root;
}

before(async () => {
  dir = makeNotebookDir();
  k = await launchKernel({ cwd: dir });
});
after(async () => {
  await k?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('re-running a cell that declares const, let, class and function works and updates the values', async () => {
  const cell = [
    'const rc: number = (globalThis as any).__runs = ((globalThis as any).__runs ?? 0) + 1;',
    'let rl = rc * 10;',
    'class RK { v = rc; }',
    'function rf(): number { return rc + 100; }',
    '[rc, rl, new RK().v, rf()]',
  ].join('\n');
  assert.equal(await evalOk(k, cell), '[ 1, 10, 1, 101 ]');
  assert.equal(await evalOk(k, cell), '[ 2, 20, 2, 102 ]');
  // The new bindings are the ones later cells see.
  assert.equal(await evalOk(k, '[rc, rl, new RK().v, rf()]'), '[ 2, 20, 2, 102 ]');
  // A different cell may redeclare with another type, too.
  assert.equal(await evalOk(k, 'const rc = "now a string"; rc'), "'now a string'");
  assert.equal(await evalOk(k, 'rl = 7; rl'), '7', 'let stays assignable');
});

test('top-level await works, and its bindings persist', async () => {
  assert.equal(await evalOk(k, 'await new Promise((r) => setTimeout(() => r(42), 20))'), '42');
  assert.equal(await evalOk(k, 'const awaited = await Promise.resolve({ ok: true });\nlet later = await Promise.resolve(5);'), undefined);
  assert.equal(await evalOk(k, '[awaited.ok, later]'), '[ true, 5 ]');
  assert.equal(await evalOk(k, 'for await (const x of [Promise.resolve(1)]) { globalThis.__fa = x }\n(globalThis as any).__fa'), '1');
});

test('the last expression becomes execute_result text/plain via util.inspect; undefined gives none', async () => {
  const obj = { a: 1, b: 'x', nested: { deep: [1, 2, 3] }, m: new Map([['k', 1]]) };
  assert.equal(await evalOk(k, `({ a: 1, b: 'x', nested: { deep: [1, 2, 3] }, m: new Map([['k', 1]]) })`), inspect(obj));
  const s = `it's "quoted"\nnewline`;
  assert.equal(await evalOk(k, JSON.stringify(s)), inspect(s));
  assert.equal(await evalOk(k, '10n ** 20n'), inspect(10n ** 20n));
  assert.equal(await evalOk(k, 'null'), 'null');
  for (const code of ['undefined', 'let u1 = 1', 'void 0', 'function noop() {}', 'console.log("x")']) {
    const r = await k.client.execute(code);
    assert.equal(r.reply.content.status, 'ok');
    assert.equal(ofType(r.iopub, 'execute_result').length, 0, `no execute_result for ${code}`);
  }
  // A trailing semicolon still shows the value (JavaScript has no IPython-style suppression).
  assert.equal(await evalOk(k, '1 + 1;'), '2');
});

test('values keep their identity across modules and cells (one realm)', async () => {
  assert.equal(await evalOk(k, '[] instanceof Array'), 'true');
  assert.equal(await evalOk(k, '({}).constructor === Object'), 'true');
  assert.equal(await evalOk(k, 'Object.getPrototypeOf((await import("node:os")).cpus()[0]) === Object.prototype'), 'true');
  assert.equal(await evalOk(k, '(await import("node:util")).types.isDate(new Date())'), 'true');
  assert.equal(await evalOk(k, 'require("node:fs").readdirSync(".") instanceof Array'), 'true');
  assert.equal(await evalOk(k, 'Buffer.from("x") instanceof Uint8Array'), 'true');
  assert.equal(await evalOk(k, 'require("cjs-pkg").arr instanceof Array && require("cjs-pkg").obj.constructor === Object'), 'true');
  assert.equal(await evalOk(k, '(await import("esm-only")).obj.constructor === Object'), 'true');
  assert.equal(await evalOk(k, 'globalThis.__keep = {}; 0'), '0');
  assert.equal(await evalOk(k, 'const kept = (globalThis as any).__keep; kept === (globalThis as any).__keep'), 'true');
});

test('import of node: builtins, static and dynamic', async () => {
  assert.equal(await evalOk(k, `import { join, basename } from 'node:path';\njoin('a', basename('/x/y.ts'))`), "'a/y.ts'");
  assert.equal(await evalOk(k, `import * as os from 'node:os';\ntypeof os.cpus`), "'function'");
  assert.equal(await evalOk(k, `import fs, { existsSync } from 'node:fs';\nfs.existsSync === existsSync`), 'true');
  assert.equal(await evalOk(k, `import { createHash as h } from 'crypto';\nh('sha1').update('').digest('hex')`), "'da39a3ee5e6b4b0d3255bfef95601890afd80709'");
  assert.equal(await evalOk(k, `(await import('node:path')).extname('a.ts')`), "'.ts'");
  assert.equal(await evalOk(k, `const { EventEmitter } = await import('node:events');\ntypeof EventEmitter`), "'function'");
  // A static import re-run in a second cell rebinds without "already declared".
  assert.equal(await evalOk(k, `import { join } from 'node:path';\njoin('b', 'c')`), "'b/c'");
});

test('CommonJS and ESM-only packages resolve from the kernel\'s directory', async () => {
  assert.equal(await evalOk(k, `import greet, { named } from 'esm-only';\n[greet('ts'), named]`), "[ 'hello ts', 'esm-named' ]");
  assert.equal(await evalOk(k, `import * as esm from 'esm-only';\nesm.named`), "'esm-named'");
  assert.equal(await evalOk(k, `const m = await import('esm-only');\nm.default('dyn')`), "'hello dyn'");
  assert.equal(await evalOk(k, `(await import('cjs-pkg')).triple(3)`), '9');
  assert.equal(await evalOk(k, `(await import('cjs-pkg')).default.triple(4)`), '12');
  assert.equal(await evalOk(k, `require('cjs-pkg').triple(5)`), '15');
  assert.equal(await evalOk(k, `import cjs, { triple } from 'cjs-pkg';\n[cjs.triple(1), triple(2)]`), '[ 3, 6 ]');
  assert.equal(await evalOk(k, `require('cjs-pkg') === (await import('cjs-pkg')).default`), 'true', 'one module instance');
  assert.equal(await evalOk(k, `(await import('./local.mjs')).where`), "'local module'");
  assert.equal(await evalOk(k, 'process.cwd()'), inspect(dir), 'the kernel runs in the notebook directory');
  const missing = await k.client.execute(`await import('no-such-package-xyz')`, { stop_on_error: false });
  assert.match(errorOf(missing).evalue, /no-such-package-xyz/);
});

test('TypeScript syntax runs: interfaces, enums, generics, annotations, as, satisfies, parameter properties', async () => {
  const code = [
    'interface Point { x: number; y: number }',
    'type Alias = string | number;',
    'enum Color { Red, Green = 5, Blue }',
    'const enum Dir { Up = "UP" }',
    'function first<T>(xs: readonly T[]): T | undefined { return xs[0]; }',
    'const p = { x: 1, y: 2 } satisfies Point;',
    'const n = (p as unknown as Point).x as number;',
    'const arr: Array<Alias> = [1, "a"];',
    'class Box<T> { constructor(private readonly value: T, public tag?: string) {} get(): T { return this.value; } }',
    'abstract class Base { abstract name(): string; hi() { return "hi " + this.name(); } }',
    'class Impl extends Base { name() { return "impl"; } }',
    'declare const declared: number;',
    'let definite!: string;',
    'const nonNull = arr[0]!;',
    'function over(a: string): string; function over(a: number): number; function over(a: any) { return a; }',
    '[Color.Red, Color.Green, Color.Blue, Color[5], Dir.Up, first<number>([7, 8]), n + p.y, arr.length, new Box(3, "t").get(), new Impl().hi(), nonNull, over(9)]',
  ].join('\n');
  assert.equal(await evalOk(k, code), inspect([0, 5, 6, 'Green', 'UP', 7, 3, 2, 3, 'hi impl', 1, 9]));
  // Types alone produce no value and no error.
  const r = await k.client.execute('interface OnlyTypes { a: string }\ntype T2 = OnlyTypes["a"];');
  assert.equal(r.reply.content.status, 'ok');
  assert.equal(resultText(r), undefined);
});

test('a TypeScript namespace with values runs (it is not silently dropped)', async () => {
  const r = await k.client.execute('namespace Geometry {\n  export const unit = 1;\n  export function double(x: number) { return 2 * x; }\n}\nGeometry.double(Geometry.unit + 20)', { stop_on_error: false });
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  assert.equal(resultText(r), '42');
  // Type-only namespaces and ambient declarations are erased without error.
  assert.equal(await evalOk(k, 'declare namespace Ambient { const x: number }\ndeclare module "virtual" { export const y: string }\nnamespace Types { export type T = string }\n"erased"'), "'erased'");
});

function assertClean(traceback: string[]): void {
  const text = traceback.join('\n');
  for (const bad of ['node:internal', 'dist/kernel', 'tsprof-runner', '/kernel/session/', 'Runtime.evaluate']) {
    assert.ok(!text.includes(bad), `traceback mentions ${bad}:\n${text}`);
  }
}

test('a traceback names the cell and the TypeScript line, below a multi-line interface, without kernel internals', async () => {
  const code = [
    'interface Shape {', //        1
    '  kind: string;', //          2
    '  area(): number;', //        3
    '}', //                        4
    'enum Sides {', //             5
    '  Three = 3,', //             6
    '  Four,', //                  7
    '}', //                        8
    'function boom(s: Shape): number {', // 9
    '  const sides: Sides = Sides.Four;', // 10
    "  throw new Error('bad shape ' + s.kind + sides);", // 11
    '}', //                        12
    "boom({ kind: 'sq', area: () => 1 } as Shape);", // 13
  ].join('\n');
  const r = await k.client.execute(code, { stop_on_error: false });
  const count = r.reply.content.execution_count as number;
  const err = errorOf(r);
  assert.equal(err.ename, 'Error');
  assert.equal(err.evalue, 'bad shape sq4');
  const text = err.traceback.join('\n');
  assert.match(text, new RegExp(`\\bcell-${count}:11\\b`), `throw site line 11 in:\n${text}`);
  assert.match(text, new RegExp(`\\bcell-${count}:13\\b`), `call site line 13 in:\n${text}`);
  assert.ok(!new RegExp(`cell-${count}:(?!11\\b|13\\b)\\d+`).test(text), `no other cell line in:\n${text}`);
  assertClean(err.traceback);
});

test('a traceback through a function of an earlier cell names both cells; multi-line imports keep lines', async () => {
  const def = await k.client.execute('// helper\n\nfunction failDeep(x: number): never {\n  throw new TypeError(`deep ${x}`);\n}');
  const defCount = def.reply.content.execution_count as number;
  const use = await k.client.execute('const y: number = 1;\nfailDeep(y);', { stop_on_error: false });
  const useCount = use.reply.content.execution_count as number;
  const err = errorOf(use);
  assert.equal(err.ename, 'TypeError');
  const text = err.traceback.join('\n');
  assert.match(text, new RegExp(`\\bcell-${defCount}:4\\b`), text);
  assert.match(text, new RegExp(`\\bcell-${useCount}:2\\b`), text);
  assertClean(err.traceback);

  const imp = await k.client.execute("import {\n  join,\n  basename,\n} from 'node:path';\nconst q: string = join('a', basename('/b'));\nthrow new RangeError(q);", { stop_on_error: false });
  const impErr = errorOf(imp);
  assert.equal(impErr.evalue, 'a/b');
  assert.match(impErr.traceback.join('\n'), new RegExp(`\\bcell-${imp.reply.content.execution_count}:6\\b`), impErr.traceback.join('\n'));
  assertClean(impErr.traceback);
});

test('a syntax error names the cell and line, and a thrown non-Error is reported', async () => {
  const r = await k.client.execute('const ok = 1;\nconst bad = ;\n', { stop_on_error: false });
  const err = errorOf(r);
  assert.equal(err.ename, 'SyntaxError');
  assert.match(err.traceback.join('\n'), new RegExp(`cell-${r.reply.content.execution_count}:2\\b`));
  assertClean(err.traceback);
  const s = await k.client.execute('throw "just a string"', { stop_on_error: false });
  assert.match(errorOf(s).evalue, /just a string/);
});
