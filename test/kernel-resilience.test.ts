// What must not take the kernel down: process.exit() in a cell, an exception thrown in a timer, an
// unhandled rejection, a stack overflow. Each is a clear error in the right cell; state lives on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import type { Message } from '../kernel/wire/message.js';
import { assertAlive, content, errorOf, evalOk, ofType, parentId, startExecute, typeOf, waitFor, type ErrorContent } from './helpers/kernel.js';

let k: LaunchedKernel;
const errors: Message[] = [];
before(async () => {
  k = await launchKernel();
  k.client.onIopub((m) => {
    if (typeOf(m) === 'error') errors.push(m);
  });
  await evalOk(k, 'let precious = "kept"; const counter = { n: 1 };');
});
after(() => k?.stop());

async function assertStateKept(): Promise<void> {
  await assertAlive(k);
  assert.equal(await evalOk(k, 'precious + counter.n'), "'kept1'");
}

test('process.exit() in a cell is an error in that cell; the kernel and its variables live on', async () => {
  for (const code of ['process.exit()', 'process.exit(3)', 'counter.n = 1; process.exitCode = 0; process.exit(0)']) {
    const r = await k.client.execute(code, { stop_on_error: false });
    const err = errorOf(r);
    assert.match(`${err.ename}: ${err.evalue}`, /exit/i, code);
    assert.equal(k.child.exitCode, null, `still running after ${code}`);
  }
  await assertStateKept();
});

test('process.exit() from a timer is reported to the cell that set it; the kernel lives on', async () => {
  const r = await k.client.execute('setTimeout(() => process.exit(1), 50); "armed"');
  assert.equal(r.reply.content.status, 'ok');
  const id = r.reply.parent_header.msg_id as string;
  const err = await waitFor(() => errors.find((m) => parentId(m) === id), 3000, 'the error from the timer');
  assert.match(content<ErrorContent>(err).evalue, /exit/i);
  await assertStateKept();
});

/** Cell 1 schedules a failure ~100 ms later; cell 2 (started at once) runs 400 ms. The error must name cell 1. */
async function asyncFailure(first: string, evalue: string): Promise<ErrorContent> {
  const one = startExecute(k, first);
  const two = startExecute(k, 'await new Promise((r) => setTimeout(r, 400)); "second"');
  const r1 = await one.done;
  assert.equal(r1.reply.content.status, 'ok', 'the first cell itself succeeded');
  const r2 = await two.done;
  assert.equal(r2.reply.content.status, 'ok', 'the second cell is not failed by the first cell\'s callback');
  assert.equal(ofType(r2.iopub, 'error').length, 0, 'no error attributed to the second cell');
  const err = await waitFor(() => errors.find((m) => parentId(m) === one.msgId && content<ErrorContent>(m).evalue === evalue), 3000, `the ${evalue} error`);
  assert.equal(errors.filter((m) => content<ErrorContent>(m).evalue === evalue).length, 1, 'reported once');
  return content<ErrorContent>(err);
}

test('an uncaught exception in a timer is an error message with that cell as parent; the kernel lives on', async () => {
  const err = await asyncFailure("setTimeout(() => { throw new TypeError('timer boom'); }, 100); 'first'", 'timer boom');
  assert.equal(err.ename, 'TypeError');
  assert.ok(err.traceback.some((l) => /cell-\d+:1\b/.test(l)), err.traceback.join('\n'));
  await assertStateKept();
});

test('an unhandled rejection from a callback is an error message with that cell as parent; the kernel lives on', async () => {
  const err = await asyncFailure("setTimeout(() => { Promise.reject(new RangeError('rejected later')); }, 100); 'first'", 'rejected later');
  assert.equal(err.ename, 'RangeError');
  await assertStateKept();
});

test('an unhandled rejection made while the cell runs is reported to that cell', async () => {
  const r = await k.client.execute("Promise.reject(new Error('rejected now')); 'value'");
  const id = r.reply.parent_header.msg_id as string;
  const err = await waitFor(() => errors.find((m) => content<ErrorContent>(m).evalue === 'rejected now'), 3000, 'the rejection');
  assert.equal(parentId(err), id);
  // A rejection of a non-Error value is reported too.
  const r2 = await k.client.execute("setTimeout(() => { Promise.reject('plain reason') }, 20); 0");
  const id2 = r2.reply.parent_header.msg_id as string;
  const err2 = await waitFor(() => errors.find((m) => parentId(m) === id2), 3000, 'the non-Error rejection');
  assert.match(content<ErrorContent>(err2).evalue, /plain reason/);
  await assertStateKept();
});

test('a stack overflow is a RangeError in the cell; the kernel lives on', async () => {
  const r = await k.client.execute('function f(): number { return f() + 1 }\nf()', { stop_on_error: false });
  const err = errorOf(r);
  assert.equal(err.ename, 'RangeError');
  assert.match(err.evalue, /Maximum call stack size exceeded/);
  assert.ok(err.traceback.length < 100, `a readable traceback (${err.traceback.length} lines)`);
  // Overflow inside an async function too.
  const r2 = await k.client.execute('async function g(n: number): Promise<number> { return 1 + await g(n + 1) }\nawait g(0)', { stop_on_error: false });
  assert.equal(errorOf(r2).ename, 'RangeError');
  await assertStateKept();
});

test('a thrown object that is not an Error, and one whose getters throw, are reported without killing the kernel', async () => {
  const r = await k.client.execute('throw { code: 42 }', { stop_on_error: false });
  assert.match(errorOf(r).evalue, /42/);
  const r2 = await k.client.execute("const nasty = new Error('x'); Object.defineProperty(nasty, 'message', { get() { throw new Error('getter'); } }); throw nasty", { stop_on_error: false });
  assert.equal(r2.reply.content.status, 'error');
  const r3 = await k.client.execute('throw null', { stop_on_error: false });
  assert.equal(r3.reply.content.status, 'error');
  await assertStateKept();
});
