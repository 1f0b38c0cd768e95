// The Jupyter messaging protocol's message shapes (version 5.3), typed at the boundary.

export const PROTOCOL_VERSION = '5.3';
export const DELIMITER = '<IDS|MSG>';

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  subshell_id?: string | null;
}

export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };
export type JSONObject = { [key: string]: JSONValue };

/** A MIME bundle: MIME type to data (string or JSON). */
export type MimeBundle = Record<string, unknown>;

export interface Message<C = Record<string, unknown>> {
  identities: Buffer[];
  header: Header;
  /** Empty object when the message has no parent. */
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** What the main thread hands the I/O thread to sign and send. */
export interface OutgoingMessage {
  channel: Channel;
  identities: Buffer[] | Uint8Array[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: unknown;
  buffers?: Uint8Array[];
}

// ---- request contents -------------------------------------------------

export interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  user_expressions?: Record<string, string>;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
}

export interface CompleteRequest { code: string; cursor_pos: number }
export interface InspectRequest { code: string; cursor_pos: number; detail_level?: 0 | 1 }
export interface IsCompleteRequest { code: string }
export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  hist_access_type: 'range' | 'tail' | 'search';
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}
export interface ShutdownRequest { restart?: boolean }
export interface CommInfoRequest { target_name?: string }
export interface CommOpen { comm_id: string; target_name: string; data?: unknown }
export interface CommMsg { comm_id: string; data?: unknown }
export interface InputReply { value: string }

// ---- reply contents ---------------------------------------------------

export interface ErrorContent {
  status: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

export type ExecuteReply =
  | { status: 'ok'; execution_count: number; user_expressions: Record<string, unknown>; payload: unknown[] }
  | (ErrorContent & { execution_count: number; user_expressions?: Record<string, unknown>; payload?: unknown[] })
  | { status: 'aborted'; execution_count: number };

export interface CompleteReply {
  status: 'ok';
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata: Record<string, unknown>;
}

export interface InspectReply { status: 'ok'; found: boolean; data: MimeBundle; metadata: Record<string, unknown> }
export interface IsCompleteReply { status: 'complete' | 'incomplete' | 'invalid' | 'unknown'; indent?: string }
export interface HistoryReply { status: 'ok'; history: Array<[number, number, string | [string, string | null]]> }

export interface LanguageInfo {
  name: string;
  version: string;
  mimetype: string;
  file_extension: string;
  pygments_lexer: string;
  codemirror_mode: string | Record<string, unknown>;
  nbconvert_exporter?: string;
}

export interface KernelInfoReply {
  status: 'ok';
  protocol_version: string;
  implementation: string;
  implementation_version: string;
  language_info: LanguageInfo;
  banner: string;
  debugger: boolean;
  help_links: Array<{ text: string; url: string }>;
}

/** The reply type for a request type: `x_request` → `x_reply`. */
export function replyType(requestType: string): string {
  return requestType.endsWith('_request') ? requestType.slice(0, -'_request'.length) + '_reply' : requestType + '_reply';
}
