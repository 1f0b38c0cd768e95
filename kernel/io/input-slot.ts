// The answer to an input_request, passed from the I/O thread to the main thread through shared
// memory. A synchronous `prompt()` blocks the main thread in Atomics.wait; the I/O thread, which
// owns the stdin socket, writes the reply (or an interrupt) and wakes it. `await input()` waits on
// the same slot with Atomics.waitAsync. One request at a time, as a terminal has one stdin.

const IDLE = 0;
const WAITING = 1;
const ANSWERED = 2;
const INTERRUPTED = 3;
const SYNC = 0;
const ASYNC = 1;

/** state, answer length, wait mode, generation (one per request). */
const HEADER_BYTES = 16;
/** Longer replies are cut here (a typed answer is a line, not a file). */
export const MAX_INPUT_BYTES = 1 << 20;

export type InputOutcome = { status: 'ok'; value: string } | { status: 'interrupted' };

export class InputSlot {
  private readonly state: Int32Array;
  private readonly data: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_BYTES + MAX_INPUT_BYTES)) {
    this.state = new Int32Array(buffer, 0, 4);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
  }

  // ---- I/O thread ----

  /** An input_reply arrived: store it if an input is waiting. False when nothing asked. */
  answer(value: string): boolean {
    if (Atomics.load(this.state, 0) !== WAITING) return false;
    const { written } = new TextEncoder().encodeInto(value, this.data);
    Atomics.store(this.state, 1, written);
    return this.settle(ANSWERED);
  }

  /**
   * An interrupt arrived: end a waiting `await input()`. A synchronous prompt() is left to the
   * interrupt itself (SIGINT terminates the blocked script, as any synchronous code): waking it here
   * would end the cell before the signal lands, and the signal would then interrupt the next cell.
   * Where the signal cannot stop it (a prompt() after an await or in a callback), it is woken after
   * `graceMs`.
   */
  interrupt(graceMs = 300): void {
    if (Atomics.load(this.state, 2) === ASYNC) {
      this.settle(INTERRUPTED);
      return;
    }
    const generation = Atomics.load(this.state, 3);
    setTimeout(() => {
      if (Atomics.load(this.state, 3) === generation) this.settle(INTERRUPTED);
    }, graceMs).unref();
  }

  private settle(to: number): boolean {
    if (Atomics.compareExchange(this.state, 0, WAITING, to) !== WAITING) return false;
    Atomics.notify(this.state, 0);
    return true;
  }

  // ---- main thread ----

  get waiting(): boolean {
    return Atomics.load(this.state, 0) === WAITING;
  }

  /** Call before sending the input_request, so an answer that comes at once is not lost. */
  open(mode: 'sync' | 'async'): void {
    Atomics.store(this.state, 2, mode === 'sync' ? SYNC : ASYNC);
    Atomics.add(this.state, 3, 1);
    Atomics.store(this.state, 0, WAITING);
  }

  /** Block until answered or interrupted. */
  waitSync(): InputOutcome {
    while (Atomics.load(this.state, 0) === WAITING) Atomics.wait(this.state, 0, WAITING, 1000);
    return this.take();
  }

  async waitAsync(): Promise<InputOutcome> {
    while (Atomics.load(this.state, 0) === WAITING) {
      const w = Atomics.waitAsync(this.state, 0, WAITING);
      if (w.async) await w.value;
    }
    return this.take();
  }

  /** Give up a waiting input (the cell that asked was interrupted here, on the main thread). */
  abandon(): void {
    Atomics.compareExchange(this.state, 0, WAITING, IDLE);
    Atomics.notify(this.state, 0);
  }

  private take(): InputOutcome {
    const state = Atomics.exchange(this.state, 0, IDLE);
    if (state !== ANSWERED) return { status: 'interrupted' };
    const length = Atomics.load(this.state, 1);
    return { status: 'ok', value: new TextDecoder().decode(this.data.slice(0, length)) };
  }
}
