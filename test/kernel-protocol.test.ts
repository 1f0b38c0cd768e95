// Messaging protocol: kernel_info, status, execute_input/execution_count, silent, user_expressions,
// history, comms, stop_on_error, and heartbeat/control while a cell spins.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import * as zmq from 'zeromq';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { endpoint } from '../kernel/wire/connection.js';
import type { Message } from '../kernel/wire/message.js';
import { assertAlive, content, errorOf, evalOk, ofType, parentId, resultText, sleep, startExecute, typeOf, waitFor, withTimeout } from './helpers/kernel.js';

const require = createRequire(import.meta.url);
const TS_VERSION = (require('typescript/package.json') as { version: string }).version;

let k: LaunchedKernel;
before(async () => {
  k = await launchKernel();
});
after(() => k?.stop());

const executionState = (m: Message): string | undefined => (typeOf(m) === 'status' ? (m.content as { execution_state?: string }).execution_state : undefined);

/** Send a request, wait for its reply and its idle status; return the reply and the iopub messages it parented. */
async function roundTrip(channel: 'shell' | 'control', msgType: string, body: Record<string, unknown> = {}): Promise<{ reply: Message; iopub: Message[] }> {
  const header = k.client.header(msgType);
  const idle = k.client.waitIdle(header.msg_id, 10_000);
  const reply = await k.client.sendRequest(channel, header, body, 10_000);
  await idle;
  await sleep(20); // anything published after idle would be a bug; give it a moment to show up
  return { reply, iopub: k.client.iopubFor(header.msg_id) };
}

test('kernel_info_reply: protocol ≥ 5.3, language typescript, .ts, the TypeScript version', async () => {
  for (const channel of ['shell', 'control'] as const) {
    const { reply } = await roundTrip(channel, 'kernel_info_request');
    const c = reply.content as { status: string; protocol_version: string; implementation: string; language_info: Record<string, unknown>; banner: string };
    assert.equal(reply.header.msg_type, 'kernel_info_reply');
    assert.equal(c.status, 'ok');
    const [major, minor] = c.protocol_version.split('.').map(Number);
    assert.ok(major > 5 || (major === 5 && minor >= 3), `protocol_version ${c.protocol_version} ≥ 5.3`);
    assert.equal(c.language_info.name, 'typescript');
    assert.equal(c.language_info.file_extension, '.ts');
    assert.equal(c.language_info.version, TS_VERSION, 'language_info.version is the installed TypeScript');
    assert.equal(typeof c.language_info.mimetype, 'string');
    assert.ok(c.language_info.codemirror_mode, 'codemirror_mode set');
    assert.equal(c.implementation, 'tsprof');
    assert.equal(typeof c.banner, 'string');
  }
});

test('status busy then idle around every request, with the request as parent', async () => {
  const requests: Array<['shell' | 'control', string, Record<string, unknown>]> = [
    ['shell', 'kernel_info_request', {}],
    ['control', 'kernel_info_request', {}],
    ['shell', 'execute_request', { code: 'console.log("s"); 1', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }],
    ['shell', 'execute_request', { code: 'throw new Error("x")', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false }],
    ['shell', 'complete_request', { code: 'Math.fl', cursor_pos: 7 }],
    ['shell', 'inspect_request', { code: 'Math', cursor_pos: 2, detail_level: 0 }],
    ['shell', 'is_complete_request', { code: 'for (;;) {' }],
    ['shell', 'history_request', { hist_access_type: 'tail', n: 2, output: false, raw: true }],
    ['shell', 'comm_info_request', {}],
    ['shell', 'nonsense_request', {}],
  ];
  for (const [channel, type, body] of requests) {
    const { reply, iopub } = await roundTrip(channel, type, body);
    const what = `${type} on ${channel}`;
    assert.equal(reply.header.msg_type, type.replace(/_request$/, '_reply'), what);
    const states = iopub.map(executionState).filter(Boolean);
    assert.deepEqual(states, ['busy', 'idle'], `${what}: exactly one busy then one idle`);
    assert.equal(executionState(iopub[0]), 'busy', `${what}: busy comes first`);
    assert.equal(executionState(iopub.at(-1)!), 'idle', `${what}: idle comes last`);
    for (const m of iopub) assert.equal(parentId(m), reply.parent_header.msg_id, `${what}: parent of ${typeOf(m)}`);
  }
});

