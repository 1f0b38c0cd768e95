// IPython's own %timeit and %time tests (IPython/core/tests/test_magic.py, ipython/ipython main,
// 2026-08), ported to TypeScript cells run through a real kernel over ZeroMQ. Each test keeps
// IPython's name and its expected outcome; where JavaScript forces a change, the comment says why.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { formatTime } from '../magics/render/format.js'
import { errorOf, evalOk, ofType, resultText, sleep, streamText } from './helpers/kernel.js'

let k: LaunchedKernel
before(async () => {
  k = await launchKernel()
})
after(() => k.stop())

/** Everything a cell printed or displayed, as text (what IPython's AssertPrints captures, and more). */
async function outputOf(code: string) {
  const r = await k.client.execute(code, { timeoutMs: 60_000 })
  const shown = ofType(r.iopub, 'display_data').concat(ofType(r.iopub, 'execute_result'))
    .map((m) => String((m.content as { data: Record<string, unknown> }).data['text/plain'] ?? ''))
  return { r, status: r.reply.content.status, stdout: streamText(r.iopub, 'stdout'), stderr: streamText(r.iopub, 'stderr'), all: streamText(r.iopub) + shown.join('\n') }
}

/** The interrupt IPython's tests send from a thread after 1 s (_interrupt_after_1s). */
async function interruptAfter1s(code: string) {
  const run = k.client.startExecute(code)
  await sleep(1000)
  await k.client.request('control', 'interrupt_request', {}, 5000)
  return run.done
}

// ---------------------------------------------------------------------------------------------
// %time

test('test_time', async () => {
  // `%time None`: JavaScript's None is null.
  assert.match((await outputOf('%time null')).stdout, /Wall time: /)
  // `def f(kmjy): %time print (2*kmjy)`, then f('hi') prints hihi: `2 * 'hi'` repeats a string in
  // Python and is NaN in JavaScript, so the string is repeated with .repeat(2).
  await evalOk(k, 'function f(kmjy: string) {\n  %time console.log(kmjy.repeat(2))\n}')
  const called = await outputOf("f('hi')")
  assert.match(called.stdout, /Wall time: /)
  assert.match(called.stdout, /hihi/)
  // print("a space") → console.log("a space").
  const spaced = await outputOf('%time console.log("a space")')
  for (const s of ['a space', 'Wall time: ', 'CPU times: ']) assert.ok(spaced.stdout.includes(s), s)
})

test('test_time_no_output_with_semicolon', async () => {
  // IPython hides the value of `%time 123000+456;`. In JavaScript `;` ends every statement, so it
  // cannot mean "hide the value": here the value shows with or without it (the kernel never hides a
  // value for a trailing `;`). `# Comment` is `// Comment`.
  for (const code of ['%time 123000+456', '%time 123000+456;', '%time 123000+456 // Comment', '%time 123000+456; // Comment', '%time 123000+456 // ;Comment',
    '%%time\n123000+456\n\n\n', '%%time\n123000+456;\n\n\n', '%%time\n123000+456  // Comment\n\n\n', '%%time\n123000+456;  // Comment\n\n\n', '%%time\n123000+456  // ;Comment\n\n\n']) {
    const out = await outputOf(code)
    assert.equal(out.status, 'ok', code)
    assert.match(out.stdout, /Wall time: /, code)
    assert.match(out.stdout, /CPU times: /, code)
    assert.equal(resultText(out.r), '123456', code)
  }
})

test('test_time_last_not_expression', async () => {
  // `var_1 = 1` creates a global in a sloppy-mode script, as in Python's namespace.
  await evalOk(k, '%%time\nvar_1 = 1\nvar_2 = 2\n')
  assert.equal(await evalOk(k, 'var_1'), '1')
  assert.equal(await evalOk(k, 'var_2'), '2')
})

test('test_time2', async () => {
  assert.match((await outputOf('%time null')).stdout, /CPU times: user /)
})

test('test_time3', async () => {
  // Erroneous magic function calls, issue gh-3334: `run` must not be taken for a magic.
  const out = await outputOf('%%time\nrun = 0\nrun += 1')
  assert.equal(out.status, 'ok')
  assert.doesNotMatch(out.stderr, /not found/)
})

test('test_multiline_time', async () => {
  // The last statement's value is the cell's value (IPython checks `_`; here it is the execute_result).
  // Python's names are rebindable, so let (later tests assign a and b again).
  const out = await outputOf('%%time\nlet a = "ho"\nlet b = "hey"\na+b\n')
  assert.equal(resultText(out.r), "'hohey'")
})

test('test_time_local_ns', async () => {
  await evalOk(k, '%%time\nmyvar = 1')
  assert.equal(await evalOk(k, 'myvar'), '1')
})

test('test_time_microseconds_display', () => {
  // IPython's _format_time(0.000001) is "1 μs" (Greek mu, U+03BC) on a UTF-8 stdout; Jupyter
  // outputs are UTF-8, so the ASCII "1 us" fallback has no case here.
  assert.equal(formatTime(0.000001), '1 \u03bcs')
})

