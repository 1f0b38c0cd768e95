// Completion, inspection and is_complete through the real service (TypeScript worker included),
// with a fake runtime standing in for the VM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createLanguageService, type LanguageService, type RuntimeIntrospection } from '../kernel/language/index.js';
import { codePointToUtf16, utf16ToCodePoint } from '../kernel/language/code-points.js';
import { inspectTarget, memberReceiver } from '../kernel/language/cursor.js';
import { blankMagicLines } from '../kernel/language/magics.js';
import { scanCode } from '../kernel/language/scan.js';
import { WorkerClient } from '../kernel/language/worker-client.js';

/** Cursor at the end of `code`, in code points as the protocol counts. */
const end = (code: string): number => [...code].length;

interface TypeInfo {
  start: number;
  end: number;
  text: string;
  type: string;
  signature?: string;
}

function types(reply: { metadata: Record<string, unknown> }): TypeInfo[] {
  return reply.metadata._jupyter_types_experimental as TypeInfo[];
}

class FakeRuntime implements RuntimeIntrospection {
  lexical: string[] = [];
  values = new Map<string, unknown>();
  peeked: string[] = [];
  async lexicalNames(): Promise<string[]> {
    return this.lexical;
  }
  async peek(expression: string): Promise<{ ok: true; value: unknown } | { ok: false }> {
    this.peeked.push(expression);
    return this.values.has(expression) ? { ok: true, value: this.values.get(expression) } : { ok: false };
  }
}

