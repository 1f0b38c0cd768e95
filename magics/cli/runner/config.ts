// What the command line tells the runner inside the script's process (through one environment
// variable, removed before the script starts), and what the runner hands back (one JSON file).
import type { CpuProfile, ScriptCoverage } from '../../engines/v8/inspector.js';
import type { ProbedFunction } from './inplace.js';
import type { CountedMeta, TransformConfig } from './transform.js';

export const CONFIG_ENV = 'TSPROF_RUNNER';
/** Kept in the environment (unlike the recorder's config) so the script's workers load TypeScript too. */
export const TRANSFORM_ENV = 'TSPROF_TRANSFORM';

export interface RunnerConfig {
  /** The capture file to write. */
  out: string;
  /** Directory where the loader writes the JavaScript it gave V8 for each transformed file. */
  sourcesDir: string;
  /** Sample the CPU every this many µs; 0: no CPU profile. */
  intervalUs: number;
  /** V8 block coverage from the start: exact calls of every function (and hits per block). */
  coverage: boolean;
  transform: TransformConfig;
  /** The command line relays the signals it gets on file descriptor 3 (control.ts). */
  relaySignals?: boolean;
  /** mprun -c: measure every run of every line. */
  measureAll?: boolean;
}

/** Per-line records of one instrumented function, by probe kind (arrays indexed by 0-based line). */
export type FunctionRecord =
  | { probes: 'count'; hits: number[] }
  | { probes: 'time'; hits: number[]; time: number[]; calls: number }
  | { probes: 'memory'; hits: number[]; net: number[]; freed: number[]; peak: number[]; calls: number; entry: number; gcMatched: boolean }
  | { probes: 'markers'; calls: number };

export interface Capture {
  version: 1;
  /** What ended the recording: the process exiting, or a signal. */
  reason: 'exit' | NodeJS.Signals;
  exitCode?: number;
  /** Seconds from the runner's start to the recording's end. */
  wall: number;
  /** The script's pid (its cluster workers and children are other processes). */
  pid: number;
  profile?: CpuProfile;
  intervalUs: number;
  coverage?: ScriptCoverage[];
  /** prun's call counters, by module URL: calls and self calls per slot. */
  calls?: Array<{ url: string; calls: number[]; self: number[] }>;
  functions: Array<ProbedFunction & { record?: FunctionRecord }>;
  /** Things the user should know (a function that could not be measured, data lost to a signal). */
  notes: string[];
}

/** One file the loader transformed: the JavaScript V8 ran (same lines as the file). */
export interface SourceRecord {
  url: string;
  js: string;
  /** prun's counted functions in `js`. */
  counted?: CountedMeta[];
}
