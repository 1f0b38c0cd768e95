// Output: streams in order, late async output routed to the cell that started it, the 20k burst.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import type { Message } from '../kernel/wire/message.js';
import { content, evalOk, ofType, parentId, resultText, streamRuns, streamText, typeOf, waitFor, withTimeout, type StreamContent } from './helpers/kernel.js';

let k: LaunchedKernel;
before(async () => {
  k = await launchKernel();
});
after(() => k?.stop());

test('console.log / console.error / process.stdout.write become stream messages in order', async () => {
  const r = await k.client.execute([
    "console.log('o1');",
    "console.error('e1');",
    "process.stdout.write('o2\\n');",
    "console.warn('e2');",
    "process.stderr.write('e3\\n');",
    "console.info('o3', 4, { a: 1 });",
    "console.log('%s=%d', 'x', 5);",
    "process.stdout.write(Buffer.from('bytes\\n'));",
    '"done"',
  ].join('\n'));
  assert.deepEqual(streamRuns(r.iopub), [
    ['stdout', 'o1\n'],
    ['stderr', 'e1\n'],
    ['stdout', 'o2\n'],
    ['stderr', 'e2\ne3\n'],
    ['stdout', "o3 4 { a: 1 }\nx=5\nbytes\n"],
  ]);
  // Every stream arrives before the execute_result, and all before idle.
  const types = r.iopub.map(typeOf);
  assert.ok(types.lastIndexOf('stream') < types.indexOf('execute_result'), types.join(','));
  assert.equal(types.at(-1), 'status');
});

test('interleaved stdout and stderr keep their relative order over many writes', async () => {
  const r = await k.client.execute('for (let i = 0; i < 200; i++) { (i % 3 ? console.log : console.error)(String(i)); }');
  const got: string[] = [];
  for (const m of ofType(r.iopub, 'stream')) {
    const { name, text } = content<StreamContent>(m);
    for (const line of text.split('\n').filter(Boolean)) got.push(`${name}:${line}`);
  }
  const want = Array.from({ length: 200 }, (_, i) => `${i % 3 ? 'stdout' : 'stderr'}:${i}`);
  assert.deepEqual(got, want);
});

/** Collect every iopub message from now on. */
function recorder(): { msgs: Message[]; stop: () => void } {
  const msgs: Message[] = [];
  const stop = k.client.onIopub((m) => msgs.push(m));
  return { msgs, stop };
}

/**
 * Run `first` (which schedules output ~300 ms later), then at once a second cell that awaits 600 ms,
 * and return where the `marker` output went.
 */
async function lateOutput(first: string, marker: string, duringSecond?: () => Promise<void>): Promise<{ firstId: string; secondId: string; stream: Message }> {
  const rec = recorder();
  try {
    const one = k.client.startExecute(first);
    const two = k.client.startExecute('await new Promise((r) => setTimeout(r, 600)); "second"');
    const r1 = await one.done;
    assert.equal(r1.reply.content.status, 'ok', JSON.stringify(r1.reply.content));
    const firstIdleAt = rec.msgs.findIndex((m) => parentId(m) === one.msgId && typeOf(m) === 'status' && (m.content as { execution_state: string }).execution_state === 'idle');
    await duringSecond?.();
    const r2 = await two.done;
    assert.equal(resultText(r2), "'second'");
    const stream = await waitFor(() => rec.msgs.find((m) => typeOf(m) === 'stream' && content<StreamContent>(m).text.includes(marker)), 3000, `the ${marker} output`);
    assert.ok(rec.msgs.indexOf(stream) > firstIdleAt, 'the output really came after the first cell finished');
    assert.equal(streamText(r2.iopub).includes(marker), false, 'none of it is attributed to the second cell');
    return { firstId: one.msgId, secondId: two.msgId, stream };
  } finally {
    rec.stop();
  }
}

test('late output from a timer goes to the cell that started the timer', async () => {
  const { firstId, secondId, stream } = await lateOutput("setTimeout(() => console.log('late-timer'), 300); 'first'", 'late-timer');
  assert.notEqual(parentId(stream), secondId, 'not the running cell');
  assert.equal(parentId(stream), firstId);
  assert.equal(content<StreamContent>(stream).name, 'stdout');
});

test('late output from a promise callback goes to the cell that created the promise chain', async () => {
  const { firstId, stream } = await lateOutput(
    "new Promise((r) => setTimeout(r, 300)).then(() => console.error('late-promise')); void 0",
    'late-promise',
  );
  assert.equal(parentId(stream), firstId);
  assert.equal(content<StreamContent>(stream).name, 'stderr');
});

test('late output from an EventEmitter callback (a server started in the first cell) goes to that cell', async () => {
  // The first cell starts a TCP server; the test connects to it from outside while the second cell
  // runs, so the 'connection' event fires during the second cell but belongs to the first.
  const setup = await k.client.execute([
    "const net = await import('node:net');",
    'const srv = net.createServer((sock) => { console.log("late-emitter"); sock.end(); });',
    "await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));",
    '(srv.address() as { port: number }).port',
  ].join('\n'));
  const port = Number(resultText(setup));
  assert.ok(port > 0);
  const setupId = setup.reply.parent_header.msg_id as string;
  const rec = recorder();
  try {
    const two = k.client.startExecute('await new Promise((r) => setTimeout(r, 600)); "second"');
    await waitFor(() => k.client.iopubFor(two.msgId).some((m) => typeOf(m) === 'execute_input'), 3000, 'the second cell to start');
    await withTimeout(new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', reject).on('close', () => resolve()).resume();
    }), 3000, 'connecting to the cell\'s server');
    const r2 = await two.done;
    const stream = await waitFor(() => rec.msgs.find((m) => typeOf(m) === 'stream' && content<StreamContent>(m).text.includes('late-emitter')), 3000, 'the emitter output');
    assert.equal(parentId(stream), setupId, 'routed to the cell that created the server');
    assert.equal(streamText(r2.iopub).includes('late-emitter'), false);
  } finally {
    rec.stop();
    await evalOk(k, 'srv.close(); 0');
  }
});

test('a plain EventEmitter emitted from a timer of the first cell routes its listener output there', async () => {
  const { firstId, stream } = await lateOutput(
    "const { EventEmitter } = await import('node:events');\nconst em = new EventEmitter();\nem.on('tick', (v) => console.log('late-ee', v));\nsetTimeout(() => em.emit('tick', 1), 300); 0",
    'late-ee',
  );
  assert.equal(parentId(stream), firstId);
});

test('a 20,000-line print burst arrives whole and in order, before idle', async () => {
  const t0 = performance.now();
  const r = await k.client.execute('for (let i = 0; i < 20000; i++) console.log(i)', { timeoutMs: 30_000 });
  const ms = performance.now() - t0;
  const streams = ofType(r.iopub, 'stream');
  console.log(`# 20,000 lines: ${ms.toFixed(0)} ms in ${streams.length} stream messages`);
  assert.equal(r.reply.content.status, 'ok');
  const expected = Array.from({ length: 20_000 }, (_, i) => `${i}\n`).join('');
  const got = streamText(r.iopub, 'stdout');
  assert.equal(got.length, expected.length, 'same amount of text');
  assert.ok(got === expected, 'exactly 0..19999, one per line, in order');
  assert.equal(streamText(r.iopub, 'stderr'), '');
  const types = r.iopub.map(typeOf);
  assert.equal(types.at(-1), 'status');
  assert.ok(types.lastIndexOf('stream') < types.length - 1, 'idle comes after the last stream');
});
