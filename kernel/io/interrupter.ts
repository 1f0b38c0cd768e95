// The I/O thread's side of an interrupt: an inspector session on the main thread, through which it
// asks the main thread to stop what it runs (kernel/session/interrupt-point.ts does the deciding).
// No signal is involved, so two interrupts in a row can never meet the moment when the main
// thread's SIGINT listener is off (the process used to die of the second one).
import { Session } from 'node:inspector';

type State = 'terminated' | 'idle' | 'kernel' | 'unavailable';

const expression = (cell?: number): string => `__tsprofSlots.interrupt(${cell ?? ''})\n//# sourceURL=tsprof-interrupt`;
/** The kernel's own code is left to finish (it is never stopped midway); this long at most, then give up. */
const KERNEL_WAIT_MS = 2000;

export class Interrupter {
  private readonly session = new Session();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly log: (line: string) => void) {
    this.session.connectToMainThread();
  }

  /** Stop the main thread's JavaScript, then release the cell's awaits; interrupts run one after another. */
  interrupt(): Promise<void> {
    this.chain = this.chain.then(() => this.run()).catch((e: unknown) => this.log(`interrupt failed: ${String(e)}`));
    return this.chain;
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + KERNEL_WAIT_MS;
    // The cell running at the first ask is the one stopped; the next cell is left alone.
    let cell: number | undefined;
    let terminated = false;
    for (;;) {
      const answer = await this.ask(cell);
      const state = answer.state;
      cell ??= answer.cell;
      if (state === 'idle') return;
      if (state === 'unavailable') {
        // Before any termination: nothing to interrupt (the kernel is still loading). After one, an
        // ask that reaches the main thread while V8 still unwinds is terminated too: ask again,
        // since the next answer is what releases the cell's awaits.
        if (!terminated || Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      terminated ||= state === 'terminated';
      if (state === 'kernel' && Date.now() > deadline) {
        this.log('interrupt: the kernel\'s own code kept running; not stopping it midway');
        return;
      }
      // After a termination, ask again: the next answer comes once the main thread is free, and
      // releases the cell's awaits.
      await new Promise((r) => setTimeout(r, state === 'terminated' ? 0 : 10));
    }
  }

  /** Disconnect; a session left connected to the main thread makes Node wait for it at exit. */
  close(): void {
    this.closed = true;
    this.session.disconnect();
  }

  private ask(cell?: number): Promise<{ state: State; cell?: number }> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ state: 'unavailable' });
      this.session.post('Runtime.evaluate', { expression: expression(cell), returnByValue: true, silent: true }, (err, res) => {
        const value = (res as { result?: { value?: { state?: unknown; cell?: unknown } } } | undefined)?.result?.value;
        const state = value?.state;
        // Before the session is up (kernel still loading) there is nothing to interrupt.
        if (err || !(state === 'terminated' || state === 'idle' || state === 'kernel')) return resolve({ state: 'unavailable' });
        resolve({ state, cell: typeof value?.cell === 'number' ? value.cell : undefined });
      });
    });
  }
}
