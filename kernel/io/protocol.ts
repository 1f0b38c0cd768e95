// Messages between the main thread (evaluation) and the I/O thread (sockets), over a MessagePort.
import type { Message, OutgoingMessage, KernelInfoReply } from '../wire/message.js';
import type { ConnectionInfo } from '../wire/connection.js';
import type { MessagePort } from 'node:worker_threads';

export interface IoWorkerData {
  connection: ConnectionInfo;
  kernelInfo: KernelInfoReply;
  /** The kernel session id stamped on every header we send. */
  session: string;
  /** Shared with the main thread: where input_reply values land (see InputSlot). */
  inputBuffer: SharedArrayBuffer;
  /** Shared with the main thread: whether main-thread code listens for SIGINT itself (see SigintFlags). */
  sigintBuffer: SharedArrayBuffer;
  /** The I/O thread's end of the channel to the main thread (see IoBridge). */
  port: MessagePort;
}

/** I/O thread → main thread. */
export type ToMain =
  | { kind: 'request'; channel: 'shell' | 'control' | 'stdin'; msg: Message }
  /** Shell requests that arrived in one turn of the I/O thread's event loop, in order. */
  | { kind: 'requests'; msgs: Message[] }
  | { kind: 'bound' }
  | { kind: 'closed' }
  /** Echo of a barrier: every request received before it has already been posted. */
  | { kind: 'barrier'; id: number }
  | { kind: 'fatal'; error: string };

/** Main thread → I/O thread. */
export type ToIo =
  /** `barrier`: echo it back before handing these to the sockets (see IoBridge.sendFenced). */
  | { kind: 'send'; msgs: OutgoingMessage[]; barrier?: number }
  | { kind: 'close' };
