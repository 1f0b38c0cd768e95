// stdin over real sockets: prompt() (synchronous), await input(), password mode, readline on
// process.stdin, interrupts that end a pending input, allow_stdin: false, and jupyter_client's
// own input() round trip as the judge.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import type { Message } from '../kernel/wire/message.js'
import { assertAlive, content, errorOf, ofType, parentId, resultText, streamText, waitFor } from './helpers/kernel.js'
import { PYTHON, PYTHON_FLAGS } from './helpers/jupyter-env.js'

let k: LaunchedKernel
before(async () => {
  k = await launchKernel()
})
after(() => k?.stop())

interface InputRequest { prompt: string; password: boolean }

/** Answer input requests from `answers` in turn, recording each request. */
function answering(answers: string[]): Message[] {
  const asked: Message[] = []
  k.client.onInput((req) => {
    asked.push(req)
    return answers.shift() ?? ''
  })
  return asked
}

const run = (code: string) => k.client.execute(code, { allow_stdin: true, timeoutMs: 30_000 })

test('prompt() is synchronous and returns what the user typed; the request names the cell as parent', async () => {
  const asked = answering(['Ada'])
  const r = await run('const who = prompt("name?"); "hello " + who')
  assert.equal(resultText(r), "'hello Ada'")
  assert.equal(asked.length, 1)
  assert.deepEqual(content<InputRequest>(asked[0]), { prompt: 'name?', password: false })
  assert.equal(parentId(asked[0]), r.reply.parent_header.msg_id)
})

test('prompt() in a loop: three questions, three answers, in order; the default for an empty answer', async () => {
  const asked = answering(['1', '2', ''])
  const r = await run('const got = [prompt("a"), prompt("b"), prompt("c", "dflt")]; got.join(",")')
  assert.equal(resultText(r), "'1,2,dflt'")
  assert.deepEqual(asked.map((m) => content<InputRequest>(m).prompt), ['a', 'b', 'c'])
})

test('await input() and password mode', async () => {
  const asked = answering(['x', 's3cret'])
  const r = await run('const u = await input("user: "); const p = await input("password: ", { password: true }); `${u}:${p.length}`')
  assert.equal(resultText(r), "'x:6'")
  assert.deepEqual(asked.map((m) => content<InputRequest>(m)), [{ prompt: 'user: ', password: false }, { prompt: 'password: ', password: true }])
})

test('unicode and long answers arrive intact', async () => {
  const long = 'é€😀'.repeat(20_000)
  answering([long])
  const r = await run('const s = prompt(""); [s.length, s.slice(0, 4)]')
  assert.equal(resultText(r), `[ ${long.length}, 'é€😀' ]`)
})

test('output printed before a prompt is sent before it', async () => {
  const asked = answering(['y'])
  let streamsBefore = -1
  k.client.onInput((req) => {
    asked.push(req)
    streamsBefore = streamText(k.client.iopubFor(parentId(req)!)).length
    return 'y'
  })
  const r = await run('console.log("first"); prompt("go?")')
  assert.equal(streamText(r.iopub), 'first\n')
  assert.equal(streamsBefore, 'first\n'.length, 'the stream output had arrived when the question came')
})

test('readline on process.stdin asks in the notebook (question, then async iteration)', async () => {
  const asked = answering(['Grace', 'l1', 'l2'])
  const r = await run([
    'const readline = await import("node:readline")',
    'const rl = readline.createInterface({ input: process.stdin, output: process.stdout })',
    'const name = await new Promise((r) => rl.question("who? ", r))',
    'const it = rl[Symbol.asyncIterator]()',
    'const lines = [(await it.next()).value, (await it.next()).value]',
    'rl.close();',
    '[name, ...lines].join("|")',
  ].join('\n'))
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  assert.equal(resultText(r), "'Grace|l1|l2'")
  assert.equal(asked.length, 3, 'one request per line read; none after close')
  assert.match(streamText(r.iopub), /who\? /)
  // A second cell reads process.stdin again.
  answering(['again'])
  const r2 = await run('const rl2 = (await import("node:readline")).createInterface({ input: process.stdin }); const a2 = await new Promise((r) => rl2.question("", r)); rl2.close(); a2')
  assert.equal(resultText(r2), "'again'")
})

test('allow_stdin false: prompt(), input() and readline fail with StdinNotImplementedError', async () => {
  const asked = answering(['never'])
  for (const code of ['prompt("x")', 'await input("x")']) {
    const r = await k.client.execute(code, { allow_stdin: false })
    const err = errorOf(r)
    assert.equal(err.ename, 'StdinNotImplementedError', code)
    assert.match(err.evalue, /does not support input requests/)
  }
  assert.equal(asked.length, 0, 'no input_request was sent')
  await assertAlive(k)
})