test('execute_input carries the execution_count, which increments by one per stored cell', async () => {
  const a = await k.client.execute('1');
  const b = await k.client.execute('2');
  const ca = a.reply.content.execution_count as number;
  const cb = b.reply.content.execution_count as number;
  assert.equal(cb, ca + 1);
  for (const [r, count, code] of [[a, ca, '1'], [b, cb, '2']] as const) {
    const inputs = ofType(r.iopub, 'execute_input');
    assert.equal(inputs.length, 1);
    assert.deepEqual(inputs[0].content, { code, execution_count: count });
    const result = ofType(r.iopub, 'execute_result')[0];
    assert.equal(content<{ execution_count: number }>(result).execution_count, count);
    // execute_input comes right after busy, before any output
    assert.equal(typeOf(r.iopub[1]), 'execute_input');
  }
});

test('execution_count increments only when store_history is true and silent is false', async () => {
  const first = (await k.client.execute('"count"')).reply.content.execution_count as number;
  const noHistory = await k.client.execute('"no history"', { store_history: false });
  assert.equal(noHistory.reply.content.status, 'ok');
  assert.equal(noHistory.reply.content.execution_count, first, 'store_history: false does not increment');
  const silent = await k.client.execute('"silent"', { silent: true });
  assert.equal(silent.reply.content.status, 'ok');
  assert.equal(silent.reply.content.execution_count, first, 'silent does not increment');
  const silentError = await k.client.execute('throw new Error("silent error")', { silent: true, stop_on_error: false });
  assert.equal(silentError.reply.content.status, 'error');
  assert.equal(silentError.reply.content.execution_count, first);
  const next = (await k.client.execute('"next"')).reply.content.execution_count as number;
  assert.equal(next, first + 1);
});

test('a silent execute publishes no execute_input, execute_result or error', async () => {
  const r = await k.client.execute('globalThis.__silentRan = (globalThis.__silentRan ?? 0) + 1; "value"', { silent: true });
  assert.equal(r.reply.content.status, 'ok');
  assert.deepEqual(r.iopub.map(typeOf), ['status', 'status'], 'only busy and idle');
  const e = await k.client.execute('throw new Error("quiet")', { silent: true, stop_on_error: false });
  assert.equal(e.reply.content.status, 'error');
  assert.equal(e.reply.content.ename, 'Error');
  assert.deepEqual(e.iopub.map(typeOf), ['status', 'status'], 'errors of a silent execute are only in the reply');
  assert.equal(await evalOk(k, 'globalThis.__silentRan'), '1', 'the silent code did run');
});

test('user_expressions are evaluated after the cell, each with its own status', async () => {
  const r = await k.client.execute('const ue = { n: 21 };', {
    user_expressions: { double: 'ue.n * 2', str: '"a" + "b"', missing: 'no_such_name_here', typed: '(ue.n as number).toFixed(1)' },
  });
  assert.equal(r.reply.content.status, 'ok');
  const ue = r.reply.content.user_expressions as Record<string, { status: string; data?: Record<string, unknown>; ename?: string }>;
  assert.equal(ue.double.status, 'ok');
  assert.equal(ue.double.data?.['text/plain'], '42');
  assert.equal(ue.str.data?.['text/plain'], "'ab'");
  assert.equal(ue.typed.data?.['text/plain'], "'21.0'");
  assert.equal(ue.missing.status, 'error');
  assert.equal(ue.missing.ename, 'ReferenceError');
  assert.equal(ofType(r.iopub, 'execute_result').length, 0, 'the expressions are not published');
});

