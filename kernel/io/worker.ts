// The I/O thread. It owns every socket so that heartbeat, control and interrupt keep working
// while the main thread is busy running a cell. It verifies and decodes incoming frames, answers
// heartbeat and the control requests that need no evaluator, and signs and sends what the main thread produces.
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { workerData } from 'node:worker_threads';
import * as zmq from 'zeromq';
import { endpoint } from '../wire/connection.js';
import { createSigner } from '../wire/sign.js';
import { decode, encode, WireError } from '../wire/frames.js';
import { SignatureHistory } from '../wire/replay.js';
import { newHeader } from '../wire/header.js';
import { replyType, type Message, type OutgoingMessage } from '../wire/message.js';
import { InputSlot } from './input-slot.js';
import { SendQueue } from './queue.js';
import { Interrupter } from './interrupter.js';
import { SigintFlags, watchSignal } from './sigint.js';
import type { IoWorkerData, ToIo, ToMain } from './protocol.js';

const { connection, kernelInfo, session, inputBuffer, sigintBuffer, port } = workerData as IoWorkerData;
/** Where an input_reply goes: straight to the main thread, which may be blocked in prompt(). */
const input = new InputSlot(inputBuffer);
const signer = createSigner(connection.signature_scheme, connection.key);
/** Signatures seen on shell, control and stdin: a replayed message is refused (as jupyter_client's Session). */
const history = new SignatureHistory();
// Straight to fd 2: a worker's process.stderr is piped into the main thread's process.stderr, which
// the session captures as the latest cell's output, so the operator would never see these lines.
const log = (line: string): void => void writeSync(2, `[tsprof] ${line}\n`);

// Large messages are legitimate (a notebook cell with data); only refuse the absurd.
const MAX_MESSAGE = 512 * 1024 * 1024;
const shell = new zmq.Router({ maxMessageSize: MAX_MESSAGE });
const control = new zmq.Router({ maxMessageSize: MAX_MESSAGE });
const stdin = new zmq.Router({ maxMessageSize: MAX_MESSAGE });
// No high-water mark on iopub: a burst of output must arrive whole, not be dropped by PUB.
const iopub = new zmq.Publisher({ sendHighWaterMark: 0 });
const hb = new zmq.Reply();

const onSendError = (e: unknown): void => log(`send failed: ${(e as Error).message}`);
const queues = {
  shell: new SendQueue(shell, onSendError),
  control: new SendQueue(control, onSendError),
  stdin: new SendQueue(stdin, onSendError),
  iopub: new SendQueue(iopub, onSendError),
};

function send(msg: OutgoingMessage): void {
  queues[msg.channel].push(encode(msg, signer));
}

/**
 * Shell requests received in this turn of the event loop, handed to the main thread together at
 * its end: a burst of pipelined requests costs one hand-over (one wake-up of the main thread), not
 * one each. Everything else goes at once, after them, so the order is kept.
 */
let shellBatch: Message[] = [];
let batchScheduled = false;

function flushShell(): void {
  batchScheduled = false;
  if (shellBatch.length === 0) return;
  const msgs = shellBatch;
  shellBatch = [];
  port.postMessage({ kind: 'requests', msgs } satisfies ToMain);
}

function toMainShell(msg: Message): void {
  shellBatch.push(msg);
  if (!batchScheduled) {
    batchScheduled = true;
    setImmediate(flushShell);
  }
}

function toMain(m: ToMain): void {
  flushShell();
  port.postMessage(m);
}

function reply(req: Message, channel: 'control' | 'shell', content: unknown): void {
  send({ channel, identities: req.identities, header: newHeader(replyType(req.header.msg_type), session), parent_header: req.header, metadata: {}, content });
}

function status(parent: Message, execution_state: 'busy' | 'idle'): void {
  send({ channel: 'iopub', identities: [Buffer.from('kernel.status')], header: newHeader('status', session), parent_header: parent.header, metadata: {}, content: { execution_state } });
}

let shutdownTimer: NodeJS.Timeout | undefined;
const interrupter = new Interrupter(log);

/**
 * Whatever the main thread runs — a cell's loop, a loop after an await, a timer, a promise
 * callback, an event handler — is stopped through the inspector (interrupter.ts), and the cell's
 * awaits are released; variables survive. A prompt() blocked on shared memory is woken too (its
 * wait may not see the termination).
 */
function interruptMain(): void {
  void interrupter.interrupt();
  input.interrupt();
}

// A SIGINT is an interrupt, unless code on the main thread listens for it itself (see sigint.ts).
const sigint = new SigintFlags(sigintBuffer).follow((handler) => watchSignal(constants.signals.SIGINT, handler), interruptMain, log);

