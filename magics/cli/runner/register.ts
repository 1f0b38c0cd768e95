// TypeScript and probes for both module systems of the script's process.
//
// ES modules: loader hooks through `module.register` (hooks.ts) — Node 20's supported way, run in
// Node's loader thread. CommonJS: Node 20's `module.register` hooks do not see `require()`, so
// `.ts`/`.cts` files (and user `.js` files that need probes) get a require hook, `Module._extensions`
// — the mechanism ts-node and pirates use — which keeps Node's real CommonJS loader (require.cache,
// require.main, module.children) in charge. The hook hands the source to a thread of its own
// (transform-worker.ts) and waits: transpiling never runs on the script's thread.
import { createRequire, register } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { SourceRecord } from './config.js';
import type { TransformConfig } from './transform.js';
import type { TransformReply, TransformRequest } from './transform-worker.js';

interface CjsModule {
  _compile(code: string, filename: string): unknown;
}
type ExtensionHandler = (module: CjsModule, filename: string) => void;

let registered = false;
let kept = 0;

/** Files the user wrote (probes go there, never into node_modules). */
const isUserPath = (filename: string): boolean => !filename.includes('/node_modules/');

/** A synchronous call into the transform thread: post, wait on shared memory, take the answer off the port. */
function transformer(config: TransformConfig): (r: TransformRequest) => TransformReply {
  let port: MessagePort | undefined;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  return (request) => {
    if (!port) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./transform-worker.js', import.meta.url), { workerData: { config, port: port2, flag: flag.buffer }, transferList: [port2], execArgv: [], env: {} });
      worker.unref();
      port1.unref();
      port = port1;
    }
    Atomics.store(flag, 0, 0);
    port.postMessage(request);
    while (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') {
      /* a very large file: keep waiting */
    }
    return receiveMessageOnPort(port)!.message as TransformReply;
  };
}

export function registerHooks(transform: TransformConfig, sourcesDir?: string): void {
  if (registered) return;
  registered = true;
  register(new URL('./hooks.js', import.meta.url), { data: { transform, sourcesDir } });

  const extensions = (createRequire(import.meta.url)('node:module') as { _extensions: Record<string, ExtensionHandler> })._extensions;
  const plainJs = extensions['.js'];
  const call = transformer(transform);
  const compile = (module: CjsModule, filename: string, ts: boolean): void => {
    const source = readFileSync(filename, 'utf8');
    const url = pathToFileURL(filename).href;
    const out = call({ source, url, filename, ts });
    if ('error' in out) throw out.syntax ? new SyntaxError(out.error) : new Error(out.error);
    for (const s of out.skipped) process.stderr.write(`tsprof: ${s.name} is not measured: ${s.reason}\n`);
    if (sourcesDir && (out.code !== source || out.counted)) writeFileSync(join(sourcesDir, `${process.pid}-cjs-${++kept}.json`), JSON.stringify({ url, js: out.code, counted: out.counted } satisfies SourceRecord));
    module._compile(out.code, filename);
  };
  for (const ext of ['.ts', '.cts', '.mts']) extensions[ext] = (module, filename) => compile(module, filename, true);
  if (transform.probes || transform.countCalls) extensions['.js'] = (module, filename) => (isUserPath(filename) ? compile(module, filename, false) : plainJs(module, filename));
}
