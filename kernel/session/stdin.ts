// Reading from the notebook: `prompt()` (synchronous, as Deno's and the browser's), `await input()`
// (IPython's input()) and `process.stdin` (readline) send an input_request on the stdin channel to
// the client of the running cell and return what the user typed. Password mode hides the typing.
// An interrupt ends a pending input with KeyboardInterrupt; a client that said allow_stdin: false
// gets StdinNotImplementedError, as ipykernel's.
import { Readable } from 'node:stream';
import type { InputSlot } from '../io/input-slot.js';
import { newHeader } from '../wire/header.js';
import type { Header, OutgoingMessage } from '../wire/message.js';
import { KeyboardInterrupt } from './evaluator.js';
import { userGlobal } from './user-realm.js';

export class StdinNotImplementedError extends Error {
  override name = 'StdinNotImplementedError';
}

/** The execute request whose client is asked. */
export interface StdinRequest {
  identities: Buffer[];
  header: Header;
  allowStdin: boolean;
}

export interface StdinDeps {
  slot: InputSlot;
  send: (msg: OutgoingMessage) => void;
  sessionId: string;
  /** Pending stream output goes out before the question. */
  flush: () => void;
}

export interface InputOptions {
  password?: boolean;
}

export class StdinChannel {
  private request: StdinRequest | undefined;
  constructor(private readonly deps: StdinDeps) {}

  /** The kernel sets the running execute request (and clears it when the cell ends). */
  setRequest(request: StdinRequest | undefined): void {
    this.request = request;
  }

  /** Ask and block this thread until the answer (for `prompt()`). */
  askSync(prompt: string, options: InputOptions = {}): string {
    this.send(prompt, options, 'sync');
    return unwrap(this.deps.slot.waitSync());
  }

  async ask(prompt: string, options: InputOptions = {}): Promise<string> {
    this.send(prompt, options, 'async');
    this.asyncWaiting = true;
    try {
      return unwrap(await this.deps.slot.waitAsync());
    } finally {
      this.asyncWaiting = false;
    }
  }

  private asyncWaiting = false;

  private send(prompt: string, options: InputOptions, mode: 'sync' | 'async'): void {
    const req = this.request;
    if (!req) throw new StdinNotImplementedError('input was requested outside a running cell; no frontend is there to answer');
    if (!req.allowStdin) throw new StdinNotImplementedError('input was called, but this frontend does not support input requests (allow_stdin is false)');
    if (this.deps.slot.waiting) {
      if (this.asyncWaiting) throw new Error('another input is already waiting for an answer');
      // A prompt() ended by an interrupt (its script was terminated) left the slot open.
      this.deps.slot.abandon();
    }
    this.deps.flush();
    this.deps.slot.open(mode);
    // ipykernel answers on stdin with the shell request's identities: clients give both sockets one identity.
    this.deps.send({
      channel: 'stdin', identities: req.identities, header: newHeader('input_request', this.deps.sessionId), parent_header: req.header, metadata: {},
      content: { prompt: String(prompt), password: Boolean(options.password) },
    });
  }
}

function unwrap(outcome: { status: 'ok'; value: string } | { status: 'interrupted' }): string {
  if (outcome.status === 'interrupted') throw new KeyboardInterrupt('input interrupted');
  return outcome.value;
}

/**
 * `process.stdin` for a kernel: each time a reader wants data (readline's question, `for await` over
 * lines), the notebook is asked for a line. A reader that paused or went away is not asked.
 */
export class NotebookStdin extends Readable {
  private asking = false;
  private wanted = false;

  constructor(private readonly channel: StdinChannel) {
    super({ encoding: 'utf8' });
    // readline.close() pauses; a later reader resumes and is asked then.
    this.on('resume', () => {
      if (this.wanted) this._read();
    });
  }

  override _read(): void {
    this.wanted = true;
    if (this.asking) return;
    // Later in this turn a reader may pause (readline.close() in a question's callback): ask only if it still reads.
    setImmediate(() => {
      if (this.asking || !this.wanted || this.destroyed) return;
      if (this.readableFlowing === false || (this.readableFlowing === null && this.listenerCount('readable') === 0 && this.listenerCount('data') === 0)) return;
      this.asking = true;
      this.wanted = false;
      this.channel.ask('').then(
        (line) => {
          this.asking = false;
          this.push(`${line}\n`);
        },
        (e: unknown) => {
          this.asking = false;
          this.destroy(e as Error);
        },
      );
    });
  }
}

export interface StdinGlobals {
  /** Deno's and the browser's prompt(): synchronous; `defaultValue` when the answer is empty. */
  prompt: (message?: string, defaultValue?: string) => string;
  /** IPython's input(): resolves with the answer. */
  input: (prompt?: string, options?: InputOptions) => Promise<string>;
}

export function stdinGlobals(channel: StdinChannel): StdinGlobals {
  return {
    prompt: (message = '', defaultValue) => {
      const value = channel.askSync(String(message));
      return value === '' && defaultValue !== undefined ? String(defaultValue) : value;
    },
    input: (prompt = '', options = {}) => channel.ask(String(prompt), options),
  };
}

/**
 * Define `prompt`, `input` and a notebook `process.stdin`. A process.stdin that failed (interrupted,
 * or no frontend to ask) is replaced by a fresh one for the next cell: call `renew` before each cell.
 */
export function installStdin(channel: StdinChannel): { renew: () => void } {
  const globals = stdinGlobals(channel);
  for (const [name, value] of Object.entries(globals)) {
    // On the cells' global object: this module runs in the kernel's own realm.
    Object.defineProperty(userGlobal, name, { value, enumerable: false, writable: true, configurable: true });
  }
  let stdin = new NotebookStdin(channel);
  const define = (): void => void Object.defineProperty(userGlobal.process, 'stdin', { get: () => stdin, configurable: true, enumerable: true });
  define();
  return {
    renew: () => {
      if (stdin.destroyed || stdin.readableEnded) {
        stdin = new NotebookStdin(channel);
        define();
      }
    },
  };
}
