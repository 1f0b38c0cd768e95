// Kernel process entry: read the connection file, start the I/O thread, wire the session.
//
// The I/O thread starts first, before the evaluator's modules load, so the sockets are bound (and
// kernel_info answered by the I/O thread) while the rest of the kernel is still loading; requests
// that arrive meanwhile wait in order. The rest runs in the kernel's own realm (kernel/realm/),
// out of reach of what cells do to globals and prototypes; this file's code runs before any cell.
import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { readConnectionFile } from './wire/connection.js';
import type { Message } from './wire/message.js';
import { IoBridge, type RequestHandler } from './io/bridge.js';
import { InputSlot } from './io/input-slot.js';
import { SigintFlags } from './io/sigint.js';
import { kernelInfo } from './info.js';
import { log } from './log.js';
import { loadKernelModules } from './realm/load.js';

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

  const early: Array<['shell' | 'control' | 'stdin', Message]> = [];
  let onRequest: RequestHandler = (channel, msg) => void early.push([channel, msg]);
  let exit: (code: number) => never = (code) => process.exit(code);
  const input = new InputSlot();
  const sigint = new SigintFlags();
  const bridge = new IoBridge({ connection, kernelInfo: info, session: sessionId, inputBuffer: input.buffer, sigintBuffer: sigint.buffer }, (channel, msg) => onRequest(channel, msg), (error) => {
    log(`I/O thread failed: ${error}`);
    exit(1);
  });

  const { modules } = await loadKernelModules();
  const started = await modules.startKernel({ bridge, sessionId, early, input, sigint, collectGarbage });
  exit = started.exit;
  onRequest = started.onRequest;
  log(`kernel ready on ${connection.transport}://${connection.ip} (pid ${process.pid})`);
}
