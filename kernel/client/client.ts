// A small typed Jupyter client over real ZeroMQ sockets, built on the same wire code as the kernel.
// `tsprof run`, the tests and the benchmarks use it.
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { endpoint, type ConnectionInfo } from '../wire/connection.js';
import { decode, encode } from '../wire/frames.js';
import { createSigner, type Signer } from '../wire/sign.js';
import { PROTOCOL_VERSION, type Header, type Message } from '../wire/message.js';

export interface ExecuteResult {
  reply: Message;
  /** Every iopub message whose parent is this request, up to and including status idle. */
  iopub: Message[];
}

type Waiter = { resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class KernelClient {
  readonly session = randomUUID();
  private readonly signer: Signer;
  // Shell and stdin share one identity, as jupyter_client's do: the kernel asks for input with the
  // identities of the shell request that is running.
  private readonly identity = `client-${randomUUID()}`;
  private readonly shell = new zmq.Dealer({ routingId: this.identity });
  private readonly control = new zmq.Dealer({ routingId: `control-${randomUUID()}` });
  private readonly stdin = new zmq.Dealer({ routingId: this.identity });
  /** Answers input_request messages; without one, input requests go unanswered. */
  private inputHandler?: (request: Message) => string | Promise<string>;
  private readonly iopub = new zmq.Subscriber();
  private readonly replies = new Map<string, Waiter>();
  private readonly iopubByParent = new Map<string, Message[]>();
  private readonly idleWaiters = new Map<string, { done: () => void; fail: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly iopubListeners = new Set<(m: Message) => void>();
  private closed = false;

  constructor(readonly connection: ConnectionInfo) {
    this.signer = createSigner(connection.signature_scheme, connection.key);
  }

  async connect(): Promise<void> {
    this.shell.connect(endpoint(this.connection, 'shell'));
    this.control.connect(endpoint(this.connection, 'control'));
    this.stdin.connect(endpoint(this.connection, 'stdin'));
    this.iopub.connect(endpoint(this.connection, 'iopub'));
    this.iopub.subscribe();
    void this.readReplies(this.shell);
    void this.readReplies(this.control);
    void this.readIopub();
    void this.readStdin();
  }

  /** Answer every input_request with what `handler` returns (the request's content has prompt and password). */
  onInput(handler: ((request: Message) => string | Promise<string>) | undefined): void {
    this.inputHandler = handler;
  }

  /** Send an input_reply to `request`. */
  async replyInput(request: Message, value: string): Promise<void> {
    await this.stdin.send(encode({ channel: 'stdin', identities: [], header: this.header('input_reply'), parent_header: request.header, metadata: {}, content: { value } }, this.signer));
  }

  private async readStdin(): Promise<void> {
    try {
      for await (const frames of this.stdin) {
        const msg = this.tryDecode(frames);
        if (msg?.header.msg_type !== 'input_request' || !this.inputHandler) continue;
        // Not awaited: a handler that never answers (an interrupt test) must not block later requests.
        void Promise.resolve(this.inputHandler(msg)).then((value) => this.replyInput(msg, value)).catch(() => undefined);
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  /** Wait until the kernel answers kernel_info and its iopub messages reach us. */
  async waitForReady(timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const header = this.header('kernel_info_request');
      try {
        const reply = await this.sendRequest('shell', header, {}, 1000);
        await this.waitIdle(header.msg_id, 500);
        return reply;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`kernel not ready after ${timeoutMs} ms: ${(e as Error).message}`);
      }
    }
  }

  header(msg_type: string): Header {
    return { msg_id: randomUUID(), session: this.session, username: 'tsprof-client', date: new Date().toISOString(), msg_type, version: PROTOCOL_VERSION };
  }

  /** Send a request and resolve with its reply. */
  request(channel: 'shell' | 'control', msg_type: string, content: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<Message> {
    return this.sendRequest(channel, this.header(msg_type), content, timeoutMs);
  }

  sendRequest(channel: 'shell' | 'control', header: Header, content: unknown, timeoutMs: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(header.msg_id);
        reject(new Error(`no reply to ${header.msg_type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(header.msg_id, { resolve, reject, timer });
      void this.sendRaw(channel, header, content);
    });
  }

  /** Send frames exactly as given (for tests of signatures and malformed input). */
  async sendFrames(channel: 'shell' | 'control', frames: Buffer[]): Promise<void> {
    await (channel === 'shell' ? this.shell : this.control).send(frames);
  }

  async sendRaw(channel: 'shell' | 'control' | 'stdin', header: Header, content: unknown): Promise<void> {
    const socket = channel === 'shell' ? this.shell : channel === 'control' ? this.control : this.stdin;
    const frames = encode({ channel, identities: [], header, parent_header: {}, metadata: {}, content }, this.signer);
    // zeromq allows one pending send per socket: pipelined requests wait their turn, in order.
    const sent = (this.sending.get(socket) ?? Promise.resolve()).then(() => socket.send(frames));
    this.sending.set(socket, sent.catch(() => undefined));
    await sent;
  }

  private readonly sending = new Map<zmq.Dealer, Promise<unknown>>();

  /** Execute code; resolves once both the reply and status idle have arrived. */
  async execute(code: string, options: { timeoutMs?: number; silent?: boolean; store_history?: boolean; user_expressions?: Record<string, string>; stop_on_error?: boolean; allow_stdin?: boolean } = {}): Promise<ExecuteResult> {
    const header = this.header('execute_request');
    const idle = this.waitIdle(header.msg_id, options.timeoutMs ?? 60_000);
    const reply = await this.sendRequest('shell', header, {
      code,
      silent: options.silent ?? false,
      store_history: options.store_history ?? true,
      user_expressions: options.user_expressions ?? {},
      allow_stdin: options.allow_stdin ?? false,
      stop_on_error: options.stop_on_error ?? true,
    }, options.timeoutMs ?? 60_000);
    await idle;
    return { reply, iopub: this.iopubFor(header.msg_id) };
  }

  /** Send an execute request without waiting: for interrupt tests. Returns its msg_id. */
  startExecute(code: string): { msgId: string; done: Promise<ExecuteResult> } {
    const header = this.header('execute_request');
    const idle = this.waitIdle(header.msg_id, 120_000);
    const reply = this.sendRequest('shell', header, { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, 120_000);
    return { msgId: header.msg_id, done: Promise.all([reply, idle]).then(([r]) => ({ reply: r, iopub: this.iopubFor(header.msg_id) })) };
  }

  iopubFor(parentId: string): Message[] {
    return this.iopubByParent.get(parentId) ?? [];
  }

  onIopub(listener: (m: Message) => void): () => void {
    this.iopubListeners.add(listener);
    return () => this.iopubListeners.delete(listener);
  }

  waitIdle(parentId: string, timeoutMs: number): Promise<void> {
    const seen = this.iopubFor(parentId).some((m) => m.header.msg_type === 'status' && (m.content as { execution_state?: string }).execution_state === 'idle');
    if (seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters.delete(parentId);
        reject(new Error(`no idle status for ${parentId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.idleWaiters.set(parentId, {
        done: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        timer,
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Nothing will answer now: settle what waits, so no timer keeps the process alive.
    const closed = new Error('the client was closed');
    for (const w of this.replies.values()) {
      clearTimeout(w.timer);
      w.reject(closed);
    }
    this.replies.clear();
    for (const w of this.idleWaiters.values()) w.fail(closed);
    this.idleWaiters.clear();
    for (const s of [this.shell, this.control, this.stdin, this.iopub]) {
      // Do not hold the process open for requests a dead kernel will never take.
      s.linger = 0;
      s.close();
    }
  }

  private async readReplies(socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.tryDecode(frames);
        const parent = (msg?.parent_header as Header | undefined)?.msg_id;
        const waiter = parent ? this.replies.get(parent) : undefined;
        if (msg && waiter && parent) {
          clearTimeout(waiter.timer);
          this.replies.delete(parent);
          waiter.resolve(msg);
        }
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  private async readIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const msg = this.tryDecode(frames);
        if (!msg) continue;
        const parent = (msg.parent_header as Header | undefined)?.msg_id;
        if (parent) {
          let list = this.iopubByParent.get(parent);
          if (!list) this.iopubByParent.set(parent, (list = []));
          list.push(msg);
          if (msg.header.msg_type === 'status' && (msg.content as { execution_state?: string }).execution_state === 'idle') {
            this.idleWaiters.get(parent)?.done();
            this.idleWaiters.delete(parent);
          }
        }
        for (const l of this.iopubListeners) l(msg);
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  private tryDecode(frames: Buffer[]): Message | undefined {
    try {
      return decode(frames, this.signer);
    } catch {
      return undefined;
    }
  }
}
