// The slice of nbformat 4 that `tsprof run` reads and writes.
import type { Message, MimeBundle } from '../wire/message.js';

export type Source = string | string[];

export type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; execution_count: number | null; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: Source;
  metadata: Record<string, unknown>;
  execution_count?: number | null;
  outputs?: Output[];
  id?: string;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

export function sourceText(s: Source): string {
  return Array.isArray(s) ? s.join('') : s;
}

/**
 * Folds a cell's iopub messages into nbformat outputs the way nbclient does: consecutive stream
 * text of one name merges, update_display_data rewrites every output with its display_id,
 * clear_output (with wait) empties the list.
 */
export class OutputCollector {
  readonly outputs: Output[] = [];
  private readonly byDisplayId = new Map<string, Output[]>();
  private clearOnNext = false;

  add(msg: Message): void {
    const c = msg.content as Record<string, unknown>;
    const type = msg.header.msg_type;
    if (type === 'clear_output') {
      if (c.wait) this.clearOnNext = true;
      else this.clear();
      return;
    }
    if (type === 'update_display_data') {
      const id = (c.transient as { display_id?: string } | undefined)?.display_id;
      for (const out of (id && this.byDisplayId.get(id)) || []) {
        if (out.output_type === 'display_data' || out.output_type === 'execute_result') {
          out.data = c.data as MimeBundle;
          out.metadata = (c.metadata as Record<string, unknown>) ?? {};
        }
      }
      return;
    }
    let out: Output;
    switch (type) {
      case 'stream': {
        if (this.clearOnNext) this.clear();
        const last = this.outputs.at(-1);
        if (last?.output_type === 'stream' && last.name === c.name) {
          last.text += String(c.text);
          return;
        }
        out = { output_type: 'stream', name: c.name as 'stdout' | 'stderr', text: String(c.text) };
        break;
      }
      case 'display_data':
        out = { output_type: 'display_data', data: c.data as MimeBundle, metadata: (c.metadata as Record<string, unknown>) ?? {} };
        break;
      case 'execute_result':
        out = { output_type: 'execute_result', execution_count: c.execution_count as number, data: c.data as MimeBundle, metadata: (c.metadata as Record<string, unknown>) ?? {} };
        break;
      case 'error':
        out = { output_type: 'error', ename: String(c.ename), evalue: String(c.evalue), traceback: (c.traceback as string[]) ?? [] };
        break;
      default:
        return;
    }
    if (this.clearOnNext) this.clear();
    this.outputs.push(out);
    const id = (c.transient as { display_id?: string } | undefined)?.display_id;
    if (id) {
      const list = this.byDisplayId.get(id) ?? [];
      list.push(out);
      this.byDisplayId.set(id, list);
    }
  }

  private clear(): void {
    this.outputs.length = 0;
    this.clearOnNext = false;
  }
}

/** What a terminal can show of an output. */
export function outputText(out: Output): string {
  switch (out.output_type) {
    case 'stream':
      return out.text;
    case 'error':
      return out.traceback.join('\n') + '\n';
    default: {
      const plain = out.data['text/plain'];
      const text = Array.isArray(plain) ? plain.join('') : String(plain ?? '');
      const rich = Object.keys(out.data).filter((m) => m !== 'text/plain');
      return text + (rich.length ? `  [${rich.join(', ')}]` : '') + '\n';
    }
  }
}