describe('language service', () => {
  const runtime = new FakeRuntime();
  let service: LanguageService;

  before(() => {
    service = createLanguageService(runtime);
  });
  after(async () => {
    await service.close();
  });

  test('does not load TypeScript on the main thread', async () => {
    await service.complete('Math.fl', 7);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    assert.equal(loaded.filter((f) => /typescript[\\/]lib[\\/]typescript\.js$/.test(f)).length, 0);
  });

  test('Math.fl offers floor, replacing the fragment', async () => {
    const r = await service.complete('Math.fl', 7);
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.matches, ['floor']);
    assert.equal(r.cursor_start, 5);
    assert.equal(r.cursor_end, 7);
    const [floor] = types(r);
    assert.equal(floor.text, 'floor');
    assert.equal(floor.type, 'function');
    assert.equal(floor.start, 5);
    assert.equal(floor.end, 7);
    assert.match(floor.signature ?? '', /^\(x: number\): number/);
  });

  test('members of an object from an earlier cell', async () => {
    service.addCell('const point = { x: 1, y: 2 }');
    const r = await service.complete('point.', 6);
    assert.deepEqual(r.matches, ['x', 'y']);
    assert.equal(r.cursor_start, 6);
    assert.equal(r.cursor_end, 6);
    assert.deepEqual(types(r).map((t) => t.type), ['property', 'property']);
  });

  test('a name from an earlier cell', async () => {
    const r = await service.complete('poi', 3);
    assert.ok(r.matches.includes('point'), r.matches.join());
    assert.equal(r.cursor_start, 0);
    assert.equal(r.cursor_end, 3);
  });

  test('a cursor inside an identifier replaces the whole identifier', async () => {
    const r = await service.complete('Math.flo + 1', 7);
    assert.deepEqual(r.matches, ['floor']);
    assert.equal(r.cursor_start, 5);
    assert.equal(r.cursor_end, 8);
  });

  test('the user\'s names rank before globals, without duplicates', async () => {
    service.addCell('const parseConfig = (s: string) => s.length');
    runtime.lexical = ['point', 'parseConfig'];
    const r = await service.complete('pars', 4);
    assert.equal(r.matches[0], 'parseConfig');
    assert.ok(r.matches.includes('parseInt'));
    assert.ok(r.matches.includes('parseFloat'));
    assert.equal(new Set(r.matches).size, r.matches.length);
  });

  test('an interface member from an earlier cell', async () => {
    service.addCell('interface Config {\n  port: number;\n  host: string;\n}');
    service.addCell('const cfg: Config = { port: 8080, host: "localhost" }');
    const r = await service.complete('cfg.po', 6);
    assert.deepEqual(r.matches, ['port']);
    const members = await service.complete('const c: Config = JSON.parse("{}");\nc.', end('const c: Config = JSON.parse("{}");\nc.'));
    assert.deepEqual(members.matches, ['host', 'port']);
  });

  test('a redeclared name has its latest type', async () => {
    service.addCell('let data = { count: 1 }');
    service.addCell('let data = "text"');
    const r = await service.complete('data.toUpp', 10);
    assert.deepEqual(r.matches, ['toUpperCase']);
    const none = await service.complete('data.cou', 8);
    assert.deepEqual(none.matches, []);
  });

  test('top-level await in an earlier cell types its result', async () => {
    service.addCell('const response = await Promise.resolve({ ok: true, status: 200 })');
    const r = await service.complete('response.', 9);
    assert.deepEqual(r.matches, ['ok', 'status']);
  });

  test('imports resolve with Node types', async () => {
    service.addCell("import { readFile } from 'node:fs/promises'");
    const r = await service.complete('readF', 5);
    assert.ok(r.matches.includes('readFile'), r.matches.join());
  });

  test('magic lines are ignored in cells, and a magic\'s arguments still complete', async () => {
    service.addCell('%time\nconst magicValue = { inside: true }');
    const r = await service.complete('magicValue.', 11);
    assert.deepEqual(r.matches, ['inside']);
    const args = await service.complete('%timeit Math.ab', 15);
    assert.deepEqual(args.matches, ['abs']);
    assert.equal(args.cursor_start, 13);
  });

  test('a cell assigning a magic\'s value keeps its declarations; the value comes from the runtime', async () => {
    service.addCell('const timing = %timeit -o Math.sqrt(2)\nconst afterMagic = { ok: 1 }');
    assert.deepEqual((await service.complete('afterMagic.', 11)).matches, ['ok']);
    runtime.values.set('timing', { average: 1e-6, stdev: 0 });
    const r = await service.complete('timing.', 7);
    assert.ok(runtime.peeked.includes('timing'));
    assert.deepEqual(r.matches.slice(0, 2), ['average', 'stdev']);
  });

  test('a runtime-only member comes from peek', async () => {
    runtime.values.set('runtimeThing', { hiddenField: 1, compute(a: number, b: number) { return a + b; } });
    const r = await service.complete('runtimeThing.', 13);
    assert.ok(runtime.peeked.includes('runtimeThing'));
    assert.equal(r.matches[0], 'compute');
    assert.equal(r.matches[1], 'hiddenField');
    assert.ok(r.matches.includes('hasOwnProperty'), 'prototype chain members are listed too');
    const compute = types(r).find((t) => t.text === 'compute');
    assert.equal(compute?.type, 'function');
    assert.equal(compute?.signature, '(a, b)');
    const filtered = await service.complete('runtimeThing.hid', 16);
    assert.deepEqual(filtered.matches, ['hiddenField']);
  });

  test('runtime globals and lexical names complete identifiers', async () => {
    runtime.values.set('globalThis', { userGlobalThing: 1 });
    runtime.lexical = ['lexicalOnlyThing'];
    const g = await service.complete('userGlob', 8);
    assert.deepEqual(g.matches, ['userGlobalThing']);
    const l = await service.complete('lexicalOn', 9);
    assert.deepEqual(l.matches, ['lexicalOnlyThing']);
  });

  test('an emoji before the cursor: positions are code points', async () => {
    const code = 'const s = "😀🎉"; Math.fl';
    assert.notEqual(code.length, end(code));
    const r = await service.complete(code, end(code));
    assert.deepEqual(r.matches, ['floor']);
    assert.equal(r.cursor_start, end(code) - 2);
    assert.equal(r.cursor_end, end(code));
    assert.equal(types(r)[0].start, end(code) - 2);
  });

  test('nothing is offered inside a comment', async () => {
    const r = await service.complete('// Math.fl', 10);
    assert.deepEqual(r.matches, []);
  });

  test('inspect a function with a JSDoc comment', async () => {
    service.addCell('/**\n * Greets someone politely.\n * @param name who to greet\n */\nfunction greet(name: string): string {\n  return `Hello, ${name}`;\n}');
    const r = await service.inspect('greet("Ada")', 2, 0);
    assert.equal(r.found, true);
    const text = r.data['text/plain'] as string;
    assert.match(text, /function greet\(name: string\): string/);
    assert.match(text, /Greets someone politely\./);
    assert.match(text, /@param name who to greet/);
    assert.match(r.data['text/markdown'] as string, /```typescript\nfunction greet/);
  });

  test('inspect inside a call\'s parentheses describes the function; detail 1 adds its source', async () => {
    const r = await service.inspect('greet(', 6, 1);
    assert.equal(r.found, true);
    const text = r.data['text/plain'] as string;
    assert.match(text, /function greet\(name: string\): string/);
    assert.match(text, /return `Hello, \$\{name\}`/);
  });

  test('inspect falls back to the runtime value', async () => {
    runtime.values.set('runtimeFn', function runtimeFn(a: number) { return a * 2; });
    const r = await service.inspect('runtimeFn', 3, 0);
    assert.equal(r.found, true);
    const text = r.data['text/plain'] as string;
    assert.match(text, /Type:\s+function/);
    assert.match(text, /Class:\s+Function/);
    assert.match(text, /runtimeFn\(a\)/);
  });

  test('inspect of an unknown name finds nothing', async () => {
    const r = await service.inspect('noSuchName', 4, 0);
    assert.equal(r.found, false);
    assert.deepEqual(r.data, {});
  });

  test('is_complete', async () => {
    assert.deepEqual(await service.isComplete('for (let i = 0; i < 3; i++) {'), { status: 'incomplete', indent: '    ' });
    assert.deepEqual(await service.isComplete('const x = 1'), { status: 'complete' });
    assert.deepEqual(await service.isComplete('const = ;'), { status: 'invalid' });
    assert.deepEqual(await service.isComplete('%timeit x + 1'), { status: 'complete' });
    assert.equal((await service.isComplete('const s = `line one\nline two')).status, 'incomplete');
    assert.equal((await service.isComplete('/* a comment')).status, 'incomplete');
    assert.deepEqual(await service.isComplete('const total = 1 +'), { status: 'incomplete', indent: '' });
    assert.deepEqual(await service.isComplete('const f = (a: number) =>'), { status: 'incomplete', indent: '' });
    assert.deepEqual(await service.isComplete('if (ok) {\n    call(1,'), { status: 'incomplete', indent: '        ' });
    assert.deepEqual(await service.isComplete('if (ok) {\n    call(1)'), { status: 'incomplete', indent: '    ' });
    assert.deepEqual(await service.isComplete("const s = 'abc"), { status: 'invalid' });
    assert.deepEqual(await service.isComplete('const = ;\nfoo('), { status: 'invalid' });
    assert.deepEqual(await service.isComplete('%%time\nconst y = await Promise.resolve(1)'), { status: 'complete' });
    assert.deepEqual(await service.isComplete(''), { status: 'complete' });
    assert.deepEqual(await service.isComplete('Math.floor?'), { status: 'complete' });
    assert.deepEqual(await service.isComplete('%timeit??'), { status: 'complete' });
    assert.deepEqual(await service.isComplete('const r = %time f()'), { status: 'complete' });
    assert.deepEqual(await service.isComplete('if (ok) {\n  %time f()'), { status: 'incomplete', indent: '  ' });
  });
});