for (const [what, code] of [
  ['prompt()', 'globalThis.gotIt = prompt("wait")'],
  ['prompt() after an await', 'await null; globalThis.gotIt = prompt("wait")'],
  ['await input()', 'globalThis.gotIt = await input("wait")'],
] as const) {
  test(`an interrupt ends a pending ${what} with KeyboardInterrupt; the next input works`, async () => {
    const asked: Message[] = []
    k.client.onInput((req) => {
      asked.push(req)
      return new Promise<string>(() => undefined) // never answered
    })
    const header = k.client.header('execute_request')
    const idle = k.client.waitIdle(header.msg_id, 30_000)
    const reply = k.client.sendRequest('shell', header, { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true }, 30_000)
    await waitFor(() => asked.length === 1, 10_000, 'the input request')
    const ir = await k.client.request('control', 'interrupt_request', {}, 10_000)
    assert.equal((ir.content as { status: string }).status, 'ok')
    const r = await reply
    await idle
    assert.equal((r.content as { status: string; ename: string }).status, 'error')
    assert.equal((r.content as { ename: string }).ename, 'KeyboardInterrupt')
    assert.equal(ofType(k.client.iopubFor(header.msg_id), 'error').length, 1)
    answering(['after'])
    const again = await run('prompt("again")')
    assert.equal(resultText(again), "'after'", JSON.stringify(again.reply.content))
    // An answer to the interrupted request, arriving late, is ignored (nothing is waiting).
    await k.client.replyInput(asked[0], 'late')
    assert.equal(resultText(await run('globalThis.gotIt')), undefined)
  })
}

test('an interrupt ends a pending readline question; process.stdin works again in the next cell', async () => {
  const asked: Message[] = []
  k.client.onInput((req) => {
    asked.push(req)
    return new Promise<string>(() => undefined)
  })
  const header = k.client.header('execute_request')
  const idle = k.client.waitIdle(header.msg_id, 30_000)
  const code = 'const rl3 = (await import("node:readline")).createInterface({ input: process.stdin }); await new Promise((r) => rl3.question("q? ", r))'
  const reply = k.client.sendRequest('shell', header, { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true }, 30_000)
  await waitFor(() => asked.length === 1, 10_000, 'the input request')
  await k.client.request('control', 'interrupt_request', {}, 10_000)
  const r = await reply
  await idle
  assert.equal((r.content as { ename?: string }).ename, 'KeyboardInterrupt')
  answering(['fresh'])
  const again = await run('const rl4 = (await import("node:readline")).createInterface({ input: process.stdin }); const a4 = await new Promise((r) => rl4.question("", r)); rl4.close(); a4')
  assert.equal(resultText(again), "'fresh'", JSON.stringify(again.reply.content))
})

test('jupyter_client: KernelClient.execute(allow_stdin=True) answered with kc.input()', { timeout: 60_000 }, () => {
  const script = `
import json, sys
from jupyter_client import BlockingKernelClient
kc = BlockingKernelClient(connection_file=sys.argv[1])
kc.load_connection_file()
kc.start_channels()
kc.wait_for_ready(timeout=20)
msg_id = kc.execute('const a = prompt("first?"); const b = await input("second?", { password: true }); a + "+" + b', allow_stdin=True)
prompts = []
for answer in ["one", "two"]:
    req = kc.get_stdin_msg(timeout=20)
    assert req["parent_header"]["msg_id"] == msg_id
    prompts.append([req["content"]["prompt"], req["content"]["password"]])
    kc.input(answer)
reply = kc.get_shell_msg(timeout=20)
while reply["parent_header"].get("msg_id") != msg_id:
    reply = kc.get_shell_msg(timeout=20)
result = None
while True:
    m = kc.get_iopub_msg(timeout=20)
    if m["parent_header"].get("msg_id") != msg_id: continue
    if m["msg_type"] == "execute_result": result = m["content"]["data"]["text/plain"]
    if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle": break
print(json.dumps({"status": reply["content"]["status"], "prompts": prompts, "result": result}))
kc.stop_channels()
`
  const p = spawnSync(PYTHON, [...PYTHON_FLAGS, '-c', script, k.connectionFile], { encoding: 'utf8', timeout: 50_000 })
  assert.equal(p.status, 0, p.stderr)
  const out = JSON.parse(p.stdout.trim().split('\n').at(-1)!)
  assert.deepEqual(out, { status: 'ok', prompts: [['first?', false], ['second?', true]], result: "'one+two'" })
})
