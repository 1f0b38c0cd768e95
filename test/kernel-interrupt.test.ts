// Interrupt: interrupt_request on control and a real SIGINT stop a spinning cell and a
// never-settling await quickly, report KeyboardInterrupt, and keep every variable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { assertAlive, content, evalOk, ofType, parentId, sleep, startExecute, typeOf, waitFor, withTimeout, type ErrorContent } from './helpers/kernel.js';

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

// Known limit: after an await the loop runs in a microtask, outside the vm call whose SIGINT watchdog
// stops synchronous code, and terminating it from another thread aborts Node (measured: "Assertion
// failed: (env_->execution_async_id()) == (0)"). The kernel says so in the cell (next test).
test('a synchronous loop after an await in the same cell is interrupted too', { todo: 'Node cannot stop a loop in a microtask safely; see the next test' }, async () => {
  // Its own kernel: if the loop cannot be interrupted, this kernel is lost (we kill it).
  const k2 = await launchKernel();
  let passed = false;
  try {
    await evalOk(k2, 'let survivor = "still here";');
    const res = await interruptCell(k2, "await new Promise((r) => setTimeout(r, 10));\nconsole.log('spin');\nwhile (true) {}", 'interrupt_request', 3000, 1500);
    assertKeyboardInterrupt(res, 'interrupt_request, while(true) after an await');
    assert.equal(await evalOk(k2, 'survivor'), "'still here'");
    passed = true;
  } finally {
    if (!passed && k2.child.exitCode === null && k2.child.signalCode === null) {
      const gone = new Promise((r) => k2.child.once('exit', r));
      k2.child.kill('SIGKILL');
      await gone;
    }
    await k2.stop();
  }
});

test('an interrupt that cannot take effect is explained in the running cell', async () => {
  const k3 = await launchKernel();
  try {
    const run = k3.client.startExecute("await new Promise((r) => setTimeout(r, 10));\nwhile (true) {}");
    // This kernel is killed below, so the cell never replies: its pending reply is expected to fail.
    run.done.catch(() => undefined);
    await sleep(300);
    await k3.client.request('control', 'interrupt_request', {}, 3000);
    const notice = await waitFor(() => k3.client.iopubFor(run.msgId).find((m) => typeOf(m) === 'stream' && /cannot stop this cell/.test(String((m.content as { text?: string }).text))), 3000, 'the notice');
    assert.equal((notice.content as { name: string }).name, 'stderr');
  } finally {
    const gone = new Promise((r) => k3.child.once('exit', r));
    k3.child.kill('SIGKILL');
    await gone;
    await k3.stop();
  }
});
