// One shape for every profile the exporters write: weighted stacks. A CPU profile is its sampled
// stacks (weight: samples and time); a line table is one "stack" per line of a function (weights:
// hits and time, or occurrences and bytes). Each file format reads this shape (callgrind.ts,
// pprof.ts, speedscope.ts); `.cpuprofile` is V8's own format and is written from the CPU profile.

export interface ExportFrame {
  /** Identity of the function (two frames with the same key are the same function). */
  key: string;
  name: string;
  /** As the tables show it: a path relative to the current directory, `node:fs`, … */
  file: string;
  /** 1-based line of the function. */
  fnLine: number;
  /** 1-based line the cost is on: the function's line for a call tree, the line itself for a line table. */
  line: number;
}

export interface ValueType {
  /** pprof's names: `samples`, `cpu`, `hits`, `alloc_space`, … */
  type: string;
  /** `count`, `nanoseconds`, `bytes`. */
  unit: string;
}

export interface ExportSample {
  /** Root first. */
  stack: ExportFrame[];
  /** One per value type. */
  values: number[];
}

export interface ExportProfile {
  /** What tool made it, for the files' headers (`tsprof prun`). */
  tool: string;
  /** What ran (`node fib.ts 30`). */
  command: string;
  valueTypes: ValueType[];
  samples: ExportSample[];
  /** Exact calls of each function, when counted (functions never sampled included). */
  calls?: Array<{ frame: ExportFrame; count: number }>;
  durationNs: number;
  /** pprof's period: the sampling interval of a sampled profile. */
  period?: { type: ValueType; value: number };
  /** ms since the epoch when it started. */
  startTime?: number;
}

/** Total of value `i` over all samples. */
export function total(p: ExportProfile, i: number): number {
  return p.samples.reduce((a, s) => a + s.values[i], 0);
}
