// The shape of tsprof's profile bundle, `application/vnd.tsprof.profile+json`. The kernel's side is
// magics/render/profile-bundle.ts; this package is built on its own, so the types are repeated here
// (test/browser/page.ts checks at compile time that both sides still agree).

export const PROFILE_MIME = 'application/vnd.tsprof.profile+json';
/**
 * Marks a chart whose content the profile view beside it already shows (%prun's Vega flame graph and
 * top-N chart): this extension renders it as nothing; front ends without it skip the unknown type
 * and show the chart's Vega-Lite or SVG.
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
  /** Seconds. */
  tottime: number;
  /** Seconds. */
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
  /** Seconds (%lprun). */
  total?: number;
  calls?: number;
  lines: SourceLine[];
}

export interface PrunBundle {
  version: 1;
  kind: 'prun';
  title: string;
  header: string;
  wall: number;
  exactCounts: boolean;
  rows: PrunRow[];
  flame: FlameNode;
}

export interface LprunBundle {
  version: 1;
  kind: 'lprun';
  title: string;
  /** The timer unit of the text table, in seconds (`1e-09`). */
  unit: number;
  functions: SourceFunction[];
}

export interface MprunBundle {
  version: 1;
  kind: 'mprun';
  title: string;
  functions: SourceFunction[];
}

export type ProfileBundle = PrunBundle | LprunBundle | MprunBundle;
