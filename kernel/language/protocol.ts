// Messages between the main thread and the TypeScript worker (ts-worker.ts). Positions are UTF-16
// offsets into the current cell's code; code-point conversion happens on the main thread.
import type { IsCompleteReply } from '../wire/message.js';

export interface WorkerData {
  /** Cells executed before the worker started, in order. */
  cells: string[];
}

export interface TsEntry {
  name: string;
  /** TypeScript's ScriptElementKind, e.g. `method`, `const`, `keyword`. */
  kind: string;
  sortText: string;
  /** `(x: number): number` for functions, when TypeScript was asked (the first few matches). */
  signature?: string;
}

export interface TsCompletion {
  /** TypeScript produced completions at all (before filtering by the typed prefix). */
  known: boolean;
  isMember: boolean;
  /** Set when completing inside a string (module paths, string literal types): the text the entries replace. */
  stringSpan?: { start: number; end: number };
  /** Entries matching the typed prefix, best first. */
  entries: TsEntry[];
}

export interface TsQuickInfo {
  kind: string;
  /** `function greet(name: string): string` */
  signature: string;
  documentation: string;
  tags: Array<{ name: string; text: string }>;
  /** The type is `any`: the runtime value says more. */
  isAny: boolean;
  /** With detail level 1, the declaration's source when it is in the notebook. */
  source?: string;
}

/** Each request kind, its arguments and its result. */
export interface Requests {
  complete: { args: { code: string; pos: number }; result: TsCompletion | null };
  inspect: { args: { code: string; pos: number; detailLevel: 0 | 1 }; result: TsQuickInfo | null };
  isComplete: { args: { code: string }; result: IsCompleteReply };
}

export type RequestKind = keyof Requests;

export type ToWorker =
  | { type: 'cell'; code: string }
  | { [K in RequestKind]: { type: K; id: number } & Requests[K]['args'] }[RequestKind];

export type FromWorker = { id: number; result: unknown } | { id: number; error: string };
