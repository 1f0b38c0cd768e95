// Completion, inspection and is_complete for cells. The session calls only this interface.
import type { CompleteReply, InspectReply, IsCompleteReply } from '../wire/message.js';

/** What the live VM can tell about names and values, without side effects. */
export interface RuntimeIntrospection {
  /** let/const/class names declared at the top level of executed cells. */
  lexicalNames(): Promise<string[]>;
  /** Evaluate an expression only if V8 can prove it has no side effects. */
  peek(expression: string): Promise<{ ok: true; value: unknown } | { ok: false }>;
}

export interface LanguageService {
  /** A cell ran (successfully): its declarations are in scope for later completion and inspection. */
  addCell(code: string): void;
  complete(code: string, cursorPos: number): Promise<CompleteReply>;
  inspect(code: string, cursorPos: number, detailLevel: 0 | 1): Promise<InspectReply>;
  isComplete(code: string): Promise<IsCompleteReply>;
  /** Stop any worker thread the service started. */
  close(): Promise<void>;
}

export { createLanguageService } from './service.js';
