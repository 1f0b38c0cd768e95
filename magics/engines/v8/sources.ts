// Source text of the scripts V8 ran, by URL: cells from the session's registry, files from disk.
// Coverage reports character offsets; the tables want lines.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import type { SourceText } from '../host.js';
import { lineAt, lineStarts } from './lines.js';

export class SourceIndex {
  private readonly files = new Map<string, string | undefined>();
  private readonly lineStarts = new Map<string, number[]>();

  constructor(private readonly cells: ReadonlyMap<string, SourceText>) {}

  /** The JavaScript V8 compiled for `url`. */
  js(url: string): string | undefined {
    const cell = this.cells.get(url);
    if (cell) return cell.js;
    if (!this.files.has(url)) {
      let text: string | undefined;
      try {
        text = url.startsWith('file://') ? readFileSync(fileURLToPath(url), 'utf8') : url.startsWith('/') ? readFileSync(url, 'utf8') : undefined;
      } catch {
        text = undefined;
      }
      this.files.set(url, text);
    }
    return this.files.get(url);
  }

  /** The source lines to show: the TypeScript for cells (same lines as the JS), the file otherwise. */
  displayLines(url: string): string[] | undefined {
    const cell = this.cells.get(url);
    return (cell ? cell.ts : this.js(url))?.split('\n');
  }

  private starts(url: string): number[] | undefined {
    let s = this.lineStarts.get(url);
    if (s) return s;
    const text = this.js(url);
    if (text === undefined) return undefined;
    s = lineStarts(text);
    this.lineStarts.set(url, s);
    return s;
  }

  /** 0-based line and column → character offset. */
  offset(url: string, line: number, column: number): number | undefined {
    const s = this.starts(url);
    return s && line < s.length ? s[line] + column : undefined;
  }

  /** Character offset → 0-based line. */
  line(url: string, offset: number): number | undefined {
    const s = this.starts(url);
    return s && lineAt(s, offset);
  }

}

/** How a script is named in tables: `cell-3` (a magic's chunk `cell-3.2` is cell 3), a path relative to the notebook, or `node:fs`. */
export function displayFile(url: string): string {
  if (url.startsWith('cell-')) return url.replace(/^(cell-\d+)\.\d+$/, '$1');
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const nm = path.lastIndexOf('/node_modules/');
    return nm >= 0 ? path.slice(nm + 1) : relative(process.cwd(), path) || path;
  }
  return url || '~';
}
