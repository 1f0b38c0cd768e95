// A cell that tampers with globals and prototypes breaks at most itself: the kernel's own code runs
// in a realm of its own (kernel/realm/), so the next cell — a result, an error, console.log,
// display() and every magic — works as before. Each tampering gets a fresh kernel.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { content, errorOf, evalOk, ofType, resultText, streamText, type DisplayContent } from './helpers/kernel.js'

const TAMPERINGS: string[] = [
  'Promise = undefined as any',
  '(Array.prototype as any).map = null',
  "Array.prototype.push = function () { throw new Error('push is broken') }",
  'delete (Array.prototype as any)[Symbol.iterator]',
  '(Promise.prototype as any).then = function () { return this }',
  '(Array.prototype as any).join = null',
  '(String.prototype as any).replace = null',
  '(Function.prototype as any).call = null',
  '(Function.prototype as any).apply = null',
  '(Function.prototype as any).bind = null',
  'Object.freeze(globalThis)',
  "JSON.stringify = () => 'x'",
  'Map = undefined as any',
  'Set = undefined as any',
  '(Math as any).max = null',
  "Number.prototype.toFixed = function () { throw new Error('toFixed is broken') }",
  'delete (globalThis as any).process',
  '(Object as any).keys = null; (Object as any).entries = null',
  'Symbol = undefined as any',
  '(String.prototype as any).split = null; (String.prototype as any).slice = null',
  "Object.defineProperty(Object.prototype, 'then', { get() { throw new Error('then getter') }, configurable: true })",
  'Error = undefined as any',
  'setTimeout = undefined as any; setImmediate = undefined as any',
]

/** Cells after the tampering, with the check each must pass. `f` is a lexical function (a frozen global takes no new properties). */
async function checkKernel(k: LaunchedKernel, label: string): Promise<void> {
  assert.equal(await evalOk(k, '1 + 1'), '2', `${label}: 1+1`)
  assert.equal(await evalOk(k, '({ a: 1, b: "two" })'), "{ a: 1, b: 'two' }", `${label}: a result`)
  const err = errorOf(await k.client.execute("throw new RangeError('boom')"))
  assert.equal(err.evalue, 'boom', `${label}: error display`)
  assert.ok(err.traceback.some((l) => l.includes('cell-')), `${label}: traceback names the cell: ${JSON.stringify(err.traceback)}`)
  const logged = await k.client.execute("console.log('hello', 42)")
  assert.equal(streamText(logged.iopub, 'stdout'), 'hello 42\n', `${label}: console.log`)
  const shown = await k.client.execute("display.html('<b>shown</b>')")
  const displays = ofType(shown.iopub, 'display_data')
  assert.equal(displays.length, 1, `${label}: display()`)
  assert.equal(content<DisplayContent>(displays[0]).data['text/html'], '<b>shown</b>')
  assert.equal(await evalOk(k, 'const f = (n: number): number => {\n  let s = 0\n  for (let i = 0; i < n; i++) {\n    s += i\n  }\n  return s\n}\nf(10)'), '45')
  for (const magic of ['%timeit -n 3 -r 2 f(100)', '%prun f(1000)', '%lprun -f f f(100)', '%mprun -f f f(100)', '%memit f(100)']) {
    const r = await k.client.execute(magic, { timeoutMs: 60_000 })
    assert.equal(r.reply.content.status, 'ok', `${label}: ${magic}: ${JSON.stringify(r.reply.content)}`)
    assert.ok(ofType(r.iopub, 'display_data').length > 0, `${label}: ${magic} shows its report`)
    // Nothing of the kernel's own reaches the tampered code: no uncaught error beside the report
    // (a `then` getter on Object.prototype used to fire from Node's dispatch of worker messages).
    assert.deepEqual(ofType(r.iopub, 'error').map((m) => content<{ evalue: string }>(m).evalue), [], `${label}: ${magic} shows no error`)
  }
  // %lprun counts exactly: f(100) runs its loop body (line 4) 100 times.
  const lp = await k.client.execute('%lprun -f f f(100)', { timeoutMs: 60_000 })
  const text = ofType(lp.iopub, 'display_data').map((m) => String(content<DisplayContent>(m).data['text/plain'] ?? '')).join('\n')
  assert.match(text, /^\s+4\s+100\s/m, `${label}: %lprun counts the loop body's 100 hits`)
}

