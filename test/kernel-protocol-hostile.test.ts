// Hostile protocol input over real sockets: replayed messages, msg_type values named after
// Object.prototype members, and stop_on_error with pipelined executes.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { SignatureHistory } from '../kernel/wire/replay.js'
import { assertAlive, evalOk, ofType, signedFrames, sleep, startExecute, stderrCount, waitFor } from './helpers/kernel.js'

let k: LaunchedKernel
before(async () => {
  k = await launchKernel()
})
after(() => k?.stop())

const executeBody = (code: string) => JSON.stringify({ code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true })

test('a byte-identical, validly signed message sent twice runs once; the replay is logged', async () => {
  await evalOk(k, 'globalThis.replayed = 0')
  const header = k.client.header('execute_request')
  const frames = signedFrames(k.connection.key, [JSON.stringify(header), '{}', '{}', executeBody('++globalThis.replayed')])
  const idle = k.client.waitIdle(header.msg_id, 10_000)
  await k.client.sendFrames('shell', frames)
  await idle
  await k.client.sendFrames('shell', frames)
  await waitFor(() => stderrCount(k, /replayed message/) >= 1, 5000, 'the replay log line')
  await sleep(200)
  assert.equal(await evalOk(k, 'globalThis.replayed'), '1')
  assert.equal(ofType(k.client.iopubFor(header.msg_id), 'execute_input').length, 1, 'one execute_input for the message')
  // The same replay on control is refused too.
  const ctl = k.client.header('kernel_info_request')
  const ctlFrames = signedFrames(k.connection.key, [JSON.stringify(ctl), '{}', '{}', '{}'])
  await k.client.sendFrames('control', ctlFrames)
  await k.client.sendFrames('control', ctlFrames)
  await waitFor(() => stderrCount(k, /replayed message/) >= 2, 5000, 'the control replay log line')
  await assertAlive(k)
})

test('the signature history is bounded and forgets the oldest first', () => {
  const h = new SignatureHistory(3)
  for (const s of ['a', 'b', 'c']) assert.equal(h.add(s), true)
  assert.equal(h.add('a'), false)
  assert.equal(h.add('d'), true)
  assert.equal(h.size, 3)
  assert.equal(h.add('a'), true, 'a was the oldest and was forgotten')
  assert.equal(h.add('c'), false)
  assert.equal(h.add(''), true)
  assert.equal(h.add(''), true, 'unsigned messages are not tracked')
})

for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf']) {
  test(`msg_type ${JSON.stringify(name)} gets the unknown-type error reply`, async () => {
    for (const channel of ['shell', 'control'] as const) {
      const header = k.client.header(name)
      const idle = k.client.waitIdle(header.msg_id, 10_000)
      const reply = await k.client.sendRequest(channel, header, {}, 10_000)
      await idle
      const c = reply.content as { status: string; ename: string; evalue: string }
      assert.equal(c.status, 'error', channel)
      assert.equal(c.ename, 'UnknownMessageType', channel)
      assert.equal(c.evalue, `tsprof does not handle ${name}`)
    }
    await assertAlive(k)
  })
}

test('stop_on_error: three pipelined executes, the first throws → error, aborted, aborted; neither later cell ran', async () => {
  await evalOk(k, 'globalThis.ran2 = 0; globalThis.ran3 = 0')
  for (const first of ['throw new Error("first")', 'await null; throw new Error("first, after an await")', 'await new Promise((r) => setTimeout(r, 100)); throw new Error("late")']) {
    const a = startExecute(k, first)
    const b = startExecute(k, 'globalThis.ran2++')
    const c = startExecute(k, 'globalThis.ran3++')
    const statuses = await Promise.all([a, b, c].map(async (x) => ((await x.done).reply.content as { status: string }).status))
    assert.deepEqual(statuses, ['error', 'aborted', 'aborted'], first)
    assert.equal(await evalOk(k, 'globalThis.ran2 + globalThis.ran3'), '0', `${first}: cells 2 and 3 never ran`)
  }
})

test('stop_on_error: the abort ends with the queue; a cell sent after the error reply runs', async () => {
  await evalOk(k, 'globalThis.after = 0')
  const a = startExecute(k, 'throw new Error("x")')
  assert.equal(((await a.done).reply.content as { status: string }).status, 'error')
  await sleep(50)
  assert.equal(await evalOk(k, '++globalThis.after'), '1')
})

test('stop_on_error false: the queued cells run', async () => {
  await evalOk(k, 'globalThis.ran4 = 0')
  const a = startExecute(k, 'throw new Error("x")', { stop_on_error: false })
  const b = startExecute(k, 'globalThis.ran4++')
  const c = startExecute(k, 'globalThis.ran4++')
  const statuses = await Promise.all([a, b, c].map(async (x) => ((await x.done).reply.content as { status: string }).status))
  assert.deepEqual(statuses, ['error', 'ok', 'ok'])
  assert.equal(await evalOk(k, 'globalThis.ran4'), '2')
})

test('aborted replies carry the execution count and their own busy/idle', async () => {
  // The failing cell runs 100 ms first, so the second request has surely arrived (this test is about
  // the shape of an aborted reply, not the race).
  const a = startExecute(k, 'const until = Date.now() + 100\nwhile (Date.now() < until) {}\nthrow new Error("x")')
  const b = startExecute(k, '1')
  const [, rb] = await Promise.all([a.done, b.done])
  const c = rb.reply.content as { status: string; execution_count: number }
  assert.equal(c.status, 'aborted')
  assert.equal(typeof c.execution_count, 'number')
  const states = ofType(rb.iopub, 'status').map((m) => (m.content as { execution_state: string }).execution_state)
  assert.deepEqual(states, ['busy', 'idle'])
  assert.equal(ofType(rb.iopub, 'execute_input').length, 0, 'an aborted cell is not announced')
})
