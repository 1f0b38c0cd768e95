// Kernel process entry: read the connection file, start the I/O thread, wire the session.
//
// The I/O thread starts first, before the evaluator's modules load, so the sockets are bound (and
// kernel_info answered by the I/O thread) while the rest of the kernel is still loading; requests
// that arrive meanwhile wait in order.
import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { readConnectionFile } from './wire/connection.js';
import { newHeader } from './wire/header.js';
import type { Header, Message } from './wire/message.js';
import { IoBridge } from './io/bridge.js';
import { InputSlot } from './io/input-slot.js';
import { kernelInfo } from './info.js';
import { log } from './log.js';

// Captured now: a cell may replace globalThis.gc or v8.getHeapStatistics.
const gc = (globalThis as { gc?: () => void }).gc;
const heapUsed = getHeapStatistics;
/**
 * The kernel's periodic full GC (Kernel.housekeeping) is for its own message garbage; on a notebook
 * holding a large heap a full GC costs far more than that garbage, so it is skipped there.
 */
const collectGarbage = gc && ((): void => {
  if (heapUsed().used_heap_size < 256 * 1024 * 1024) gc();
});

export async function runKernel(connectionFile: string): Promise<void> {
  const connection = readConnectionFile(connectionFile);
  const sessionId = randomUUID();
  const info = kernelInfo();

  let onRequest: (channel: 'shell' | 'control' | 'stdin', msg: Message) => void;
  const early: Array<['shell' | 'control' | 'stdin', Message]> = [];
  onRequest = (channel, msg) => void early.push([channel, msg]);
  let exit: (code: number) => never = (code) => process.exit(code);
  const input = new InputSlot();
  const bridge = new IoBridge({ connection, kernelInfo: info, session: sessionId, inputBuffer: input.buffer }, (channel, msg) => onRequest(channel, msg), (error) => {
    log(`I/O thread failed: ${error}`);
    exit(1);
  });

  const [{ init: initLexer }, { Kernel }, { createLanguageService }, { KernelSession }, { captureProcessStreams, fastConsole }, { installGuards }, { installMagics }, { StdinChannel, installStdin }] = await Promise.all([
    import('es-module-lexer'),
    import('./kernel.js'),
    import('./language/index.js'),
    import('./session/session.js'),
    import('./session/output.js'),
    import('./session/guards.js'),
    import('../magics/notebook/index.js'),
    import('./session/stdin.js'),
  ]);
  await initLexer();

  const session = new KernelSession({
    baseDir: process.cwd(),
    publish: (parent: Header, msgType: string, content: unknown) =>
      bridge.send({ channel: 'iopub', identities: [Buffer.from(msgType)], header: newHeader(msgType, sessionId), parent_header: parent, metadata: {}, content }),
  });
  const language = createLanguageService(session.evaluator);
  installMagics(session, language);
  exit = installGuards((cell, error, kind) => session.reportAsyncError(cell, error, kind), log);

  const stdin = new StdinChannel({ slot: input, send: (msg) => bridge.send(msg), sessionId, flush: () => session.streams.flush() });
  const { renew } = installStdin(stdin);

  const kernel = new Kernel({
    stdin: { setRequest: (r) => stdin.setRequest(r), renew },
    session,
    language,
    sessionId,
    send: (...msgs) => bridge.send(...msgs),
    sendFenced: (...msgs) => bridge.sendFenced(...msgs),
    collectGarbage,
    shutdown: async () => {
      session.streams.flush();
      await bridge.close();
      return exit(0);
    },
  });

  await bridge.bound;
  captureProcessStreams(session.streams);
  fastConsole(session.streams);
  onRequest = (channel, msg) => kernel.onRequest(channel, msg);
  for (const [channel, msg] of early.splice(0)) kernel.onRequest(channel, msg);
  log(`kernel ready on ${connection.transport}://${connection.ip} (pid ${process.pid})`);
}
