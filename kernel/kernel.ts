// The dispatcher: one handler per msg_type, as ipykernel's kernelbase does. Shell requests run
// one at a time in arrival order; each is wrapped in busy/idle status on iopub.
import { log } from './log.js';
import { newHeader } from './wire/header.js';
import {
  replyType,
  type CommInfoRequest, type CommOpen, type CompleteRequest, type ExecuteRequest, type Header, type HistoryRequest,
  type InspectRequest, type IsCompleteRequest, type Message, type OutgoingMessage, type ShutdownRequest,
} from './wire/message.js';
import type { LanguageService } from './language/index.js';
import type { KernelSession } from './session/session.js';
import type { StdinRequest } from './session/stdin.js';

type Handler = (msg: Message) => Promise<unknown>;

export interface KernelDeps {
  session: KernelSession;
  language: LanguageService;
  sessionId: string;
  send: (...msgs: OutgoingMessage[]) => void;
  /** Send; resolves when every request that reached the I/O thread before these messages left it has been delivered here. */
  /** Send; `fenced` runs once every request that reached the I/O thread before them reached this thread. */
  sendFenced: (msgs: OutgoingMessage[], fenced: () => void) => void;
  /** Hand over what send() held back (see IoBridge.hold): called when the shell queue runs empty. */
  flush?: () => void;
  /** The stdin channel: told which execute request may be asked for input. */
  stdin?: { setRequest(request: StdinRequest | undefined): void; renew(): void };
  /** A full garbage collection (the kernel's own `gc`, captured before any cell could replace it). */
  collectGarbage?: () => void;
  /** Close sockets and end the process. */
  shutdown: () => Promise<never>;
}

export { log };

/** Requests between the kernel's own full garbage collections (see Kernel.housekeeping). */
const GC_EVERY = 500;

export class Kernel {
  private readonly queue: Array<{ msg: Message; seq: number }> = [];
  private running = false;
  /** Shell requests received so far; each queued request carries its number. */
  private arrived = 0;
  /**
   * After an error with stop_on_error, execute requests up to this arrival number are aborted (as
   * ipykernel does): Infinity until the I/O thread confirms the error reply went out, then the
   * number of the last request that arrived before it.
   */
  private abortUpTo = -1;
  /** The failing execute asked to stop the queue; set by executeRequest, acted on once its reply is sent. */
  private stopQueue = false;

  // A Map, not an object literal: msg_type comes off the wire, and `__proto__`, `constructor` or
  // `toString` must be unknown types, not Object.prototype's members.
  private readonly handlers = new Map<string, Handler>(Object.entries({
    // kernel_info_request is answered by the I/O thread (kernel/io/worker.ts), on shell and control.
    execute_request: (m) => this.executeRequest(m),
    complete_request: (m) => this.completeRequest(m),
    inspect_request: (m) => this.inspectRequest(m),
    is_complete_request: (m) => this.isCompleteRequest(m),
    history_request: (m) => this.historyRequest(m),
    comm_info_request: (m) => this.commInfoRequest(m),
    comm_open: (m) => this.commOpen(m),
    comm_msg: async () => undefined,
    comm_close: async () => undefined,
    shutdown_request: (m) => this.shutdownRequest(m),
    interrupt_request: async () => {
      process.kill(process.pid, 'SIGINT');
      return { status: 'ok' };
    },
  } satisfies Record<string, Handler>));

  constructor(private readonly deps: KernelDeps) {}

  /** Entry point for every decoded request from the I/O thread. */
  onRequest(channel: 'shell' | 'control' | 'stdin', msg: Message): void {
    if (channel === 'stdin') return; // input_reply is consumed where input was requested
    if (channel === 'control') {
      void this.handle('control', msg);
      return;
    }
    this.queue.push({ msg, seq: ++this.arrived });
    void this.drain();
  }

