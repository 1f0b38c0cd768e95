// PLACEHOLDER — being replaced by the language-service implementation.
import type { LanguageService, RuntimeIntrospection } from './index.js';

export function createLanguageService(runtime: RuntimeIntrospection): LanguageService {
  void runtime;
  return {
    addCell() {},
    async complete(_code, cursorPos) { return { status: 'ok', matches: [], cursor_start: cursorPos, cursor_end: cursorPos, metadata: {} }; },
    async inspect() { return { status: 'ok', found: false, data: {}, metadata: {} }; },
    async isComplete() { return { status: 'unknown' }; },
    async close() {},
  };
}
