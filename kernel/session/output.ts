// process.stdout/stderr writes (and so every console method) become `stream` messages for the
// cell that made them. Writes are coalesced: a burst of 20,000 lines becomes a few dozen messages,
// in order, while a lone line after a quiet spell goes out at once.
import { formatWithOptions } from 'node:util';
import type { Header } from '../wire/message.js';
import { currentCell } from './context.js';

export type StreamName = 'stdout' | 'stderr';
export type StreamSink = (parent: Header, name: StreamName, text: string) => void;

const MAX_PENDING_BYTES = 64 * 1024;
const MAX_PENDING_MS = 8;

export class StreamRouter {
  private parent: Header | undefined;
  private name: StreamName = 'stdout';
  private chunks: string[] = [];
  private bytes = 0;
  private lastFlush = 0;
  private scheduled = false;

  constructor(private readonly sink: StreamSink) {}

  write(name: StreamName, text: string): void {
    const parent = currentCell()?.parent;
    if (!parent || text.length === 0) return;
    if (this.chunks.length && (parent !== this.parent || name !== this.name)) this.flush();
    this.parent = parent;
    this.name = name;
    this.chunks.push(text);
    this.bytes += text.length;
    const now = performance.now();
    if (this.bytes >= MAX_PENDING_BYTES || now - this.lastFlush >= MAX_PENDING_MS) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.flush();
      }, MAX_PENDING_MS).unref();
    }
  }

  /** Send what is pending; called before any other output so order is kept. */
  flush(): void {
    if (!this.chunks.length || !this.parent) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.bytes = 0;
    this.lastFlush = performance.now();
    this.sink(this.parent, this.name, text);
  }
}

type WriteFn = typeof process.stdout.write;

/** Route the process's stdout and stderr through `router`. Returns the original writers for the kernel's own logs. */
export function captureProcessStreams(router: StreamRouter): { stdout: WriteFn; stderr: WriteFn } {
  const original = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    stream.write = function write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      const cb = typeof encoding === 'function' ? encoding : callback;
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      router.write(name, text);
      if (typeof cb === 'function') queueMicrotask(() => (cb as (e?: Error | null) => void)(null));
      return true;
    } as WriteFn;
  }
  return original;
}

/**
 * console.log/info/debug (stdout) and warn/error (stderr) write straight to the router. Node's
 * Console spends ~4 µs a call on stream bookkeeping; a 20,000-line burst is mostly that. Methods
 * built on `this.log` (table, count, timeEnd, group) keep working; group indentation is kept here.
 */
export function fastConsole(router: StreamRouter): void {
  let indent = '';
  const line = (args: unknown[]): string => {
    const only = args.length === 1 ? args[0] : undefined;
    const text = typeof only === 'string' ? only : typeof only === 'number' && !Object.is(only, -0) ? String(only) : formatWithOptions({}, ...args);
    return indent ? indent + text.replace(/\n/g, `\n${indent}`) + '\n' : text + '\n';
  };
  const c = console as unknown as Record<string, unknown>;
  const out = (...args: unknown[]): void => router.write('stdout', line(args));
  const err = (...args: unknown[]): void => router.write('stderr', line(args));
  Object.assign(c, { log: out, info: out, debug: out, warn: err, error: err });
  const group = (...label: unknown[]): void => {
    if (label.length) out(...label);
    indent += '  ';
  };
  c.group = group;
  c.groupCollapsed = group;
  c.groupEnd = (): void => {
    indent = indent.slice(0, -2);
  };
}
