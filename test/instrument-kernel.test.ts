// The instrumenter through a real kernel over ZeroMQ: issue 11's semicolon-free cells under %lprun
// (default and -x) and %mprun, loop lines counted per evaluation, and class methods profiled.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { assertAlive, errorOf, evalOk, ofType, streamText } from './helpers/kernel.js';

let k: LaunchedKernel;
before(async () => {
  k = await launchKernel({});
});
after(async () => {
  await k.stop();
});

/** Run a cell whose last line is an expression; returns that value, sent through JSON on stdout. */
async function json<T>(code: string): Promise<T> {
  const lines = code.split('\n');
  const last = lines.pop()
  const r = await k.client.execute([...lines, `console.log(JSON.stringify(${last}))`].join('\n'))
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  return JSON.parse(streamText(r.iopub, 'stdout')) as T
}

type Lines = Array<{ line: number; hits?: number; occurrences?: number; contents: string }>

/** Hits (or occurrences) by the line's text, trimmed. */
const byText = (lines: Lines, key: 'hits' | 'occurrences'): Map<string, number | undefined> => new Map(lines.map((l) => [l.contents.trim(), l[key]]))

// Issue 11's example, verbatim: no semicolons, a one-line loop body.
const BUILD = `function build() {
  const a = Array.from({ length: 1000 }, (_, i) => i)
  const m = new Map<number, number>()
  for (const x of a) m.set(x, x)
  return m.size
}
function fill(n: number) {
  const list: number[] = []
  for (let i = 0; i < n; i++) list.push(i)
  ;[list[0], list[1]] = [list[1], list[0]]
  return list.length
}`

test('semicolon-free build(): %lprun -x and %mprun run it and count the loop line per evaluation (N+1)', async () => {
  await evalOk(k, BUILD)
  const x = await json<Lines>('const lx = %lprun -x -r -q -f build build()\nlx.functions[0].lines')
  const hx = byText(x, 'hits')
  assert.equal(hx.get('const a = Array.from({ length: 1000 }, (_, i) => i)'), 1)
  assert.equal(hx.get('for (const x of a) m.set(x, x)'), 1001)
  assert.equal(hx.get('return m.size'), 1)
  const d = byText(await json<Lines>('const ld = %lprun -r -q -f build build()\nld.functions[0].lines'), 'hits')
  assert.equal(d.get('for (const x of a) m.set(x, x)'), 1001, 'default mode counts as -x does')

  const mem = await json<Lines>('const mp = %mprun -r -q -f build build()\nmp.functions[0].lines')
  assert.equal(byText(mem, 'occurrences').get('for (const x of a) m.set(x, x)'), 1001)
  const fill = byText(await json<Lines>('const mf = %mprun -r -q -f fill fill(100000)\nmf.functions[0].lines'), 'occurrences')
  assert.equal(fill.get('for (let i = 0; i < n; i++) list.push(i)'), 100001)
  assert.equal(fill.get(';[list[0], list[1]] = [list[1], list[0]]'), 1)
  assert.equal(await json<number>('fill(10)'), 10, 'the original is back and still right')
})

test('%mprun names its copies mprun-…, not lprun-…, in stacks', async () => {
  await evalOk(k, 'function boom() {\n  throw new Error("where")\n}')
  const r = await k.client.execute('%mprun -f boom boom()')
  const e = errorOf(r)
  const trace = e.traceback.join('\n')
  assert.match(trace, /mprun-\d+-boom/)
  assert.doesNotMatch(trace, /lprun-\d+-boom/)
  await assertAlive(k)
})

const SHAPES = `class Counter {
  static made = 0
  #count = 0
  step = 1
  static { Counter.made = 0 }
  constructor() {
    Counter.made++
  }
  #bump(by: number) {
    this.#count += by
    return this.#count
  }
  add(n: number) {
    for (let i = 0; i < n; i++)
      this.#bump(this.step)
    return this.#count
  }
  get value() {
    return this.#count
  }
  set value(v: number) {
    this.#count = v
  }
  async later(n: number) {
    await null
    return this.add(n)
  }
  static twice(n: number) {
    const c = new Counter()
    c.add(n)
    return c.add(n)
  }
  *items(n: number) {
    for (let i = 0; i < n; i++) yield i
  }
}
const shared = { total: 0, bump(n: number) {
  this.total += n
  return this.total
} }`

