// The instrumenter on the syntax people write: each function is instrumented in every mode, must
// return what the original returns, and counts its lines by the README's table (one test per row).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import vm from 'node:vm'
import { instrument, MODES } from './helpers/instrumented.js'

/** Run `source` (a function) plain and instrumented in each mode on `args`; returns the hits by relative line. */
async function check(source: string, args: unknown[] = []): Promise<Map<number, number>> {
  const context = vm.createContext({ Symbol, Promise, Array, Map, Set, Error })
  const original = vm.runInContext(`(${source}\n)`, context) as (...a: unknown[]) => unknown
  const settle = async (v: unknown) => {
    const r = await v
    if (r && typeof r === 'object' && typeof (r as { next?: unknown }).next === 'function') {
      const out: unknown[] = []
      for await (const x of r as AsyncIterable<unknown>) out.push(x)
      return structuredClone(out)
    }
    return structuredClone(r)
  }
  const expected = await settle(original(...args))
  let hits: Map<number, number> | undefined
  for (const mode of MODES) {
    const copy = instrument(source, mode, context)
    const got = await settle(copy.fn(...args))
    assert.ok(isDeepStrictEqual(got, expected), `${mode}: ${JSON.stringify(got)} where the original gives ${JSON.stringify(expected)}\n${copy.code}`)
    const h = copy.hits()
    h.delete(0)
    if (hits) assert.deepEqual(h, hits, `${mode}: the same hits as the counters`)
    hits = h
  }
  return hits!
}

const lines = (hits: Map<number, number>): Record<number, number> => Object.fromEntries(hits)

test('semicolon-free code: lines starting with ( [ ` + - / keep their meaning', async () => {
  const hits = await check(`function f(n) {
  const a = Array.from({ length: n }, (_, i) => i)
  const list = []
  ;[a[0], a[1]] = [a[1], a[0]]
  ;(() => list.push(a[0]))()
  ;\`\${n}\`.length
  let x = n
  +1
  let y = x
  -2
  let z = y
  / 2
  return [a, list, x, y, z]
}`, [3])
  assert.deepEqual(lines(hits), { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1 })
})

test('row: a statement counts each of its lines once per execution; two statements on a line count it once', async () => {
  const hits = await check(`function f(n) {
  let s = 0; let t = 1
  for (let i = 0; i < n; i++) {
    s += Math.max(i,
      t)
    if (i > 1) { t++ }
  }
  return s + t
}`, [4])
  assert.deepEqual(lines(hits), { 1: 1, 2: 5, 3: 4, 4: 4, 5: 4, 7: 1 })
})

test('rows: for and while headers per test (N+1, N when left by break); for…of per step; one-line loops N+1', async () => {
  const hits = await check(`function f(xs) {
  let i = 0
  while (i < 3) i++
  for (let j = 0; j < 10; j++) {
    if (j === 4) break
  }
  for (const x of xs) {
    i += x
  }
  for (const x of xs) if (x === 2) break
  for (const k in { a: 1, b: 2 }) i++
  return i
}`, [[1, 2, 3]])
  assert.deepEqual(lines(hits), { 1: 1, 2: 4, 3: 5, 4: 5, 6: 4, 7: 3, 9: 2, 10: 3, 11: 1 })
})

test('rows: do…while (the do line per entry, the while line per test); labels with break and continue', async () => {
  const hits = await check(`function f() {
  let i = 0
  do {
    i++
  } while (i < 3)
  let n = 0
  outer: for (const a of [1, 2, 3]) {
    inner: for (let b = 0; b < 3; b++) {
      if (b === a) continue outer
      if (a === 3) break outer
      n++
    }
  }
  block: {
    if (n > 0) break block
    n = -1
  }
  return [i, n]
}`)
  // a = 1: b = 0, 1 (continue outer); a = 2: b = 0, 1, 2 (continue outer); a = 3: b = 0 (break outer)
  assert.deepEqual(lines(hits), { 1: 1, 2: 1, 3: 3, 4: 3, 5: 1, 6: 3, 7: 6, 8: 6, 9: 4, 10: 3, 14: 1, 17: 1 })
})

test('rows: switch and case labels, try/catch/finally, else, comma and sequence expressions', async () => {
  const hits = await check(`function f(k) {
  let out = []
  for (const x of [0, 1, 2]) {
    switch (x) {
      case 0:
        out.push('zero')
        break
      default:
        out.push('many')
    }
    try {
      if (x === 1) throw new Error('one')
      out.push(x)
    } catch (e) {
      out.push(e.message)
    } finally {
      out.push('f')
    }
    if (x === 2) {
      out.push('two')
    } else if (x === 1) {
      out.push((k++, k))
    } else {
      out.push('else')
    }
  }
  return out
}`, [10])
  assert.deepEqual(lines(hits), { 1: 1, 2: 4, 3: 3, 5: 1, 6: 1, 8: 2, 10: 3, 11: 3, 12: 2, 13: 1, 14: 1, 16: 3, 18: 3, 19: 1, 20: 2, 21: 1, 23: 1, 26: 1 })
})

test('rows: getters, setters, class fields, static blocks and methods of a class inside the function', async () => {
  const hits = await check(`function f() {
  'use strict'
  class Box {
    static count = 0
    #v = 1
    static {
      Box.count = 10
    }
    get v() {
      return this.#v
    }
    set v(x) {
      this.#v = x
    }
  }
  const b = new Box()
  b.v = 5
  const o = { get w() {
    return 7
  } }
  return [b.v, Box.count, o.w]
}`)
  assert.equal(hits.get(1), undefined, "a directive counts nothing")
  assert.equal(hits.get(6), 1, 'the static block runs once')
  assert.equal(hits.get(9), 1, 'the getter once')
  assert.equal(hits.get(12), 1, 'the setter once')
  assert.equal(hits.get(18), 1, 'the object getter once')
  assert.equal(hits.get(19), 1)
})

test('rows: async functions, generators and async generators, nested arrows with expression bodies', async () => {
  const a = await check(`async function f(xs) {
  let s = 0
  for (const x of xs) {
    s += await x
  }
  const double = (v) =>
    v * 2
  return xs.map(double).concat(s)
}`, [[1, 2]])
  assert.deepEqual(lines(a), { 1: 1, 2: 3, 3: 2, 5: 1, 6: 2, 7: 1 })
  const g = await check(`async function* f(n) {
  for (let i = 0; i < n; i++) {
    yield i
    await null
  }
}`, [3])
  assert.deepEqual(lines(g), { 1: 4, 2: 3, 3: 3 })
  const arrow = await check(`(n) =>
  n * 2`, [4])
  assert.deepEqual(lines(arrow), { 1: 1 }, 'an arrow profiled itself: its body line per call')
})