/** Cases not fixed yet, with the cause measured (node:test todo: they run and report, and do not fail the run). */
const TODO: Record<string, string> = {
}

for (const tampering of TAMPERINGS) {
  test(`after \`${tampering}\` the next cells and every magic work`, { todo: TODO[tampering] }, async () => {
    const k = await launchKernel()
    try {
      const r = await k.client.execute(tampering, { timeoutMs: 30_000 })
      assert.ok(['ok', 'error'].includes(String(r.reply.content.status)), 'the tampering cell itself is answered')
      await checkKernel(k, tampering)
    } finally {
      await k.stop()
    }
  })
}

test('the kernel runs in a realm of its own: its functions are not the user realm\'s', async () => {
  const k = await launchKernel()
  try {
    assert.equal(await evalOk(k, 'display instanceof Function'), 'false')
    assert.equal(await evalOk(k, 'typeof display'), "'function'")
    assert.equal(await evalOk(k, '[] instanceof Array'), 'true')
    assert.equal(resultText(await k.client.execute("(await import('node:path')).join('a', 'b')")), "'a/b'")
  } finally {
    await k.stop()
  }
})

test('a tampering made for a benchmark stays in force for the user\'s own code', async () => {
  const k = await launchKernel()
  try {
    await evalOk(k, "const original = Array.prototype.map; (Array.prototype as any).map = function (fn: any) { return ['patched'] }")
    assert.equal(await evalOk(k, '[1, 2].map((x) => x)'), "[ 'patched' ]")
    assert.equal(await evalOk(k, '[1, 2, 3]'), '[ 1, 2, 3 ]')
  } finally {
    await k.stop()
  }
})

test('a then on Object.prototype stays the user\'s own: it answers for user objects, and results still show', async () => {
  const k = await launchKernel()
  try {
    await evalOk(k, "const thenGetter = function (this: any) { return this?.marked ? 'user then' : undefined }\nObject.defineProperty(Object.prototype, 'then', { get: thenGetter, configurable: true }); 'defined'")
    assert.equal(await evalOk(k, '({ marked: true } as any).then'), "'user then'")
    assert.equal(await evalOk(k, "Object.getOwnPropertyDescriptor(Object.prototype, 'then')?.get === thenGetter"), 'true', 'the kernel left the user\'s getter in place')
    assert.equal(await evalOk(k, '({ marked: true, n: 1 })'), "{ marked: true, n: 1 }")
    assert.equal(await evalOk(k, 'await Promise.resolve(7)'), '7')
  } finally {
    await k.stop()
  }
})

test('Function.prototype.apply set to null is put back (Node\'s event loop calls it), and the cell is told', async () => {
  const k = await launchKernel()
  try {
    const r = await k.client.execute('(Function.prototype as any).apply = null', { timeoutMs: 30_000 })
    assert.match(streamText(r.iopub, 'stderr'), /Function\.prototype\.apply .* put the original back/)
    assert.equal(await evalOk(k, 'typeof Function.prototype.apply'), "'function'")
    assert.equal(await evalOk(k, 'Math.max.apply(null, [1, 5, 3])'), '5')
    // set after an await, outside the cell's synchronous part
    const later = await k.client.execute('await null;\n(Function.prototype as any).apply = null', { timeoutMs: 30_000 })
    assert.match(streamText(later.iopub, 'stderr'), /put the original back/)
    assert.equal(await evalOk(k, 'typeof Function.prototype.apply'), "'function'")
    // a replacement that is a function stays in force
    assert.equal(await evalOk(k, 'let applied = 0\nconst realApply = Function.prototype.apply\nFunction.prototype.apply = function (this: any, ...a: any[]) { applied++; return Reflect.apply(realApply, this, a) } as any\nMath.max.apply(null, [2, 4])'), '4')
    assert.equal(await evalOk(k, 'applied > 0 && Function.prototype.apply !== realApply'), 'true')
  } finally {
    await k.stop()
  }
})