test('class methods: -f obj.method, -f Class.prototype.method, static, and -f Class for private members, accessors and async', async () => {
  await evalOk(k, SHAPES)
  // A method written with the shorthand syntax, on an object.
  const o = byText(await json<Lines>('const so = %lprun -x -r -q -f shared.bump shared.bump(2)\nso.functions[0].lines'), 'hits')
  assert.equal(o.get('this.total += n'), 1)
  assert.equal(await json<boolean>('Object.getOwnPropertyNames(shared).includes("bump")'), true)
  // Static, through the class.
  const s = byText(await json<Lines>('const ss = %lprun -r -q -f Counter.twice Counter.twice(3)\nss.functions[0].lines'), 'hits')
  assert.equal(s.get('c.add(n)'), 1)
  assert.equal(s.get('return c.add(n)'), 1)
  // A prototype method using private members cannot compile alone: without -x it is recompiled in
  // place (LiveEdit), so an object made before the run is measured; -x says to profile the class.
  await evalOk(k, 'const early = new Counter()')
  const inPlace = byText(await json<Lines>('const ip = %lprun -r -q -f Counter.prototype.add early.add(3)\nip.functions[0].lines'), 'hits')
  assert.equal(inPlace.get('for (let i = 0; i < n; i++)'), 4, 'loop header: 3 iterations + the last test')
  assert.equal(inPlace.get('this.#bump(this.step)'), 3)
  assert.equal(inPlace.get('return this.#count'), 1)
  const again = byText(await json<Lines>('const ip2 = %lprun -r -q -f early.add early.add(2)\nip2.functions[0].lines'), 'hits')
  assert.equal(again.get('this.#bump(this.step)'), 2, 'the same method through the object, profiled again')
  assert.equal(await json<number>('early.add(1)'), 6, "the object's state went on through the runs: 3 + 2 + 1")
  assert.equal(await json<boolean>('String(Counter).includes("__tsprof") || String(Counter.prototype.add).includes("__tsprof")'), false, 'the class and the method read as written after the runs')
  const r = await k.client.execute('%lprun -x -f Counter.prototype.add new Counter().add(3)')
  assert.match(errorOf(r).evalue, /profile the class, -f ClassName/)
  // The class copy cannot reach an object made before the run: the output says so, not just zeros.
  const before = await k.client.execute('%lprun -f Counter early.add(3)')
  const shown = ofType(before.iopub, 'display_data').map((m) => String((m.content as { data: Record<string, unknown> }).data['text/plain'] ?? '')).join('\n')
  assert.match(shown, /No line of Counter ran: .* objects made before the statement/)
  // The class: every method, private, accessors, async and generators, counted.
  await evalOk(k, `async function useCounter() {
  const c = new Counter()
  await c.later(4)
  c.value = 10
  return c.value + [...c.items(3)].length
}`)
  const c = await json<Lines>('const sc = %lprun -x -r -q -f Counter await useCounter()\nsc.functions[0].lines')
  const h = byText(c, 'hits')
  assert.equal(h.get('for (let i = 0; i < n; i++)'), 5, 'loop header: 4 iterations + the last test')
  assert.equal(h.get('this.#bump(this.step)'), 4)
  assert.equal(h.get('this.#count += by'), 4)
  assert.equal(h.get('await null'), 1)
  assert.equal(h.get('return this.add(n)'), 1)
  assert.equal(h.get('this.#count = v'), 1)
  const line = (n: number) => c.find((l) => l.line === n)?.hits
  assert.equal(line(11), 4, '#bump returns four times')
  assert.equal(line(16), 1, 'add returns once')
  assert.equal(line(19), 1, 'the getter runs once')
  assert.equal(h.get('for (let i = 0; i < n; i++) yield i'), 4)
  assert.equal(h.get('Counter.made++'), 1)
  // The class is back: a new instance is of the original class, and its methods are plain.
  assert.equal(await json<number>('new Counter().add(2)'), 2)
  // Prototype method of a class without private members, and an inherited one through an instance.
  await evalOk(k, 'class Shape {\n  area(w: number, h: number) {\n    const a = w * h\n    return a\n  }\n}\nconst sq = new Shape()')
  const p = byText(await json<Lines>('const sp = %mprun -r -q -f Shape.prototype.area sq.area(2, 3)\nsp.functions[0].lines'), 'occurrences')
  assert.equal(p.get('const a = w * h'), 1)
  const i = byText(await json<Lines>('const si = %lprun -x -r -q -f sq.area sq.area(2, 3)\nsi.functions[0].lines'), 'hits')
  assert.equal(i.get('return a'), 1)
  assert.equal(await json<boolean>('Object.prototype.hasOwnProperty.call(sq, "area")'), false, 'no own property left on the instance')
  await assertAlive(k)
})