  /** True while shell requests are being handled (the kernel's sends may then be held back, see IoBridge.hold). */
  get handling(): boolean {
    return this.running;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.handle('shell', next.msg, next.seq);
    } finally {
      this.running = false;
      this.deps.flush?.();
    }
    this.housekeeping();
  }

  private handledSinceGc = 0;

  /**
   * Every request leaves a little garbage that survives a scavenge (messages in flight) and reaches
   * the old generation, which V8 lets grow for thousands of cells before it collects: RSS climbs by
   * megabytes. A full collection every GC_EVERY requests, when the queue is empty, keeps it flat
   * (a few ms on the kernel's heap, after the reply and idle status have gone out).
   */
  private housekeeping(): void {
    if (++this.handledSinceGc < GC_EVERY || !this.deps.collectGarbage) return;
    this.handledSinceGc = 0;
    this.deps.collectGarbage();
  }

  private async handle(channel: 'shell' | 'control', msg: Message, seq = 0): Promise<void> {
    const type = msg.header.msg_type;
    this.status(msg.header, 'busy');
    // The reply and the idle status leave together: one hand-over to the I/O thread, not two.
    let reply: OutgoingMessage | undefined;
    try {
      const handler = this.handlers.get(type);
      let content: unknown;
      if (!handler) {
        log(`unknown message type ${JSON.stringify(type)} on ${channel}; replying with an error`);
        content = { status: 'error', ename: 'UnknownMessageType', evalue: `tsprof does not handle ${type}`, traceback: [] };
      } else if (type === 'execute_request' && channel === 'shell' && seq <= this.abortUpTo) {
        log(`execute_request ${msg.header.msg_id} aborted: an earlier cell failed with stop_on_error`);
        content = { status: 'aborted', execution_count: this.deps.session.executionCount };
      } else {
        content = await handler(msg);
      }
      // comm messages and other non-requests get no reply
      if (content !== undefined && (type.endsWith('_request') || !handler)) reply = this.replyMessage(channel, msg, content);
    } catch (e) {
      log(`handler for ${type} failed: ${(e as Error)?.stack ?? String(e)}`);
      reply = this.replyMessage(channel, msg, { status: 'error', ename: 'KernelError', evalue: String((e as Error)?.message ?? e), traceback: [] });
    } finally {
      this.deps.session.streams.flush();
      const idle = this.statusMessage(msg.header, 'idle');
      if (this.stopQueue && reply) {
        this.stopQueue = false;
        // Abort everything that reached the I/O thread before the error reply left it.
        this.abortUpTo = Infinity;
        this.deps.sendFenced([reply, idle], () => {
          this.abortUpTo = this.arrived;
        });
      } else if (reply) this.deps.send(reply, idle);
      else this.deps.send(idle);
    }
  }

  private reply(channel: 'shell' | 'control', req: Message, content: unknown): void {
    this.deps.send(this.replyMessage(channel, req, content));
  }

  private replyMessage(channel: 'shell' | 'control', req: Message, content: unknown): OutgoingMessage {
    return { channel, identities: req.identities, header: newHeader(replyType(req.header.msg_type), this.deps.sessionId), parent_header: req.header, metadata: {}, content };
  }

  private status(parent: Header, execution_state: 'busy' | 'idle'): void {
    this.deps.session.streams.flush();
    this.deps.send(this.statusMessage(parent, execution_state));
  }

  private statusMessage(parent: Header, execution_state: 'busy' | 'idle'): OutgoingMessage {
    return { channel: 'iopub', identities: [Buffer.from('kernel.status')], header: newHeader('status', this.deps.sessionId), parent_header: parent, metadata: {}, content: { execution_state } };
  }

  private async executeRequest(msg: Message): Promise<unknown> {
    const req = msg.content as unknown as ExecuteRequest;
    if (typeof req.code !== 'string') return { status: 'error', ename: 'BadRequest', evalue: 'execute_request content.code must be a string', traceback: [], execution_count: this.deps.session.executionCount };
    this.deps.stdin?.renew();
    this.deps.stdin?.setRequest({ identities: msg.identities, header: msg.header, allowStdin: req.allow_stdin === true });
    let reply;
    try {
      reply = await this.deps.session.execute(req, msg.header);
    } finally {
      this.deps.stdin?.setRequest(undefined);
    }
    if (reply.status === 'ok' && !req.silent && req.store_history !== false) this.deps.language.addCell(req.code);
    if (reply.status === 'error' && req.stop_on_error !== false) this.stopQueue = true;
    return reply;
  }

  private completeRequest(msg: Message): Promise<unknown> {
    const { code, cursor_pos } = msg.content as unknown as CompleteRequest;
    return this.deps.language.complete(String(code ?? ''), Number(cursor_pos ?? String(code ?? '').length));
  }

  private inspectRequest(msg: Message): Promise<unknown> {
    const { code, cursor_pos, detail_level } = msg.content as unknown as InspectRequest;
    return this.deps.language.inspect(String(code ?? ''), Number(cursor_pos ?? 0), detail_level === 1 ? 1 : 0);
  }

  private isCompleteRequest(msg: Message): Promise<unknown> {
    return this.deps.language.isComplete(String((msg.content as unknown as IsCompleteRequest).code ?? ''));
  }

  private async historyRequest(msg: Message): Promise<unknown> {
    return { status: 'ok', history: this.deps.session.history.query(msg.content as unknown as HistoryRequest) };
  }

  private async commInfoRequest(msg: Message): Promise<unknown> {
    void (msg.content as CommInfoRequest);
    return { status: 'ok', comms: {} };
  }

  /** No comm targets are registered: say so by closing the comm, as the protocol asks. */
  private async commOpen(msg: Message): Promise<undefined> {
    const { comm_id, target_name } = msg.content as unknown as CommOpen;
    log(`comm_open for unknown target ${JSON.stringify(target_name)}; closing comm ${comm_id}`);
    this.deps.send({ channel: 'iopub', identities: [Buffer.from('comm')], header: newHeader('comm_close', this.deps.sessionId), parent_header: msg.header, metadata: {}, content: { comm_id, data: {} } });
    return undefined;
  }

  private async shutdownRequest(msg: Message): Promise<never> {
    const restart = Boolean((msg.content as ShutdownRequest).restart);
    this.reply('control', msg, { status: 'ok', restart });
    this.status(msg.header, 'idle');
    await this.deps.language.close();
    return this.deps.shutdown();
  }
}
