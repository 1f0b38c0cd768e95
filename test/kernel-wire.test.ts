// Wire level: signatures, malformed frames, unknown requests, huge messages, unsigned mode, binding.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as zmq from 'zeromq';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { endpoint } from '../kernel/wire/connection.js';
import { decode, encode } from '../kernel/wire/frames.js';
import { createSigner } from '../kernel/wire/sign.js';
import { assertAlive, evalOk, parentId, signedFrames, sleep, stderrCount, waitFor, withTimeout } from './helpers/kernel.js';

let k: LaunchedKernel;
const scratch = mkdtempSync(join(tmpdir(), 'tsprof-wire-'));

before(async () => {
  k = await launchKernel();
});
after(async () => {
  await k?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Send frames and wait until the kernel logs one more line containing `needle` on stderr. */
async function expectLogged(frames: Buffer[], needle: RegExp): Promise<string> {
  const t0 = performance.now();
  const before = stderrCount(k, '[tsprof]');
  await k.client.sendFrames('shell', frames);
  await waitFor(() => stderrCount(k, '[tsprof]') > before, 5000, `a log line matching ${needle}`);
  const newLines = k.stderr().split('\n').filter((l) => l.includes('[tsprof]')).slice(before);
  assert.ok(newLines.some((l) => needle.test(l)), `log lines ${JSON.stringify(newLines)} should match ${needle}`);
  console.log(`# logged in ${(performance.now() - t0).toFixed(0)} ms: ${newLines.join(' | ')}`);
  return newLines.join('\n');
}

test('a message with a wrong HMAC signature is rejected, logged on stderr and never executed', async () => {
  const marker = join(scratch, 'pwned.txt');
  const c = k.client;
  const header = c.header('execute_request');
  const code = `globalThis.__pwned = 'yes'; require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); 1`;
  const heard: string[] = [];
  const off = c.onIopub((m) => {
    if (parentId(m) === header.msg_id) heard.push(m.header.msg_type);
  });
  const forged = encode(
    { channel: 'shell', identities: [], header, parent_header: {}, metadata: {}, content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true } },
    createSigner('hmac-sha256', 'not-the-kernel-key'),
  );
  const logged = await expectLogged(forged, /rejected/);
  assert.match(logged, /signature/i);
  await sleep(200);
  off();
  assert.deepEqual(heard, [], 'the kernel published nothing for the forged request (not even busy)');
  assert.equal(await evalOk(k, 'typeof globalThis.__pwned'), "'undefined'");
  assert.equal(existsSync(marker), false, 'the forged cell did not write its file');
});

test('a correctly signed message with a tampered body is rejected too', async () => {
  const c = k.client;
  const header = c.header('execute_request');
  const frames = encode(
    { channel: 'shell', identities: [], header, parent_header: {}, metadata: {}, content: { code: 'globalThis.__tampered = 1', silent: false } },
    createSigner('hmac-sha256', k.connection.key),
  );
  // Change the content frame after signing (the last frame).
  frames[frames.length - 1] = Buffer.from(JSON.stringify({ code: 'globalThis.__tampered = 2', silent: false }));
  await expectLogged(frames, /signature/i);
  assert.equal(await evalOk(k, 'typeof globalThis.__tampered'), "'undefined'");
});

test('malformed frames are logged and the kernel stays alive', async () => {
  const key = k.connection.key;
  const goodHeader = JSON.stringify(k.client.header('execute_request'));
  const cases: Array<[string, Buffer[], RegExp]> = [
    ['no delimiter', [Buffer.from('hello'), Buffer.from('world')], /delimiter/],
    ['too few frames', signedFrames(key, [goodHeader, '{}']).slice(0, 4), /frames/],
    ['header not JSON', signedFrames(key, ['{not json', '{}', '{}', '{"code":"1"}']), /header.*not JSON/],
    ['content not JSON', signedFrames(key, [goodHeader, '{}', '{}', '{"code":']), /content.*not JSON/],
    ['content not an object', signedFrames(key, [goodHeader, '{}', '{}', '[1,2,3]']), /content is not a JSON object/],
    ['header without msg_type', signedFrames(key, ['{"msg_id":"x","session":"s"}', '{}', '{}', '{}']), /header lacks/],
    ['empty multipart', [Buffer.alloc(0)], /rejected/],
  ];
  for (const [name, frames, needle] of cases) {
    await expectLogged(frames, needle).catch((e: Error) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
  await assertAlive(k);
});

test('an unknown msg_type gets an error reply of the matching reply type and the kernel stays alive', async () => {
  for (const channel of ['shell', 'control'] as const) {
    const reply = await k.client.request(channel, 'frobnicate_request', { x: 1 }, 5000);
    assert.equal(reply.header.msg_type, 'frobnicate_reply', channel);
    assert.equal(reply.content.status, 'error', channel);
    assert.equal(typeof reply.content.ename, 'string');
  }
  await assertAlive(k);
});

test('a huge message (a 20 MB string in an execute) works', async () => {
  const n = 20 * 1024 * 1024;
  const t0 = performance.now();
  const text = await evalOk(k, `const huge = "${'ab'.repeat(n / 2)}";\nhuge.length + ':' + huge.slice(-4)`, 60_000);
  console.log(`# 20 MB execute round trip: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(text, `'${n}:abab'`);
  await assertAlive(k);
});

test('unsigned mode (empty key) executes, and the kernel sends an empty signature', async () => {
  const u = await launchKernel({ key: '' });
  const dealer = new zmq.Dealer();
  try {
    assert.equal(u.connection.key, '');
    assert.equal(await evalOk(u, 'const s: string = "unsigned"; s.toUpperCase()'), "'UNSIGNED'");
    // Look at the raw reply frames: the signature frame must be empty.
    dealer.connect(endpoint(u.connection, 'shell'));
    const header = u.client.header('kernel_info_request');
    await dealer.send(encode({ channel: 'shell', identities: [], header, parent_header: {}, metadata: {}, content: {} }, createSigner('hmac-sha256', '')));
    const frames = await withTimeout(dealer.receive(), 5000, 'a reply on the raw shell socket');
    const at = frames.findIndex((f) => f.toString() === '<IDS|MSG>');
    assert.ok(at >= 0);
    assert.equal(frames[at + 1].length, 0, 'empty signature frame');
    const reply = decode(frames, createSigner('hmac-sha256', ''));
    assert.equal(reply.header.msg_type, 'kernel_info_reply');
  } finally {
    dealer.close();
    await u.stop();
  }
});

test('every socket binds only to 127.0.0.1', () => {
  const c = k.connection;
  assert.equal(c.ip, '127.0.0.1');
  const ports = [c.shell_port, c.control_port, c.stdin_port, c.iopub_port, c.hb_port];
  const listening = (file: string): Array<{ addr: string; port: number }> => {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A') // TCP_LISTEN
      .map((f) => ({ addr: f[1].split(':')[0], port: parseInt(f[1].split(':')[1], 16) }));
  };
  const v4 = listening('/proc/net/tcp');
  const v6 = listening('/proc/net/tcp6');
  for (const port of ports) {
    const mine = v4.filter((s) => s.port === port);
    assert.equal(mine.length, 1, `port ${port} listens once on IPv4`);
    assert.equal(mine[0].addr, '0100007F', `port ${port} bound to 127.0.0.1 (not 0.0.0.0 = 00000000)`);
    assert.equal(v6.filter((s) => s.port === port).length, 0, `port ${port} not listening on IPv6`);
  }
});
