// The TypeScript worker thread: owns the compiler (≈100 MB once loaded) so the main thread stays
// light and a long-running cell never delays a completion. Started on the first request by
// worker-client.ts; the LanguageService itself is created on the first complete/inspect, so
// is_complete alone only pays for loading the parser.
import './worker-stdio.js';
import { parentPort, workerData } from 'node:worker_threads';
import { isComplete } from './is-complete.js';
import type { FromWorker, ToWorker, WorkerData } from './protocol.js';
import { NotebookLanguage } from './ts-language.js';
import type { ThreadData } from '../../magics/engines/thread.js';

const port = parentPort!;
// Answers go through the kernel's own channel (magics/engines/thread.ts).
const { cells, port: answers } = workerData as ThreadData<WorkerData>;
const language = new NotebookLanguage();
for (const code of cells) language.addCell(code);

function handle(m: ToWorker): unknown {
  switch (m.type) {
    case 'cell': return language.addCell(m.code);
    case 'complete': return language.complete(m.code, m.pos);
    case 'inspect': return language.inspect(m.code, m.pos, m.detailLevel);
    case 'isComplete': return isComplete(m.code);
  }
}

port.on('message', (m: ToWorker) => {
  let reply: FromWorker;
  try {
    const result = handle(m);
    if (m.type === 'cell') return;
    reply = { id: m.id, result };
  } catch (e) {
    if (m.type === 'cell') return;
    reply = { id: m.id, error: (e as Error)?.stack ?? String(e) };
  }
  answers.postMessage(reply);
});
