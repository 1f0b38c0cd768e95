// Imported first by the worker: anything it prints (a console call, a Node warning) goes straight to
// the kernel's log on fd 2. By default a worker's output is forwarded to the main thread's
// process.stdout/stderr, which the session captures into the running cell's output.
import { writeSync } from 'node:fs';

for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
    try {
      writeSync(2, `[tsprof] language worker: ${typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()}`);
    } catch {
      // no stderr: drop it
    }
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (typeof cb === 'function') queueMicrotask(() => (cb as (e?: Error | null) => void)(null));
    return true;
  }) as typeof stream.write;
}
