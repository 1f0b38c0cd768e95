// Kernel process entry: read the connection file, start the I/O thread, wire the session.
import { randomUUID } from 'node:crypto';
import { init as initLexer } from 'es-module-lexer';
import { readConnectionFile } from './wire/connection.js';
import { newHeader } from './wire/header.js';
import type { Header } from './wire/message.js';
import { IoBridge } from './io/bridge.js';
import { kernelInfo } from './info.js';
import { Kernel, log } from './kernel.js';
import { createLanguageService } from './language/index.js';
import { KernelSession } from './session/session.js';
import { captureProcessStreams, fastConsole } from './session/output.js';
import { installGuards } from './session/guards.js';
import { installMagics } from '../magics/index.js';

export async function runKernel(connectionFile: string): Promise<void> {
  const connection = readConnectionFile(connectionFile);
  const sessionId = randomUUID();
  const info = kernelInfo();
  await initLexer();

  let bridge: IoBridge | undefined;
  const session = new KernelSession({
    baseDir: process.cwd(),
    publish: (parent: Header, msgType: string, content: unknown) =>
      bridge?.send({ channel: 'iopub', identities: [Buffer.from(msgType)], header: newHeader(msgType, sessionId), parent_header: parent, metadata: {}, content }),
  });
  const language = createLanguageService(session.evaluator);
  installMagics(session, language);
  const realExit = installGuards((cell, error, kind) => session.reportAsyncError(cell, error, kind), log);

  const kernel = new Kernel({
    session,
    language,
    kernelInfo: info,
    sessionId,
    send: (...msgs) => bridge?.send(...msgs),
    shutdown: async () => {
      session.streams.flush();
      await bridge?.close();
      return realExit(0);
    },
  });

  bridge = new IoBridge({ connection, kernelInfo: info, session: sessionId }, (channel, msg) => kernel.onRequest(channel, msg), (error) => {
    log(`I/O thread failed: ${error}`);
    realExit(1);
  });
  await bridge.bound;
  captureProcessStreams(session.streams);
  fastConsole(session.streams);
  log(`kernel ready on ${connection.transport}://${connection.ip} (pid ${process.pid})`);
}