test('history: tail, range and search (glob, unique) return this session\'s inputs', async () => {
  const tag = `h${randomUUID().slice(0, 8)}`;
  const cells = [`"${tag}-alpha"`, `"${tag}-beta"`, `"${tag}-alpha"`, `"${tag}-gamma"`];
  const counts: number[] = [];
  for (const code of cells) counts.push((await k.client.execute(code)).reply.content.execution_count as number);
  await k.client.execute(`"${tag}-not stored"`, { store_history: false });
  type Row = [number, number, string];
  const hist = async (body: Record<string, unknown>): Promise<Row[]> => {
    const reply = await k.client.request('shell', 'history_request', { output: false, raw: true, ...body }, 5000);
    assert.equal(reply.content.status, 'ok');
    return reply.content.history as Row[];
  };

  const tail = await hist({ hist_access_type: 'tail', n: 4 });
  assert.deepEqual(tail.map((r) => [r[1], r[2]]), counts.map((c, i) => [c, cells[i]]), 'tail: the last 4 stored inputs in order');
  assert.ok(tail.every((r) => typeof r[0] === 'number'), 'session numbers');

  const range = await hist({ hist_access_type: 'range', session: 0, start: counts[1], stop: counts[3] });
  assert.deepEqual(range.map((r) => [r[1], r[2]]), [[counts[1], cells[1]], [counts[2], cells[2]]], 'range: [start, stop)');

  const search = await hist({ hist_access_type: 'search', pattern: `"${tag}-*a"` });
  assert.deepEqual(search.map((r) => r[2]), [cells[0], cells[1], cells[2], cells[3]], 'search: glob * matches, anchored at both ends');

  const q = await hist({ hist_access_type: 'search', pattern: `"${tag}-?eta"` });
  assert.deepEqual(q.map((r) => r[2]), [cells[1]], 'search: glob ? is one character');

  const unique = await hist({ hist_access_type: 'search', pattern: `"${tag}-*"`, unique: true });
  assert.deepEqual(unique.map((r) => r[2]).sort(), [cells[0], cells[1], cells[3]].sort(), 'unique drops the repeated input');
  assert.equal(unique.filter((r) => r[2] === cells[0]).length, 1);

  const none = await hist({ hist_access_type: 'search', pattern: `*${tag}-not stored*` });
  assert.deepEqual(none, [], 'inputs with store_history false are not in history');

  const withOutput = await hist({ hist_access_type: 'tail', n: 1, output: true });
  assert.deepEqual(withOutput[0].slice(1), [counts[3], [cells[3], `'${tag}-gamma'`]], 'output: true gives [input, output]');
});

test('comm_info_request is answered with a comms object', async () => {
  const reply = await k.client.request('shell', 'comm_info_request', { target_name: 'jupyter.widget' }, 5000);
  assert.equal(reply.header.msg_type, 'comm_info_reply');
  assert.equal(reply.content.status, 'ok');
  assert.equal(typeof reply.content.comms, 'object');
  assert.notEqual(reply.content.comms, null);
});

test('comm_open for an unknown target gets comm_close, and the kernel stays alive', async () => {
  const comm_id = randomUUID();
  const closed = new Promise<Message>((resolve) => {
    const off = k.client.onIopub((m) => {
      if (typeOf(m) === 'comm_close' && (m.content as { comm_id?: string }).comm_id === comm_id) {
        off();
        resolve(m);
      }
    });
  });
  const header = k.client.header('comm_open');
  await k.client.sendRaw('shell', header, { comm_id, target_name: 'no.such.target', data: { x: 1 } });
  const close = await withTimeout(closed, 5000, 'comm_close for the unknown target');
  assert.equal(parentId(close), header.msg_id);
  // A comm_msg to the closed comm is ignored without a crash.
  await k.client.sendRaw('shell', k.client.header('comm_msg'), { comm_id, data: {} });
  await assertAlive(k);
});

test('stop_on_error: after an error, execute requests already queued are aborted', async () => {
  await evalOk(k, 'globalThis.__third = "not run"');
  const one = startExecute(k, 'await new Promise((r) => setTimeout(r, 300)); "first"');
  const two = startExecute(k, 'throw new Error("second fails")');
  const three = startExecute(k, 'globalThis.__third = "ran"; "third"');
  const [r1, r2, r3] = await Promise.all([one.done, two.done, three.done]);
  assert.equal(r1.reply.content.status, 'ok');
  assert.equal(r2.reply.content.status, 'error');
  assert.equal(r3.reply.content.status, 'aborted', `third reply: ${JSON.stringify(r3.reply.content)}`);
  assert.equal(ofType(r3.iopub, 'execute_result').length, 0);
  assert.equal(await evalOk(k, 'globalThis.__third'), "'not run'", 'the aborted cell did not run');
  // The abort covers only what was queued: the next execute runs normally.
  assert.equal(await evalOk(k, '"after abort"'), "'after abort'");
});

