// A table whose rows reorder when a column header is clicked (again: the other direction).
import { el } from './dom';

export interface Column<T> {
  /** Header text. */
  title: string;
  /** Tooltip of the header. */
  help?: string;
  align?: 'left' | 'right';
  /** The value sorted on; undefined sorts last in either direction. */
  sortValue?: (row: T) => number | string | undefined;
  /** Direction of the first click: numbers usually want the largest first. */
  firstDescending?: boolean;
  /** Cell content. */
  cell: (row: T) => Node | string;
  /** Extra class on the cells of this column. */
  className?: string;
}

export interface SortState {
  column: number;
  descending: boolean;
}

export interface SortableTable<T> {
  node: HTMLTableElement;
  sortBy(column: number, descending: boolean): void;
  rows(): readonly T[];
}

export interface TableOptions<T> {
  /** The column the rows already come sorted by (shown with an arrow); none when they are in their natural order. */
  initial?: SortState;
  className?: string;
  /** Called for every row element it is (re)built: for per-row styling. */
  decorateRow?: (tr: HTMLTableRowElement, row: T) => void;
}

/**
 * Build a sortable table: clicking a header sorts by that column, clicking it again reverses.
 */
export function sortableTable<T>(columns: Column<T>[], data: readonly T[], options: TableOptions<T> = {}): SortableTable<T> {
  let rows = data.slice();
  let state: SortState | undefined = options.initial;
  const table = el('table', { class: `tsprof-table ${options.className ?? ''}`.trim() });
  const headRow = el('tr');
  const headers = columns.map((c, i) => {
    const th = el('th', { class: `tsprof-align-${c.align ?? 'right'}`, title: c.help, scope: 'col' });
    if (c.sortValue) {
      const button = el('button', { type: 'button', class: 'tsprof-sort' }, c.title, el('span', { class: 'tsprof-sort-arrow', 'aria-hidden': 'true' }));
      button.addEventListener('click', () => {
        const descending = state?.column === i ? !state.descending : c.firstDescending ?? true;
        sortBy(i, descending);
      });
      th.append(button);
    } else {
      th.textContent = c.title;
    }
    headRow.append(th);
    return th;
  });
  const tbody = el('tbody');
  table.append(el('thead', {}, headRow), tbody);

  function paint(): void {
    headers.forEach((th, i) => {
      const sorted = state?.column === i;
      th.classList.toggle('tsprof-sorted', sorted);
      if (columns[i].sortValue) th.setAttribute('aria-sort', sorted ? (state!.descending ? 'descending' : 'ascending') : 'none');
      const arrow = th.querySelector('.tsprof-sort-arrow');
      if (arrow) arrow.textContent = sorted ? (state!.descending ? ' ▼' : ' ▲') : '';
    });
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = el('tr');
      for (const c of columns) tr.append(el('td', { class: `tsprof-align-${c.align ?? 'right'} ${c.className ?? ''}`.trim() }, c.cell(row)));
      options.decorateRow?.(tr, row);
      fragment.append(tr);
    }
    tbody.replaceChildren(fragment);
  }

  function sortBy(column: number, descending: boolean): void {
    const key = columns[column].sortValue;
    if (!key) return;
    const indexed = rows.map((row, i) => ({ row, i, v: key(row) }));
    indexed.sort((a, b) => {
      if (a.v === undefined || b.v === undefined) return a.v === b.v ? a.i - b.i : a.v === undefined ? 1 : -1;
      const cmp = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v));
      return (descending ? -cmp : cmp) || a.i - b.i;
    });
    rows = indexed.map((x) => x.row);
    state = { column, descending };
    paint();
  }

  paint();
  return { node: table, sortBy, rows: () => rows };
}
