// Shutdown: shutdown_request (with and without restart) is answered, then the process exits 0.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { launchKernel } from '../kernel/client/launch.js';
import type { Message } from '../kernel/wire/message.js';
import { evalOk, startExecute, typeOf, waitFor, withTimeout } from './helpers/kernel.js';

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

test('shutdown_request with restart: true is answered with restart: true and the process exits with code 0', async () => {
  const k = await launchKernel();
  try {
    await evalOk(k, 'const x = 1');
    const iopub: Message[] = [];
    k.client.onIopub((m) => iopub.push(m));
    const gone = exited(k.child);
    const t0 = performance.now();
    const reply = await k.client.request('control', 'shutdown_request', { restart: true }, 5000);
    assert.equal(reply.header.msg_type, 'shutdown_reply');
    assert.equal(reply.content.status, 'ok');
    assert.equal(reply.content.restart, true);
    const { code, signal } = await withTimeout(gone, 5000, 'the kernel process to exit');
    console.log(`# shutdown to exit: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(signal, null, 'not killed by a signal');
    assert.equal(code, 0);
    assert.doesNotMatch(k.stderr(), /terminate called|Napi::Error|Abort/, 'a clean exit (sockets closed before exit)');
  } finally {
    await k.stop();
  }
});

test('shutdown_request with restart: false while a cell spins is still answered, and the process exits', async () => {
  const k = await launchKernel();
  try {
    const spin = startExecute(k, "console.log('spin'); while (true) {}", { timeoutMs: 10_000 });
    await waitFor(() => k.client.iopubFor(spin.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the spin');
    const gone = exited(k.child);
    const reply = await k.client.request('control', 'shutdown_request', { restart: false }, 6000);
    assert.equal(reply.content.status, 'ok');
    assert.equal(reply.content.restart, false);
    const { code, signal } = await withTimeout(gone, 6000, 'the kernel process to exit');
    assert.equal(signal, null, `not killed by a signal (${signal})`);
    assert.equal(code, 0, 'a clean exit even when a cell was running');
  } finally {
    await k.stop();
  }
});