test('stop_on_error false: the requests queued behind an error still run', async () => {
  await evalOk(k, 'globalThis.__third2 = "not run"');
  const one = startExecute(k, 'await new Promise((r) => setTimeout(r, 300)); "first"');
  const two = startExecute(k, 'throw new Error("second fails")', { stop_on_error: false });
  const three = startExecute(k, 'globalThis.__third2 = "ran"; "third"');
  const [r1, r2, r3] = await Promise.all([one.done, two.done, three.done]);
  assert.equal(r1.reply.content.status, 'ok');
  assert.equal(r2.reply.content.status, 'error');
  assert.equal(r3.reply.content.status, 'ok');
  assert.equal(resultText(r3), "'third'");
  assert.equal(await evalOk(k, 'globalThis.__third2'), "'ran'");
});

/** Start a cell that spins synchronously for `ms`; resolves once it has begun spinning. */
async function startSpin(ms: number): Promise<{ msgId: string; startedAt: number; done: Promise<unknown> }> {
  const cell = k.client.startExecute(`console.log('spinning'); { const t = Date.now(); while (Date.now() - t < ${ms}) {} } 'spun'`);
  await waitFor(() => k.client.iopubFor(cell.msgId).some((m) => typeOf(m) === 'stream'), 5000, 'the spin to start');
  return { msgId: cell.msgId, startedAt: Date.now(), done: cell.done };
}

test('heartbeat echoes while a cell runs a 5-second synchronous loop', async () => {
  const spin = await startSpin(5000);
  const hb = new zmq.Request({ receiveTimeout: 2000 });
  hb.connect(endpoint(k.connection, 'hb'));
  let finished = false;
  void spin.done.then(() => (finished = true));
  try {
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ping = Buffer.from(`ping-${i}-${randomUUID()}`);
      const t0 = performance.now();
      await hb.send(ping);
      const [pong] = await hb.receive();
      rtts.push(performance.now() - t0);
      assert.deepEqual(pong, ping, 'the same bytes come back');
      await sleep(300);
    }
    assert.equal(finished, false, 'the cell was still spinning during every ping');
    console.log(`# heartbeat round trips while spinning: ${rtts.map((t) => t.toFixed(1)).join(', ')} ms`);
    assert.ok(Math.max(...rtts) < 1000, `heartbeat answered promptly (max ${Math.max(...rtts).toFixed(1)} ms)`);
  } finally {
    hb.close();
    await spin.done;
  }
});

test('kernel_info_request on control is answered while a cell runs a 5-second synchronous loop', async () => {
  const spin = await startSpin(5000);
  let finished = false;
  void spin.done.then(() => (finished = true));
  const t0 = performance.now();
  const reply = await k.client.request('control', 'kernel_info_request', {}, 3000);
  const took = performance.now() - t0;
  assert.equal(finished, false, 'answered before the spin ended');
  assert.equal(reply.header.msg_type, 'kernel_info_reply');
  assert.equal((reply.content.language_info as { name: string }).name, 'typescript');
  console.log(`# control kernel_info while spinning: ${took.toFixed(1)} ms`);
  assert.ok(took < 1000, `answered in ${took.toFixed(0)} ms`);
  const r = (await spin.done) as { reply: Message };
  assert.equal(r.reply.content.status, 'ok');
  assert.ok(Date.now() - spin.startedAt > 4000, 'the loop ran its course');
});

test('an error reply carries the same ename and traceback as the iopub error', async () => {
  const r = await k.client.execute('null.x', { stop_on_error: false });
  const err = errorOf(r);
  assert.equal(err.ename, 'TypeError');
  assert.equal(r.reply.content.ename, 'TypeError');
  assert.deepEqual(r.reply.content.traceback, err.traceback);
});
