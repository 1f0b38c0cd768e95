// The kernel's main-thread wiring, run in the kernel's realm (see load.ts): session, language
// service, magics and dispatcher, joined to the I/O thread's bridge that main.ts started early.
import { Kernel } from '../kernel.js';
import { createLanguageService } from '../language/index.js';
import { KernelSession } from '../session/session.js';
import { captureProcessStreams, fastConsole } from '../session/output.js';
import { installGuards } from '../session/guards.js';
import { installMagics } from '../../magics/notebook/index.js';
import { StdinChannel, installStdin } from '../session/stdin.js';
import type { InputSlot } from '../io/input-slot.js';
import type { SigintFlags } from '../io/sigint.js';
import { adopt } from '../../magics/engines/realm.js';
import { newHeader } from '../wire/header.js';
import { log } from '../log.js';
import type { IoBridge, RequestHandler } from '../io/bridge.js';
import type { Header, Message } from '../wire/message.js';

export interface StartOptions {
  bridge: IoBridge;
  sessionId: string;
  /** Requests that arrived while the kernel was loading, in order. */
  early: Array<[Parameters<RequestHandler>[0], Message]>;
  /** Where input_reply lands (filled by the I/O thread; prompt() blocks on it). */
  input: InputSlot;
  /** Shared with the I/O thread, which answers SIGINT (see kernel/io/sigint.ts). */
  sigint: SigintFlags;
  /** The kernel's periodic full GC, captured in main.ts before any cell ran. */
  collectGarbage?: () => void;
}

export interface StartedKernel {
  onRequest: RequestHandler;
  /** The real process.exit (cells get one that throws). */
  exit: (code: number) => never;
}

export async function startKernel({ bridge, sessionId, early, input, sigint, collectGarbage }: StartOptions): Promise<StartedKernel> {
  const session = new KernelSession({
    baseDir: process.cwd(),
    sigint,
    // What the kernel held back (busy, execute_input) leaves before user code runs.
    beforeRun: () => bridge.flush(),
    publish: (parent: Header, msgType: string, content: unknown) =>
      bridge.send({ channel: 'iopub', identities: [Buffer.from(msgType)], header: newHeader(msgType, sessionId), parent_header: parent, metadata: {}, content }),
  });
  const language = createLanguageService(session.evaluator);
  installMagics(session, language);
  const exit = installGuards((cell, error, kind) => session.reportAsyncError(cell, error, kind), log);

  // An input_request blocks the main thread until answered: it (and everything before it) leaves at once, never held.
  const stdin = new StdinChannel({ slot: input, send: (msg) => { bridge.send(msg); bridge.flush(); }, sessionId, flush: () => session.streams.flush() });
  const { renew } = installStdin(stdin);

  const kernel = new Kernel({
    stdin: { setRequest: (r) => stdin.setRequest(r), renew },
    session,
    language,
    sessionId,
    send: (...msgs) => bridge.send(...msgs),
    sendFenced: (msgs, fenced) => bridge.sendFenced(msgs, fenced),
    flush: () => bridge.flush(),
    collectGarbage,
    shutdown: async () => {
      session.streams.flush();
      await bridge.close();
      return exit(0);
    },
  });

  // Between two cells only the kernel's own code runs: its messages (reply, idle, the next busy and
  // execute_input) leave together, in one hand-over to the I/O thread instead of one each.
  bridge.hold(() => kernel.handling && !session.evaluator.busy);

  await bridge.bound;
  captureProcessStreams(session.streams);
  fastConsole(session.streams);
  // Requests are cloned onto the port in the main realm: copy them into this one first.
  const onRequest: RequestHandler = (channel, msg) => kernel.onRequest(channel, adopt(msg));
  for (const [channel, msg] of adopt(early.splice(0))) onRequest(channel, msg);
  return { onRequest, exit };
}