test('test_time_no_var_expand', async () => {
  // user_ns['a'] = 5: a name Python can rebind, so let (test_timeit_arguments assigns a later).
  await evalOk(k, 'let a = 5\nlet b: string[] = []')
  await evalOk(k, '%time b.push("{a}")')
  assert.equal(await evalOk(k, 'JSON.stringify(b)'), `'["{a}"]'`)
})

test('test_time_raise_on_interrupt', async () => {
  // `from time import sleep; sleep(2)` blocks the interpreter; JavaScript's equivalent is a busy
  // wait (a timer would let the event loop run). The awaited form is interrupted too.
  for (const body of ['const end = Date.now() + 2000\nwhile (Date.now() < end) {}', 'await new Promise((r) => setTimeout(r, 2000))']) {
    const { reply } = await interruptAfter1s(`%%time\n${body}`)
    assert.equal(reply.content.status, 'error')
    assert.equal((reply.content as { ename?: string }).ename, 'KeyboardInterrupt', body)
  }
})

// ---------------------------------------------------------------------------------------------
// %timeit

test('test_run_magic_preserve_code_block', async () => {
  // [s.count(' ') for s in ['document']] → the number of spaces in each string.
  await evalOk(k, 'let spaces: number[][] = []')
  await evalOk(k, `%timeit -n1 -r1 spaces.push(['document'].map((s) => s.split(' ').length - 1))`)
  assert.equal(await evalOk(k, 'JSON.stringify(spaces)'), "'[[0]]'")
})

test('test_timeit_shlex', async () => {
  // shlex issues with timeit (#1109): quotes and spaces in the statement reach it untouched.
  await evalOk(k, 'function f(...a: unknown[]) {}')
  for (const stmt of ['-n1 "this is a bug".split(" ").length', '-r1 -n1 f(" ", 1)', '-r1 -n1 f(" ", 1, " ", 2, " ")', '-r1 -n1 ("a " + "b")', '-r1 -n1 f("a " + "b")', '-r1 -n1 f("a " + "b ")']) {
    assert.equal((await outputOf(`%timeit ${stmt}`)).status, 'ok', stmt)
  }
})

test('test_timeit_special_syntax', async () => {
  // IPython registers a line magic `lmagic` with @register_line_magic; tsprof has no API for user
  // magics, so the statement is a built-in line magic with the same visible effect: it runs the
  // rest of its line (%time), which stores the line.
  await evalOk(k, 'let lmagic_out = ""')
  await evalOk(k, '%timeit -n1 -r1 %time lmagic_out = "my line"')
  assert.equal(await evalOk(k, 'lmagic_out'), "'my line'")
  await evalOk(k, '%%timeit -n1 -r1\n%time lmagic_out = "my line2"')
  assert.equal(await evalOk(k, 'lmagic_out'), "'my line2'")
})

test('test_timeit_return', async () => {
  const out = await outputOf('const res = %timeit -n10 -r10 -o 1\nres !== null && res !== undefined')
  assert.equal(resultText(out.r), 'true')
})

test('test_timeit_save', async () => {
  await evalOk(k, '%timeit -n10 -r10 -v some_variable_name 1')
  assert.equal(await evalOk(k, 'some_variable_name !== null && some_variable_name !== undefined'), 'true')
  assert.equal(await evalOk(k, 'some_variable_name.loops * some_variable_name.repeat'), '100')
})

test('test_timeit_quiet', async () => {
  assert.doesNotMatch((await outputOf('%timeit -n1 -r1 -q 1')).all, /loops/)
})

test('test_timeit_return_quiet', async () => {
  // run_line_magic returns the object without showing it; as a cell, a returned value would be the
  // cell's result, so it is assigned.
  const out = await outputOf('const quietRes = %timeit -n1 -r1 -q -o 1')
  assert.doesNotMatch(out.all, /loops/)
  assert.equal(await evalOk(k, 'quietRes !== undefined'), 'true')
})

test('test_timeit_invalid_return', async () => {
  assert.equal(errorOf(await k.client.execute('%timeit return')).ename, 'SyntaxError')
})

test('test_timeit_raise_on_interrupt', async () => {
  // `%%timeit` with an empty setup line and `sleep(2)` in the body; a busy wait, as for %time.
  const { reply } = await interruptAfter1s('%%timeit\nconst end = Date.now() + 2000\nwhile (Date.now() < end) {}')
  assert.equal(reply.content.status, 'error')
  assert.equal((reply.content as { ename?: string }).ename, 'KeyboardInterrupt')
})

test('test_timeit_arguments', async () => {
  // Valid timeit arguments should not cause a SyntaxError (GH #1269): `a=('#')`.
  assert.equal((await outputOf("%timeit -n1 -r1 a=('#')")).status, 'ok')
})
