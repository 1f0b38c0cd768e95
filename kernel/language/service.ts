// The language service the session uses: completion, inspection and is_complete. This module (and
// everything it imports) stays free of TypeScript; the compiler lives in a worker thread
// (ts-worker.ts) that starts on the first request, and the runtime's answers are merged in here on
// the main thread, where the RuntimeIntrospection lives.
import type { IsCompleteReply } from '../wire/message.js';
import { complete } from './completion.js';
import type { LanguageService, RuntimeIntrospection } from './index.js';
import { inspect } from './inspection.js';
import { blankMagicLines } from './magics.js';
import { WorkerClient, type WorkerClientOptions } from './worker-client.js';

export type LanguageServiceOptions = WorkerClientOptions;

export function createLanguageService(runtime: RuntimeIntrospection, options: LanguageServiceOptions = {}): LanguageService {
  const worker = new WorkerClient(new URL('./ts-worker.js', import.meta.url), options);
  return {
    addCell(code) {
      worker.addCell(code);
    },
    complete(code, cursorPos) {
      return complete((c, pos) => worker.request('complete', { code: c, pos }), runtime, code, cursorPos);
    },
    inspect(code, cursorPos, detailLevel) {
      return inspect((c, pos, d) => worker.request('inspect', { code: c, pos, detailLevel: d }), runtime, code, cursorPos, detailLevel === 1 ? 1 : 0);
    },
    async isComplete(code): Promise<IsCompleteReply> {
      // Blank cells and lone magics need no parser (and no worker start).
      if (blankMagicLines(code).trim() === '') return { status: 'complete' };
      return (await worker.request('isComplete', { code })) ?? { status: 'unknown' };
    },
    close() {
      return worker.close();
    },
  };
}
