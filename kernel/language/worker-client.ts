// The main thread's handle on the TypeScript worker. The worker starts on the first request (so
// kernel start-up and idle memory never pay for TypeScript), is unref'd whenever nothing is pending
// (it never keeps the process alive), and stops after a long idle period to give its memory back.
// Every request resolves: with the worker's answer, or `undefined` on timeout, crash or close, so
// callers can fall back to what the runtime knows.
import { writeSync } from 'node:fs';
import type { FromWorker, RequestKind, Requests, ToWorker, WorkerData } from './protocol.js';
import { HelperThread } from '../../magics/engines/thread.js';

export interface WorkerClientOptions {
  /** Give up on one request after this long (the first includes loading TypeScript, ~1 s). Default 10 s. */
  requestTimeoutMs?: number;
  /** Stop the worker after this long without requests; 0 keeps it. Default 15 minutes. */
  idleStopMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  timer: NodeJS.Timeout;
}

// A worker that keeps crashing is not restarted forever.
const MAX_CRASHES = 3;

export class WorkerClient {
  private worker?: HelperThread<FromWorker>;
  private readonly cells: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private crashes = 0;
  private closed = false;
  private logged = false;
  private idleTimer?: NodeJS.Timeout;
  private readonly requestTimeoutMs: number;
  private readonly idleStopMs: number;

  constructor(private readonly url: URL, options: WorkerClientOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.idleStopMs = options.idleStopMs ?? 15 * 60_000;
  }

  /** Cells are kept here too, so a restarted worker gets them all. */
  addCell(code: string): void {
    this.cells.push(code);
    this.worker?.postMessage({ type: 'cell', code } satisfies ToWorker);
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  request<K extends RequestKind>(type: K, args: Requests[K]['args']): Promise<Requests[K]['result'] | undefined> {
    const worker = this.ensureWorker();
    if (!worker) return Promise.resolve(undefined);
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), this.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, timer });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ type, id, ...args } as ToWorker);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.stop();
  }

  private ensureWorker(): HelperThread<FromWorker> | undefined {
    if (this.worker) return this.worker;
    if (this.closed || this.crashes >= MAX_CRASHES) return undefined;
    // execArgv: [] — the worker needs no flags, and some parent flags (`--input-type`, `--eval`) would stop it starting.
    // The worker writes its own output to fd 2 (worker-stdio.ts), never into this thread's captured streams.
    // Its answers come through a channel of the kernel's own (see thread.ts: a cell's `then` getter on
    // Object.prototype would make the Worker's 'message' event throw).
    const worker = new HelperThread<FromWorker>(this.url, { workerData: { cells: [...this.cells] } satisfies WorkerData, execArgv: [] });
    worker.on((m) => {
      if ('error' in m) this.log(`a request failed: ${m.error}`);
      this.settle(m.id, 'result' in m ? m.result : undefined);
    });
    // An 'error' is followed by 'exit'; pending requests are answered there.
    worker.worker.on('error', (e) => this.log(`the worker stopped: ${e.stack ?? String(e)}`));
    worker.worker.on('exit', () => {
      if (this.worker !== worker) return; // stopped on purpose
      this.worker = undefined;
      this.crashes++;
      for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    });
    this.worker = worker;
    this.logged = false;
    return worker;
  }

  /** Once per worker: one broken cell must not flood the kernel's log on every keystroke. */
  private log(line: string): void {
    if (this.logged) return;
    this.logged = true;
    writeLog(`[tsprof] language service: ${line}\n`);
  }

  private settle(id: number, value: unknown): void {
    const p = this.pending.get(id);
    if (!p) return; // already timed out
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(value);
    if (this.pending.size === 0 && this.worker) {
      this.worker.unref();
      if (this.idleStopMs > 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => void this.stop(), this.idleStopMs);
        this.idleTimer.unref();
      }
    }
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    if (worker) await worker.terminate();
  }
}

/** The kernel's log: straight to fd 2, since process.stderr is captured into cell output. */
function writeLog(text: string): void {
  try {
    writeSync(2, text.endsWith('\n') ? text : text + '\n');
  } catch {
    // no stderr: nothing to do
  }
}
