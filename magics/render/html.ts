// Small pure builders for the HTML tables the magics show (plain HTML that renders anywhere:
// JupyterLab, the classic notebook, nbconvert, GitHub).
import { escapeHtml } from './format.js';

export interface Column<Row> {
  header: string;
  cell: (row: Row) => string | number;
  align?: 'left' | 'right';
  /** Cell content is trusted HTML (already escaped). */
  html?: boolean;
}

export function htmlTable<Row>(rows: Row[], columns: Column<Row>[], options: { caption?: string; className?: string } = {}): string {
  const th = columns.map((c) => `<th style="text-align:${c.align ?? 'right'}">${escapeHtml(c.header)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => {
      const v = c.cell(r);
      return `<td style="text-align:${c.align ?? 'right'}">${c.html ? String(v) : escapeHtml(String(v))}</td>`;
    }).join('')}</tr>`)
    .join('\n');
  const caption = options.caption ? `<caption style="caption-side:top;text-align:left">${escapeHtml(options.caption)}</caption>` : '';
  return `<table class="${options.className ?? 'tsprof-table'}">${caption}<thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A paragraph for warnings under a table. */
export function htmlNotes(notes: string[]): string {
  return notes.map((n) => `<p style="color:#a15c00;margin:2px 0">⚠ ${escapeHtml(n)}</p>`).join('');
}
