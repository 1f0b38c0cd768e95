// Spawn the mitata child (plain `node --expose-gc`, no kernel code loaded) and talk to it line by line.
// It runs with the kernel's young-generation flags: allocation-heavy snippets change speed by half
// with the young generation's size, so both sides must measure on the same heap.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { YOUNG_GENERATION_FLAGS } from '../../kernel/client/launch.js';

export interface MitataStats {
  /** All in nanoseconds; mitata drops the 2 fastest and 2 slowest samples before these. */
  avg: number; p50: number; p25: number; p75: number; min: number; max: number;
  /** Calls of the function measured in total, and samples kept (a sample is one batch of calls for fast functions). */
  ticks: number; samples: number; gcExposed: boolean;
}

export class MitataChild {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, { resolve: (s: MitataStats) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private next = 0;
  private stderr = '';

  constructor() {
    const script = fileURLToPath(new URL('./mitata-child.js', import.meta.url));
    this.child = spawn(process.execPath, ['--expose-gc', ...YOUNG_GENERATION_FLAGS, script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => void (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let msg: { id: number; stats?: MitataStats; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const w = this.waiting.get(msg.id);
      if (!w) return;
      clearTimeout(w.timer);
      this.waiting.delete(msg.id);
      if (msg.stats) w.resolve(msg.stats);
      else w.reject(new Error(`mitata: ${msg.error}`));
    });
    this.child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`mitata child exited (code ${code}, signal ${signal}): ${this.stderr}`));
      }
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  measure(name: string, setup: string, fn: string, timeoutMs = 60_000): Promise<MitataStats> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`mitata: no answer for ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.child.stdin!.write(`${JSON.stringify({ id, name, setup, fn })}\n`);
    });
  }

  /** Close stdin (the child exits when idle); SIGKILL it if it has not gone within 2 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }
}
