// The thread that transpiles and instruments CommonJS modules for the require hook (register.ts),
// which waits for each answer. Keeping sucrase and acorn here, off the script's main thread, keeps
// them out of the script's CPU profile, call counts and heap: ES modules get the same from Node's
// own loader thread (hooks.ts).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { transformSource, type CountedMeta, type TransformConfig } from './transform.js';

export interface TransformRequest {
  source: string;
  url: string;
  filename: string;
  ts: boolean;
}

export type TransformReply = { code: string; skipped: Array<{ name: string; reason: string }>; counted?: CountedMeta[] } | { error: string; syntax: boolean };

const { config, port, flag } = workerData as { config: TransformConfig; port: MessagePort; flag: SharedArrayBuffer };
const done = new Int32Array(flag);

port.on('message', (r: TransformRequest) => {
  let reply: TransformReply;
  try {
    const out = transformSource(r.source, r.url, r.filename, r.ts, 'commonjs', config);
    reply = { code: out.code, skipped: out.skipped, counted: out.counted };
  } catch (e) {
    reply = { error: (e as Error).message, syntax: e instanceof SyntaxError };
  }
  port.postMessage(reply);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});
parentPort?.postMessage('ready');
