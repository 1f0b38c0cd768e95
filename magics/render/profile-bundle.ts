// tsprof's own MIME bundle for profiles, read by the JupyterLab extension (labextension/): the
// data behind the tables and charts, so the extension can draw an interactive flame graph, a source
// heat view and sortable tables. Front ends without the extension show the HTML / Vega-Lite / text
// representations that travel beside it.

export const PROFILE_MIME = 'application/vnd.tsprof.profile+json';
/**
 * Marks a chart that the extension's profile view already shows (%prun's flame graph and top-N
 * chart): the extension renders it as nothing, one view per result; other front ends skip the
 * unknown type and show the chart's Vega-Lite or SVG. Its value names the view that covers it.
 */
export const COMPANION_MIME = 'application/vnd.tsprof.companion+json';

/** A node of the call tree: times in milliseconds. */
export interface FlameNode {
  name: string;
  /** `cell-3:12(fib)` */
  label: string;
  file: string;
  line: number;
  selfMs: number;
  totalMs: number;
  /** Exact calls when counted (`%prun -c`). */
  calls?: number;
  children: FlameNode[];
}

export interface PrunRow {
  label: string;
  name: string;
  file: string;
  line: number;
  ncalls?: number;
  /** Primitive calls (pstats' `ncalls/primitive`), when counted. */
  pcalls?: number;
  tottime: number;
  cumtime: number;
  samples: number;
}

export interface SourceLine {
  line: number;
  contents: string;
  hits?: number;
  /** Seconds (%lprun). */
  time?: number;
  percent?: number;
  /** MiB (%mprun). */
  memUsage?: number;
  increment?: number;
  allocated?: number;
}

export interface SourceFunction {
  name: string;
  file: string;
  line: number;
  /** Seconds (%lprun) */
  total?: number;
  calls?: number;
  lines: SourceLine[];
}

export type ProfileBundle =
  | { version: 1; kind: 'prun'; title: string; header: string; wall: number; exactCounts: boolean; rows: PrunRow[]; flame: FlameNode; samples?: number; notes?: string[] }
  | { version: 1; kind: 'lprun'; title: string; unit: number; functions: SourceFunction[] }
  | { version: 1; kind: 'mprun'; title: string; functions: SourceFunction[] };
