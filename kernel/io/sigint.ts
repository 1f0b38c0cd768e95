// SIGINT (`kill -INT`, a terminal's Ctrl-C, a KernelManager in signal mode) is an interrupt.
//
// The I/O thread watches the signal on its own event loop, which runs while the main thread
// spins, and interrupts exactly as an interrupt_request does (interrupter.ts). Cells then need no
// SIGINT watchdog: vm `breakOnSigint` starts and joins a watchdog thread around every call
// (0.1–1 ms a cell, once the largest part of a trivial execute).
//
// While code on the main thread listens for SIGINT itself (%memit -t's timeout, a cell's
// `process.on('SIGINT')`), the main thread answers the signal as it did before: cells run under
// Node's watchdog, whose termination the caller can catch (ERR_SCRIPT_EXECUTION_INTERRUPTED; an
// inspector termination unwinds everything up to the event loop), and the listeners do the rest.
// The I/O thread stops watching first, and the main thread waits for that: the watchdog's end
// sets SIGINT's handler to Node's SignalExit, and libuv puts its own handler back only when a
// watch starts while no other watch is on — which a watch left on the I/O thread would prevent,
// and the next SIGINT would end the process.

/** Shared Int32 slots: main-thread code other than the kernel listens for SIGINT; the I/O thread watches it. */
const LISTENING = 0;
const WATCHING = 1;
/** How long the main thread waits for the I/O thread to stop watching. */
const HANDOVER_MS = 500;

export class SigintFlags {
  private readonly flags: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.flags = new Int32Array(buffer, 0, 2);
  }

  /** Whether code other than the kernel listens for SIGINT on the main thread. */
  get listening(): boolean {
    return Atomics.load(this.flags, LISTENING) === 1;
  }

  /** Whether the I/O thread watches SIGINT. */
  get watching(): boolean {
    return Atomics.load(this.flags, WATCHING) === 1;
  }

  // ---- main thread ----

  /** Say whether other code listens; when it starts to, return once the I/O thread stopped watching. */
  setListening(on: boolean): void {
    if (Atomics.exchange(this.flags, LISTENING, on ? 1 : 0) === (on ? 1 : 0)) return;
    Atomics.notify(this.flags, LISTENING);
    const deadline = Date.now() + HANDOVER_MS;
    while (on && this.watching && Date.now() < deadline) Atomics.wait(this.flags, WATCHING, 1, Math.max(1, deadline - Date.now()));
  }

  // ---- I/O thread ----

  /**
   * Watch SIGINT with `watch` (which returns a function that stops watching) whenever the main
   * thread does not listen itself, until `stop()`; call `onSigint` for each signal.
   */
  follow(watch: (handler: () => void) => (() => void) | undefined, onSigint: () => void, log: (line: string) => void): { stop(): void } {
    let unwatch: (() => void) | undefined;
    let stopped = false;
    let failed = false;
    const setWatching = (on: boolean): void => {
      Atomics.store(this.flags, WATCHING, on ? 1 : 0);
      Atomics.notify(this.flags, WATCHING);
    };
    const sync = (): void => {
      if (stopped) return;
      const listening = Atomics.load(this.flags, LISTENING);
      if (listening === 1 && unwatch) {
        unwatch();
        unwatch = undefined;
        setWatching(false);
      } else if (listening === 0 && !unwatch && !failed) {
        unwatch = watch(onSigint);
        if (unwatch) setWatching(true);
        else {
          failed = true;
          log('cannot watch SIGINT on the I/O thread; a SIGINT only releases a cell\'s awaits (interrupt_request stops any cell)');
        }
      }
      const wait = Atomics.waitAsync(this.flags, LISTENING, listening);
      if (wait.async) void wait.value.then(sync);
      else queueMicrotask(sync);
    };
    sync();
    return {
      stop: () => {
        stopped = true;
        unwatch?.();
        unwatch = undefined;
        setWatching(false);
      },
    };
  }
}

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  close(): void;
  unref(): void;
}

/**
 * Watch signal `signum` on this thread's event loop. A worker's `process.on('SIGINT')` is never
 * called (Node delivers signals to the main thread's listeners only), but libuv hands a signal to
 * every loop that watches it: Node's signal_wrap binding, the one behind those listeners, watches
 * it here. Returns a function that stops watching; undefined when the binding is unavailable.
 */
export function watchSignal(signum: number, handler: () => void): (() => void) | undefined {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const { Signal } = (process as unknown as { binding(name: string): { Signal: new () => SignalHandle } }).binding('signal_wrap');
    const handle = new Signal();
    handle.onsignal = () => handler();
    if (handle.start(signum) !== 0) {
      handle.close();
      return undefined;
    }
    // The watch alone must not keep the thread alive.
    handle.unref();
    return () => handle.close();
  } catch {
    return undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}
