// The magics' helper threads (the line clock and sampler, the memory sampler, the V8 profile
// sampler, the heap worker, the chart renderer) answer through a MessageChannel of the kernel's own,
// never through the Worker's 'message' event. Node dispatches that event through an internal
// listener that returns a boolean and then reads its `.then` (event_target's addCatch) — through
// Object.prototype, where a cell may have put a `then` getter that throws: every answer would be an
// uncaught exception. The one listener here returns nothing.
//
// Answers are copied into this realm (adopt) before any listener sees them: resolving a promise
// with a main-realm object reads its `then` the same way. The Worker's own start-up message is
// dispatched like that too: a cell's `then` is set aside until the thread is online.
//
// Thread side: answer with `workerData.port.postMessage(…)`; requests still arrive on parentPort
// (that realm is the thread's own).
import { MessageChannel, Worker, type MessagePort, type TransferListItem, type WorkerOptions } from 'node:worker_threads';
import { adopt, setAsideThen, withPristine } from './realm.js';

/** What a helper thread is given: its own data and the port it answers on. */
export type ThreadData<D extends object = object> = D & { port: MessagePort };

export class HelperThread<A = unknown> {
  readonly worker: Worker;
  private readonly answers: MessagePort;
  private readonly listeners = new Set<(answer: A) => void>();
  /** Set when the thread has exited (it failed, or was terminated): start a new one. */
  exited = false;
  /** The process is kept alive while a caller holds the thread (ref) or an answer() is awaited. */
  private held = false;
  private awaited = 0;

  /** Starts unref'd: it keeps the process alive only between ref() and unref(). */
  constructor(script: string | URL, options: Omit<WorkerOptions, 'workerData'> & { workerData?: object } = {}) {
    const { port1, port2 } = new MessageChannel();
    const restoreThen = setAsideThen();
    // After the 'online' dispatch has read `.then`: a microtask of this realm runs once it returns.
    const online = (): void => void Promise.resolve().then(restoreThen);
    // Node's Worker set-up calls main-realm methods a cell may have replaced (see withPristine).
    this.worker = withPristine(() => new Worker(script, { ...options, workerData: { ...options.workerData, port: port2 }, transferList: [...(options.transferList ?? []), port2] }));
    this.worker.on('online', online);
    this.answers = port1;
    this.answers.on('message', (message: A): void => {
      const answer = adopt(message);
      for (const l of [...this.listeners]) l(answer);
    });
    // An 'error' is followed by 'exit', which marks the thread for replacing; answer() rejects on either.
    this.worker.on('error', () => undefined);
    this.worker.on('exit', () => {
      this.exited = true;
      online();
    });
    this.unref();
  }

  /** Listen to the thread's answers (on/off rather than once: Node's once wrapper goes through Function.prototype.apply). */
  on(listener: (answer: A) => void): void {
    this.listeners.add(listener);
  }

  off(listener: (answer: A) => void): void {
    this.listeners.delete(listener);
  }

  /** The next answer (that `match` accepts); rejected if the thread fails or exits first. */
  answer(match: (answer: A) => boolean = () => true): Promise<A> {
    if (this.exited) return Promise.reject(new Error('the helper thread has exited'));
    return new Promise<A>((resolve, reject) => {
      const onAnswer = (a: A): void => {
        if (!match(a)) return;
        done();
        resolve(a);
      };
      const onError = (e: unknown): void => {
        done();
        reject(e);
      };
      const onExit = (code: number): void => {
        done();
        reject(new Error(`the helper thread exited (code ${code})`));
      };
      const done = (): void => {
        this.awaited--;
        this.keepAlive();
        this.off(onAnswer);
        this.worker.off('error', onError);
        this.worker.off('exit', onExit);
      };
      this.on(onAnswer);
      this.worker.on('error', onError);
      this.worker.on('exit', onExit);
      this.awaited++;
      this.keepAlive();
    });
  }

  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
    this.worker.postMessage(message, transfer);
  }

  /** Keep the process alive (while the caller waits for answers of its own). */
  ref(): void {
    this.held = true;
    this.keepAlive();
  }

  unref(): void {
    this.held = false;
    this.keepAlive();
  }

  private keepAlive(): void {
    if (this.held || this.awaited > 0) {
      this.worker.ref();
      this.answers.ref();
    } else {
      this.worker.unref();
      this.answers.unref();
    }
  }

  terminate(): Promise<number> {
    this.answers.close();
    return this.worker.terminate();
  }
}
