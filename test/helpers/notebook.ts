// Executed notebooks as the tests read them back (written by nbclient or `tsprof run`): nbformat 4,
// loosely typed, since multiline text may be a string or a list of lines.

export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface Cell {
  id: string;
  cell_type: string;
  execution_count?: number | null;
  outputs?: Output[];
  source: string | string[];
}

export interface Notebook {
  nbformat: number;
  metadata: { kernelspec?: { name: string }; language_info?: { name: string; file_extension?: string } };
  cells: Cell[];
}

/** nbformat's multiline text (a string or a list of lines) as one string; anything else as ''. */
export function joinText(s: unknown): string {
  return Array.isArray(s) ? s.join('') : typeof s === 'string' ? s : '';
}