describe('worker lifecycle', () => {
  test('an idle worker does not keep the process alive', async () => {
    const index = new URL('../kernel/language/index.js', import.meta.url).href;
    const script = `
      const { createLanguageService } = await import(${JSON.stringify(index)});
      const s = createLanguageService({ lexicalNames: async () => [], peek: async () => ({ ok: false }) });
      const r = await s.complete('Math.fl', 7);
      console.log(r.matches.join());`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error('the process did not exit: the worker keeps it alive'));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    assert.equal(out.trim(), 'floor');
  });

  test('close() ends the worker; later requests still answer', async () => {
    const runtime = new FakeRuntime();
    runtime.values.set('obj', { field: 1 });
    const s = createLanguageService(runtime);
    assert.equal((await s.isComplete('let a = (')).status, 'incomplete');
    await s.close();
    assert.deepEqual(await s.isComplete('let a = ('), { status: 'unknown' });
    const r = await s.complete('obj.fi', 6);
    assert.deepEqual(r.matches, ['field']);
  });

  test('the worker stops after the idle period', async () => {
    const client = new WorkerClient(new URL('../kernel/language/ts-worker.js', import.meta.url), { idleStopMs: 20 });
    assert.equal(client.running, false, 'not started before the first request');
    assert.deepEqual(await client.request('isComplete', { code: 'f(' }), { status: 'incomplete', indent: '    ' });
    assert.equal(client.running, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(client.running, false);
    await client.close();
  });

  test('a worker stopped when idle restarts with every cell', async () => {
    const s = createLanguageService(new FakeRuntime(), { idleStopMs: 20 });
    s.addCell('const early = { a: 1 }');
    assert.deepEqual((await s.complete('early.', 6)).matches, ['a']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    s.addCell('const late = { b: 2 }');
    assert.deepEqual((await s.complete('late.', 5)).matches, ['b']);
    assert.deepEqual((await s.complete('early.', 6)).matches, ['a']);
    await s.close();
  });
});

describe('text helpers', () => {
  test('code points ↔ UTF-16', () => {
    const s = 'a😀b';
    assert.equal(codePointToUtf16(s, 2), 3);
    assert.equal(utf16ToCodePoint(s, 3), 2);
    assert.equal(codePointToUtf16(s, 3), 4);
    assert.equal(codePointToUtf16('abc', 2), 2);
  });

  test('magic lines become spaces of the same length', () => {
    const code = '%timeit f(1)\nconst a = 1\n%%time';
    const blanked = blankMagicLines(code);
    assert.equal(blanked.length, code.length);
    assert.equal(blanked, ' '.repeat(12) + '\nconst a = 1\n' + ' '.repeat(6));
    assert.equal(blankMagicLines('%timeit f(1)', 10), '        f(1)');
    assert.equal(blankMagicLines('const t = %timeit -o f()'), 'const t = ℳ             ');
    assert.equal(blankMagicLines('x.y??\na ? b : c'), '     \na ? b : c');
  });

  test('the member chain before a dot', () => {
    const code = 'const v = a.b["c"].d(1).';
    assert.equal(memberReceiver(code, scanCode(code), code.length), 'a.b["c"].d(1)');
    const opt = 'x?.y?.';
    assert.equal(memberReceiver(opt, scanCode(opt), opt.length), 'x?.y');
    const str = '"a.b".';
    assert.equal(memberReceiver(str, scanCode(str), str.length), undefined);
    const num = '1.';
    assert.equal(memberReceiver(num, scanCode(num), num.length), undefined);
  });

  test('the inspect target inside a call is the callee', () => {
    const code = 'fs.readFile("a, b", ';
    assert.equal(inspectTarget(code, scanCode(code), code.length)?.expression, 'fs.readFile');
  });

  test('template substitutions are code, template text is not', () => {
    const code = 'const s = `a ${Math.fl';
    const scan = scanCode(code);
    assert.equal(scan.unterminated, undefined);
    assert.deepEqual(scan.open.map((o) => o.char), ['${']);
    const text = '`a ${x} b';
    assert.equal(scanCode(text).unterminated, 'template');
  });
});
