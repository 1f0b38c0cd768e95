// Interrupt: interrupt_request on control and a real SIGINT stop a spinning cell and a
// never-settling await quickly, report KeyboardInterrupt, and keep every variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { assertAlive, content, evalOk, ofType, parentId, resultText, sleep, startExecute, typeOf, waitFor, withTimeout, type ErrorContent } from './helpers/kernel.js';

/**
 * The kernel's target is 100 ms from request to stop. What we measure here also contains the
 * client's ZeroMQ send over loopback, the kernel's I/O thread, signal delivery, the kernel
 * publishing the error and the reply, and this test process's own event loop — on a 2-core
 * machine where the spinning kernel holds one core and node --test's parent process shares the
 * other. Those add a few ms normally and can add a scheduler tick or two under load, so we allow
 * 150 ms on top. Measured here: 2–6 ms. A regression to "never" or "seconds" still fails.
 */
const LIMIT_MS = 250;

let k: LaunchedKernel;
before(async () => {
  k = await launchKernel();
  await evalOk(k, 'let before = 41; const kept = { list: [1, 2, 3] };');
});
after(() => k?.stop());

type How = 'interrupt_request' | 'SIGINT';

async function interruptCell(kernel: LaunchedKernel, code: string, how: How, timeoutMs = 30_000, replyWaitMs = 5000): Promise<{ ms: number; errMs: number; err: ErrorContent; replyContent: Record<string, unknown> }> {
  const cell = startExecute(kernel, code, { timeoutMs });
  await waitFor(() => kernel.client.iopubFor(cell.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the cell to start');
  await sleep(150); // well inside the loop / the await
  const repliedAt = cell.reply.then(() => performance.now());
  const erroredAt = new Promise<number>((resolve) => {
    const off = kernel.client.onIopub((m) => {
      if (typeOf(m) === 'error' && parentId(m) === cell.msgId) {
        off();
        resolve(performance.now());
      }
    });
  });
  const sentAt = performance.now();
  if (how === 'SIGINT') {
    assert.ok(kernel.child.kill('SIGINT'));
  } else {
    const ir = await kernel.client.request('control', 'interrupt_request', {}, 5000);
    assert.equal(ir.header.msg_type, 'interrupt_reply');
    assert.equal(ir.content.status, 'ok');
  }
  const ms = (await withTimeout(repliedAt, replyWaitMs, `the interrupted cell's reply (${how})`)) - sentAt;
  const errMs = (await withTimeout(erroredAt, 5000, 'the error message')) - sentAt;
  const r = await withTimeout(cell.done, 5000, 'idle after the interrupt');
  const errors = ofType(r.iopub, 'error');
  assert.equal(errors.length, 1, 'one error message for the interrupted cell');
  return { ms, errMs, err: content<ErrorContent>(errors[0]), replyContent: r.reply.content };
}

function assertKeyboardInterrupt(res: Awaited<ReturnType<typeof interruptCell>>, label: string): void {
  console.log(`# ${label}: reply ${res.ms.toFixed(1)} ms, error message ${res.errMs.toFixed(1)} ms after the interrupt`);
  assert.equal(res.replyContent.status, 'error');
  assert.equal(res.replyContent.ename, 'KeyboardInterrupt');
  assert.equal(res.err.ename, 'KeyboardInterrupt');
  assert.ok(res.err.traceback.length > 0);
  assert.ok(res.ms < LIMIT_MS, `${label}: stopped in ${res.ms.toFixed(1)} ms (limit ${LIMIT_MS})`);
  assert.ok(res.errMs < LIMIT_MS, `${label}: error published in ${res.errMs.toFixed(1)} ms`);
}

async function assertStateKept(marker: string): Promise<void> {
  assert.equal(await evalOk(k, 'before + 1'), '42');
  assert.equal(await evalOk(k, 'kept.list.length'), '3');
  assert.equal(await evalOk(k, `(globalThis as any).${marker}`), "'set before the interrupt'", 'side effects before the interrupt are kept');
  await assertAlive(k);
}

test('interrupt_request stops a synchronous while (true) {} quickly and keeps state', async () => {
  const res = await interruptCell(k, "(globalThis as any).__m1 = 'set before the interrupt';\nconsole.log('spin');\nwhile (true) {}", 'interrupt_request');
  assertKeyboardInterrupt(res, 'interrupt_request, while(true)');
  await assertStateKept('__m1');
});

test('interrupt_request releases a never-settling await quickly and keeps state', async () => {
  const res = await interruptCell(k, "(globalThis as any).__m2 = 'set before the interrupt';\nconsole.log('wait');\nawait new Promise(() => {});", 'interrupt_request');
  assertKeyboardInterrupt(res, 'interrupt_request, await forever');
  await assertStateKept('__m2');
});

test('SIGINT stops a synchronous while (true) {} quickly and keeps state', async () => {
  const res = await interruptCell(k, "(globalThis as any).__m3 = 'set before the interrupt';\nconsole.log('spin');\nfunction spinForever() { for (;;) {} }\nspinForever();", 'SIGINT');
  assertKeyboardInterrupt(res, 'SIGINT, while(true)');
  await assertStateKept('__m3');
});

test('SIGINT releases a never-settling await quickly and keeps state', async () => {
  const res = await interruptCell(k, "(globalThis as any).__m4 = 'set before the interrupt';\nconsole.log('wait');\nconst never = await new Promise<number>(() => {});", 'SIGINT');
  assertKeyboardInterrupt(res, 'SIGINT, await forever');
  await assertStateKept('__m4');
});

test('an interrupted await does not resume the rest of the cell later', async () => {
  const cell = "console.log('wait');\nawait new Promise((r) => setTimeout(r, 500));\n(globalThis as any).__resumed = 'yes';\nconsole.log('resumed after interrupt');";
  const res = await interruptCell(k, cell, 'interrupt_request');
  assertKeyboardInterrupt(res, 'interrupt_request, await of a 500 ms timer');
  const heard: string[] = [];
  const off = k.client.onIopub((m) => {
    if (typeOf(m) === 'stream') heard.push((m.content as { text: string }).text);
  });
  await sleep(700); // past the moment the awaited timer fires
  off();
  assert.equal(await evalOk(k, 'typeof (globalThis as any).__resumed'), "'undefined'", 'the code after the interrupted await never ran');
  assert.ok(!heard.join('').includes('resumed after interrupt'), `no output from the interrupted cell afterwards: ${JSON.stringify(heard)}`);
});

test('an interrupt while idle is harmless', async () => {
  const ir = await k.client.request('control', 'interrupt_request', {}, 5000);
  assert.equal(ir.content.status, 'ok');
  k.child.kill('SIGINT');
  await sleep(200);
  assert.equal(k.child.exitCode, null);
  assert.equal(k.child.signalCode, null);
  assert.equal(await evalOk(k, 'before'), '41');
  // and the next cell is not hit by a stale interrupt
  assert.equal(await evalOk(k, 'await new Promise((r) => setTimeout(() => r("slept"), 100))'), "'slept'");
});

// Every position a loop can spin in: the I/O thread stops it through an inspector session on the
// main thread (kernel/io/interrupter.ts); the kernel and every variable survive, and a queued cell runs.
const POSITIONS: Array<[string, string]> = [
  ['after an await', "await new Promise((r) => setTimeout(r, 10));\nconsole.log('spin');\nwhile (true) {}"],
  ['after await null', "console.log('spin');\nawait null;\nwhile (true) {}"],
  ['in a timer', "setTimeout(() => { while (true) {} }, 50);\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
]

// A loop in a microtask or an immediate queued by the cell: V8 drops the whole microtask queue when
// it terminates a microtask, and Node drops the rest of the batch of immediates when it terminates
// one; the kernel's own continuation must survive both (session.ts runCell, interrupt-point.ts).
// Each runs on a kernel of its own, so that a hang cannot spill into the other tests.
const OWN_KERNEL_POSITIONS: Array<[string, string, [string, string]?]> = [
  ['in a promise callback', "Promise.resolve().then(() => { while (true) {} });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in a promise callback of a cell that does not wait', "Promise.resolve().then(() => { while (true) {} });\nconsole.log('spin');"],
  ['in queueMicrotask', "queueMicrotask(() => { while (true) {} });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in process.nextTick', "process.nextTick(() => { while (true) {} });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in an async function called without await', "async function spin() { await null; await null; while (true) {} }\nspin();\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in a promise callback queued by a timer', "setTimeout(() => Promise.resolve().then(() => { while (true) {} }), 20);\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in an event handler', "const { EventEmitter } = await import('node:events');\nconst bus = new EventEmitter();\nbus.on('tick', () => { while (true) {} });\nsetTimeout(() => bus.emit('tick'), 50);\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in setImmediate', "setImmediate(() => { while (true) {} });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
  ['in the middle of three immediates', "setImmediate(() => { (globalThis as any).first = 1 });\nsetImmediate(() => { while (true) {} });\nsetImmediate(() => { (globalThis as any).third = 3 });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));", ['[(globalThis as any).first, (globalThis as any).third]', '[ 1, 3 ]']],
  ['in an fs callback', "const fs = await import('node:fs');\nfs.readFile('/etc/hostname', () => { while (true) {} });\nconsole.log('spin');\nawait new Promise((r) => setTimeout(r, 60_000));"],
]

/**
 * After an interrupt the event loop must still work as before: timers, immediates, ticks and
 * promises fire, and a kernel left idle uses no CPU (a turn that never ends would spin it).
 */
async function assertLoopHealthy(kernel: LaunchedKernel): Promise<void> {
  const r = await kernel.client.execute("await new Promise((r) => setTimeout(r, 20)); await new Promise((r) => setImmediate(r)); await new Promise((r) => process.nextTick(r)); await Promise.resolve(); 'turns ok'", { timeoutMs: 5000 })
  assert.equal(resultText(r), "'turns ok'")
  const pid = kernel.child.pid!
  const before = cpuMs(pid)
  await sleep(1000)
  const used = cpuMs(pid) - before
  assert.ok(used < 200, `an idle kernel used ${used} ms of CPU in 1 s after the interrupt`)
}

/** User + system CPU time of a process, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

for (const [where, code, kept] of OWN_KERNEL_POSITIONS) {
  test(`interrupt_request stops a loop ${where}, keeps state, and a queued cell runs (own kernel)`, async () => {
    const own = await launchKernel()
    try {
      await evalOk(own, 'let survivor = 41')
      const cell = startExecute(own, code, { timeoutMs: 30_000, stop_on_error: false })
      await waitFor(() => own.client.iopubFor(cell.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the cell to start')
      const queued = startExecute(own, 'survivor + 1', { timeoutMs: 30_000 })
      await sleep(150)
      const ir = await own.client.request('control', 'interrupt_request', {}, 5000)
      assert.equal(ir.content.status, 'ok')
      const r = await withTimeout(cell.done, 5000, 'the interrupted cell to finish')
      assert.equal(r.reply.content.ename, 'KeyboardInterrupt')
      assert.equal(ofType(r.iopub, 'error').length, 1, 'one error message for the interrupted cell')
      const q = await withTimeout(queued.done, 5000, 'the queued cell to finish')
      assert.equal(resultText(q), '42', 'the cell queued behind the interrupted one ran')
      assert.equal(await evalOk(own, 'survivor'), '41')
      if (kept) assert.equal(await evalOk(own, kept[0]), kept[1], 'the callbacks queued with the interrupted one ran')
      await assertLoopHealthy(own)
      // and the kernel can be interrupted again
      const again = startExecute(own, "console.log('again');\nwhile (true) {}", { timeoutMs: 30_000 })
      await waitFor(() => own.client.iopubFor(again.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the second cell to start')
      await own.client.request('control', 'interrupt_request', {}, 5000)
      assert.equal((await withTimeout(again.done, 5000, 'the second interrupted cell')).reply.content.ename, 'KeyboardInterrupt')
      assert.equal(await evalOk(own, 'survivor + 1'), '42')
    } finally {
      if (own.child.exitCode === null) own.child.kill('SIGKILL')
      await own.stop()
    }
  })
}

for (const [where, code] of POSITIONS) {
  test(`interrupt_request stops a loop ${where}, keeps state, and a queued cell runs`, async () => {
    const res = await interruptCellWithQueued(code)
    assert.equal(res.reply.ename, 'KeyboardInterrupt')
    assert.equal(res.queued, '42', 'the cell queued behind the interrupted one ran')
    assert.equal(await evalOk(k, 'before + 1'), '42')
    assert.equal(await evalOk(k, 'kept.list.length'), '3')
  })
}

/**
 * Start `code`, queue `before + 1` behind it, interrupt once the first cell printed. The first is
 * sent with stop_on_error false, so that the queued cell runs rather than being aborted.
 */
async function interruptCellWithQueued(code: string): Promise<{ reply: Record<string, unknown>; queued: string | undefined }> {
  const cell = startExecute(k, code, { timeoutMs: 30_000, stop_on_error: false })
  await waitFor(() => k.client.iopubFor(cell.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the cell to start')
  const queued = startExecute(k, 'before + 1', { timeoutMs: 30_000 })
  await sleep(150)
  const ir = await k.client.request('control', 'interrupt_request', {}, 5000)
  assert.equal(ir.content.status, 'ok')
  const r = await withTimeout(cell.done, 10_000, 'the interrupted cell to finish')
  const q = await withTimeout(queued.done, 10_000, 'the queued cell to finish')
  const result = ofType(q.iopub, 'execute_result')[0]
  return { reply: r.reply.content, queued: result ? (content<{ data: Record<string, string> }>(result).data['text/plain']) : undefined }
}

test('a loop in a timer after its cell finished is stopped, and later cells run', async () => {
  await evalOk(k, "setTimeout(() => { (globalThis as any).__spun = true; while (true) {} }, 100); 'armed'")
  await sleep(300)
  const ir = await k.client.request('control', 'interrupt_request', {}, 5000)
  assert.equal(ir.content.status, 'ok')
  assert.equal(await evalOk(k, '(globalThis as any).__spun'), 'true')
  assert.equal(await evalOk(k, 'before'), '41')
})

test('two interrupt requests back to back never kill the kernel (x50)', async () => {
  for (let i = 0; i < 50; i++) {
    const cell = startExecute(k, i % 2 ? 'while (true) {}' : 'await new Promise(() => {})', { timeoutMs: 30_000 })
    await sleep(20)
    const [a, b] = await Promise.all([
      k.client.request('control', 'interrupt_request', {}, 5000),
      k.client.request('control', 'interrupt_request', {}, 5000),
    ])
    assert.equal(a.content.status, 'ok')
    assert.equal(b.content.status, 'ok')
    const r = await withTimeout(cell.done, 10_000, `cell ${i} to finish`)
    assert.equal(r.reply.content.ename, 'KeyboardInterrupt', `round ${i}`)
    assert.equal(k.child.exitCode, null, `kernel exited in round ${i}`)
    assert.equal(k.child.signalCode, null, `kernel killed in round ${i}`)
  }
  assert.equal(await evalOk(k, 'before + 1'), '42')
})

test('process.kill(process.pid, "SIGINT") in a cell does not break later cells', async () => {
  const r = await k.client.execute("process.kill(process.pid, 'SIGINT'); await new Promise((r) => setTimeout(r, 200)); 'after'", { timeoutMs: 10_000 })
  assert.ok(['ok', 'error'].includes(String(r.reply.content.status)))
  for (let i = 0; i < 3; i++) assert.equal(await evalOk(k, 'before + 1'), '42')
  await assertAlive(k)
})
