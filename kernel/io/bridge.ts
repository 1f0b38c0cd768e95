// The main thread's end of the I/O thread: start it, receive requests, hand it messages to send.
import { readFileSync, statSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Message, OutgoingMessage } from '../wire/message.js';
import type { IoWorkerData, ToIo, ToMain } from './protocol.js';

// Captured before any cell runs: this module is the main realm's, and sendFenced() (after every
// failed cell) and close() must work after a cell sets `Promise = undefined`.
const SafePromise = Promise;
const nextTurn = setImmediate;

export type RequestHandler = (channel: 'shell' | 'control' | 'stdin', msg: Message) => void;

export class IoBridge {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  readonly bound: Promise<void>;
  private closed?: () => void;
  private readonly barriers = new Map<number, () => void>();
  private barrierIds = 0;
  /**
   * Messages held back to leave together: each hand-over to the I/O thread costs a wake-up of it
   * (tens of µs, more on a busy machine) — per trivial execute, once the largest cost after Node's
   * SIGINT watchdog. See hold().
   */
  private outbox: OutgoingMessage[] = [];
  private holding: () => boolean = () => false;
  private flushScheduled = false;

  constructor(data: Omit<IoWorkerData, 'port'>, onRequest: RequestHandler, onFatal: (error: string) => void) {
    // A channel of the kernel's own rather than the Worker's 'message' event: Node dispatches that
    // event through a listener that returns `true`, then reads `true.then` (event_target's addCatch)
    // — through Object.prototype, where a cell may have put a `then` getter that throws, which would
    // make every message from the I/O thread an uncaught exception. Our listener returns nothing.
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(workerScript(), { workerData: { ...data, port: port2 } satisfies IoWorkerData, transferList: [port2], stdout: false, stderr: false });
    this.bound = new Promise((resolve, reject) => {
      this.port.on('message', (m: ToMain): void => {
        switch (m.kind) {
          case 'bound': resolve(); break;
          case 'request': onRequest(m.channel, reviveBuffers(m.msg)); break;
          // By index: a cell may have deleted Array.prototype[Symbol.iterator] in this realm.
          case 'requests': for (let i = 0; i < m.msgs.length; i++) onRequest('shell', reviveBuffers(m.msgs[i])); break;
          case 'closed': this.closed?.(); break;
          case 'barrier': this.barriers.get(m.id)?.(); this.barriers.delete(m.id); break;
          case 'fatal': reject(new Error(m.error)); onFatal(m.error); break;
        }
      });
      this.worker.on('error', (e) => { reject(e); onFatal(e.stack ?? String(e)); });
    });
  }

  /**
   * Hold messages back while `holding()` is true: the caller says when only its own short code runs
   * (the kernel between two cells), never while user code could run for long after a send (its
   * output must leave at once). Held messages leave on the next send that is not held, on flush(),
   * or at the end of this turn of the event loop at the latest.
   */
  hold(holding: () => boolean): void {
    this.holding = holding;
  }

  send(...msgs: OutgoingMessage[]): void {
    if (this.holding()) {
      // By index: this runs in the user's realm, where a cell may have replaced Array.prototype.push.
      for (let i = 0; i < msgs.length; i++) this.outbox[this.outbox.length] = msgs[i];
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        nextTurn(() => this.flush());
      }
      return;
    }
    this.post(msgs);
  }

  /** Hand every held message to the I/O thread now (before user code runs, and when the kernel goes idle). */
  flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length) this.post([]);
  }

  /** Post held messages, then `msgs`, in one hand-over. */
  private post(msgs: OutgoingMessage[], barrier?: number): void {
    let all = msgs;
    if (this.outbox.length) {
      all = this.outbox;
      for (let i = 0; i < msgs.length; i++) all[all.length] = msgs[i];
      this.outbox = [];
    }
    this.port.postMessage({ kind: 'send', msgs: all, barrier } satisfies ToIo);
  }

  /**
   * Send, and call `fenced` once every request the I/O thread received before these messages reached the
   * sockets has reached the main thread: the echo leaves the I/O thread in the same turn, just before
   * the messages go out, so a request that answers them can only arrive after it.
   */
  sendFenced(msgs: OutgoingMessage[], fenced: () => void): void {
    // A callback, not a promise: this realm's Promise.prototype.then is the cells' to replace.
    const id = ++this.barrierIds;
    this.barriers.set(id, fenced);
    this.post(msgs, id);
  }

  /** Flush every queued send and close the sockets. */
  close(): Promise<void> {
    this.flush();
    return new SafePromise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.closed = () => { clearTimeout(timer); resolve(); };
      this.port.postMessage({ kind: 'close' } satisfies ToIo);
    });
  }
}

/**
 * The I/O thread's code: the one CommonJS file the build makes of it (scripts/bundle-kernel.mjs) when
 * none of the files it was made from is newer, else the ES modules. The bundle is the lighter start
 * (one file, no ES module loader in the thread, zeromq required rather than imported): 5 MiB less
 * RSS for the I/O thread alone (see bundleIoWorker in scripts/bundle-kernel.mjs).
 */
function workerScript(): URL {
  const bundle = new URL('./worker.cjs', import.meta.url);
  try {
    const built = statSync(bundle).mtimeMs;
    const dist = new URL('../../', import.meta.url);
    const inputs = JSON.parse(readFileSync(new URL('./worker.inputs.json', import.meta.url), 'utf8')) as string[];
    if (!inputs.some((rel) => (statSync(new URL(rel, dist), { throwIfNoEntry: false })?.mtimeMs ?? 0) > built)) return bundle;
  } catch {
    // No bundle (a build that skipped it): the modules.
  }
  return new URL('./worker.js', import.meta.url);
}

/** Structured clone turns Buffers into Uint8Arrays; identities must be sent back byte for byte. */
function reviveBuffers(msg: Message): Message {
  asBuffers(msg.identities);
  asBuffers(msg.buffers);
  return msg;
}

/** In place, by index: this runs in the user's realm, where a cell may have replaced Array.prototype.map. */
function asBuffers(list: Buffer[]): void {
  for (let i = 0; i < list.length; i++) list[i] = Buffer.from(list[i].buffer, list[i].byteOffset, list[i].byteLength);
}
