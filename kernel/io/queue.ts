// zeromq 6 allows one pending send per socket; this serialises sends without blocking callers.
import type { Writable } from 'zeromq';

export class SendQueue {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly socket: Writable, private readonly onError: (e: unknown) => void) {}

  push(frames: Buffer[]): void {
    this.chain = this.chain.then(() => this.socket.send(frames)).catch(this.onError);
  }

  /** Resolves when every queued send has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.chain;
  }
}