/** Control requests the I/O thread answers itself; the rest go to the main thread. */
function onControl(msg: Message): void {
  switch (msg.header.msg_type) {
    case 'kernel_info_request':
      status(msg, 'busy');
      reply(msg, 'control', kernelInfo);
      status(msg, 'idle');
      return;
    case 'interrupt_request':
      status(msg, 'busy');
      interruptMain();
      reply(msg, 'control', { status: 'ok' });
      status(msg, 'idle');
      return;
    case 'shutdown_request':
      // The main thread cleans up and replies, once whatever it runs is stopped. If it still does
      // not answer, reply ourselves and end the process after a grace period.
      void interrupter.interrupt();
      toMain({ kind: 'request', channel: 'control', msg });
      shutdownTimer = setTimeout(() => {
        log('main thread did not answer shutdown in 3 s; ending the process');
        reply(msg, 'control', { status: 'ok', restart: Boolean((msg.content as { restart?: boolean }).restart) });
        void Promise.all(Object.values(queues).map((q) => q.drain())).finally(() => process.kill(process.pid, 'SIGKILL'));
      }, 3000);
      return;
    default:
      toMain({ kind: 'request', channel: 'control', msg });
  }
}

async function receive(name: 'shell' | 'control' | 'stdin', socket: zmq.Router): Promise<void> {
  for await (const frames of socket) {
    let msg: Message;
    try {
      msg = decode(frames, signer, history);
    } catch (e) {
      // A bad signature or malformed frames: never executed, logged for the operator.
      log(`rejected a message on ${name}: ${e instanceof WireError ? e.message : String(e)}`);
      continue;
    }
    if (name === 'stdin') {
      if (msg.header.msg_type !== 'input_reply' || !input.answer(String((msg.content as { value?: unknown }).value ?? ''))) log(`${msg.header.msg_type} on stdin with no input waiting; ignored`);
    } else if (name === 'control') onControl(msg);
    else if (name === 'shell' && msg.header.msg_type === 'kernel_info_request') {
      // Static information: answered here, so it comes back at once even while a cell runs or the
      // evaluator is still loading.
      status(msg, 'busy');
      reply(msg, 'shell', kernelInfo);
      status(msg, 'idle');
    } else {
      if (name === 'shell') toMainShell(msg);
      else toMain({ kind: 'request', channel: name, msg });
    }
  }
}

async function heartbeat(): Promise<void> {
  for await (const [ping] of hb) await hb.send(ping);
}

async function close(): Promise<void> {
  clearTimeout(shutdownTimer);
  sigint.stop();
  interrupter.close();
  await Promise.all(Object.values(queues).map((q) => q.drain()));
  // Closing every socket before the thread ends avoids zeromq's abort at process exit.
  for (const s of [shell, control, stdin, iopub, hb]) s.close();
  toMain({ kind: 'closed' });
}

/**
 * A fenced send (an error reply with stop_on_error: IoBridge.sendFenced) waits FENCE_GRACE_MS before
 * its barrier is echoed and it leaves, so that requests a client sent before it could see the error
 * (pipelined, still in the socket when the main thread answered) are read first and aborted, as
 * ipykernel flushes its streams before it stops aborting. Measured under load: a first cell that
 * throws at once was answered before the two pipelined behind it had been read, and they ran.
 * What main sends meanwhile waits behind it, in order.
 */
const FENCE_GRACE_MS = 10;
let fencing: Array<Extract<ToIo, { kind: 'send' }>> | undefined;

function sendNow(m: Extract<ToIo, { kind: 'send' }>): void {
  if (m.barrier !== undefined) toMain({ kind: 'barrier', id: m.barrier });
  for (const msg of m.msgs) send(msg);
}

function onSend(m: Extract<ToIo, { kind: 'send' }>): void {
  if (fencing) {
    fencing.push(m);
    return;
  }
  if (m.barrier === undefined) {
    sendNow(m);
    return;
  }
  fencing = [m];
  setTimeout(() => {
    const [first, ...rest] = fencing ?? [m];
    fencing = undefined;
    sendNow(first);
    // The rest in order; a later fence among them waits its own grace (and holds what follows it).
    for (const h of rest) onSend(h);
    if (closeWhenSent && !fencing) void close();
  }, FENCE_GRACE_MS);
}

/** A close that arrived behind a fence: the held replies (a shutdown_reply) leave first. */
let closeWhenSent = false;

port.on('message', (m: ToIo) => {
  if (m.kind === 'send') onSend(m);
  else if (m.kind === 'close') {
    if (fencing) closeWhenSent = true;
    else void close();
  }
});

async function main(): Promise<void> {
  await Promise.all([
    shell.bind(endpoint(connection, 'shell')),
    control.bind(endpoint(connection, 'control')),
    stdin.bind(endpoint(connection, 'stdin')),
    iopub.bind(endpoint(connection, 'iopub')),
    hb.bind(endpoint(connection, 'hb')),
  ]);
  toMain({ kind: 'bound' });
  const loops = [receive('shell', shell), receive('control', control), receive('stdin', stdin), heartbeat()];
  await Promise.allSettled(loops);
}

main().catch((e: Error) => toMain({ kind: 'fatal', error: e.stack ?? String(e) }));
