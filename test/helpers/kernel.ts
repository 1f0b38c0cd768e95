// Shared helpers for the kernel suites: reading iopub traffic, signing raw frames, waiting.
import assert from 'node:assert/strict';
import type { ExecuteResult } from '../../kernel/client/client.js';
import type { LaunchedKernel } from '../../kernel/client/launch.js';
import { createSigner } from '../../kernel/wire/sign.js';
import type { Message } from '../../kernel/wire/message.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const typeOf = (m: Message): string => m.header.msg_type;
export const parentId = (m: Message): string | undefined => (m.parent_header as { msg_id?: string }).msg_id;

export function ofType(msgs: readonly Message[], type: string): Message[] {
  return msgs.filter((m) => typeOf(m) === type);
}

export function content<T = Record<string, unknown>>(m: Message): T {
  return m.content as unknown as T;
}

export interface StreamContent { name: 'stdout' | 'stderr'; text: string }
export interface DisplayContent { data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: { display_id?: string } }
export interface ErrorContent { ename: string; evalue: string; traceback: string[] }

/** All text of the stream messages (optionally of one stream), in arrival order. */
export function streamText(msgs: readonly Message[], name?: 'stdout' | 'stderr'): string {
  return ofType(msgs, 'stream').map((m) => content<StreamContent>(m)).filter((c) => !name || c.name === name).map((c) => c.text).join('');
}

/** Stream messages merged into runs of the same stream name: [['stdout', 'a\n'], ['stderr', 'b\n'], …]. */
export function streamRuns(msgs: readonly Message[]): Array<[string, string]> {
  const runs: Array<[string, string]> = [];
  for (const m of ofType(msgs, 'stream')) {
    const { name, text } = content<StreamContent>(m);
    const last = runs.at(-1);
    if (last && last[0] === name) last[1] += text;
    else runs.push([name, text]);
  }
  return runs;
}

/** The text/plain of the execute_result, or undefined when there is none. */
export function resultText(r: ExecuteResult): string | undefined {
  const res = ofType(r.iopub, 'execute_result');
  assert.ok(res.length <= 1, `more than one execute_result: ${res.length}`);
  return res[0] ? (content<DisplayContent>(res[0]).data['text/plain'] as string) : undefined;
}

/** Execute and require status ok; returns the execute_result's text/plain. */
export async function evalOk(k: LaunchedKernel, code: string, timeoutMs = 30_000): Promise<string | undefined> {
  const r = await k.client.execute(code, { timeoutMs });
  assert.equal(r.reply.content.status, 'ok', `cell failed: ${code}\n${JSON.stringify(r.reply.content)}`);
  return resultText(r);
}

/** The error content of a failed execute (reply status error and exactly one iopub error). */
export function errorOf(r: ExecuteResult): ErrorContent {
  assert.equal(r.reply.content.status, 'error', `expected an error, got ${JSON.stringify(r.reply.content)}`);
  const errs = ofType(r.iopub, 'error');
  assert.equal(errs.length, 1, 'exactly one error message on iopub');
  return content<ErrorContent>(errs[0]);
}

/** The kernel process is running and answers an execute. */
export async function assertAlive(k: LaunchedKernel): Promise<void> {
  assert.equal(k.child.exitCode, null, 'kernel process exited');
  assert.equal(k.child.signalCode, null, 'kernel process was killed');
  assert.equal(await evalOk(k, '6 * 7', 10_000), '42');
}

/** Frames `<IDS|MSG>`, signature, and the given body frames, signed with `key` (as the connection's scheme). */
export function signedFrames(key: string, body: Array<string | Buffer>, scheme = 'hmac-sha256'): Buffer[] {
  const frames = body.map((b) => (typeof b === 'string' ? Buffer.from(b) : b));
  return [Buffer.from('<IDS|MSG>'), Buffer.from(createSigner(scheme, key).sign(frames.slice(0, 4))), ...frames];
}

/** Number of times `needle` occurs in the kernel's stderr so far. */
export function stderrCount(k: LaunchedKernel, needle: string | RegExp): number {
  const lines = k.stderr().split('\n');
  return lines.filter((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l))).length;
}

/** `p`, or a rejection after `ms` (the timer is cleared either way, so it never holds the process open). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Send an execute_request without waiting for it (any options); `done` resolves with its reply and iopub. */
export function startExecute(
  k: LaunchedKernel,
  code: string,
  options: { silent?: boolean; store_history?: boolean; stop_on_error?: boolean; timeoutMs?: number } = {},
): { msgId: string; reply: Promise<Message>; done: Promise<ExecuteResult> } {
  const c = k.client;
  const header = c.header('execute_request');
  const timeout = options.timeoutMs ?? 60_000;
  const idle = c.waitIdle(header.msg_id, timeout);
  const reply = c.sendRequest('shell', header, {
    code, silent: options.silent ?? false, store_history: options.store_history ?? true, user_expressions: {}, allow_stdin: false, stop_on_error: options.stop_on_error ?? true,
  }, timeout);
  const done = Promise.all([reply, idle]).then(([r]) => ({ reply: r, iopub: c.iopubFor(header.msg_id) }));
  // A test that fails before awaiting these must not turn their later timeouts into unhandled rejections.
  reply.catch(() => undefined);
  done.catch(() => undefined);
  return { msgId: header.msg_id, reply, done };
}
