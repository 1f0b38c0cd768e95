// A one-line progress display on stderr while a long command runs (elapsed time and what was
// recorded), redrawn in place. Only on a terminal: when stderr is a file or a pipe nothing is
// written, so logs and test output stay clean.
import type { WriteStream } from 'node:tty';

export interface ProgressOptions {
  /** Where to draw; process.stderr by default. */
  stream?: NodeJS.WriteStream;
  /** Draw nothing even on a terminal (-q). */
  quiet?: boolean;
  /** Wait this long before the first draw, so quick commands show only their result (ms). */
  delayMs?: number;
  /** Redraw period (ms). */
  periodMs?: number;
}

export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.floor(seconds - 60 * m).toString().padStart(2, '0')} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export class Progress {
  readonly enabled: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly started = performance.now();
  private readonly delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  /** `describe` gives the text after the elapsed time (what was recorded so far). */
  constructor(private readonly label: string, private readonly describe: () => string = () => '', options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = Boolean(this.stream.isTTY) && !options.quiet;
    this.delayMs = options.delayMs ?? 500;
    if (this.enabled) {
      this.timer = setInterval(() => this.draw(), options.periodMs ?? 250);
      this.timer.unref();
    }
  }

  get elapsed(): number {
    return (performance.now() - this.started) / 1e3;
  }

  /** Redraw now (for work that blocks the event loop and reports between steps). */
  draw(): void {
    if (!this.enabled || this.timer === undefined || performance.now() - this.started < this.delayMs) return;
    const extra = this.describe();
    let line = `${this.label} · ${formatElapsed(this.elapsed)}${extra ? ` · ${extra}` : ''}`;
    const columns = (this.stream as WriteStream).columns ?? 80;
    if (line.length > columns - 1) line = line.slice(0, columns - 2) + '…';
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  /** Erase the line and stop redrawing (before the result is printed). */
  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
