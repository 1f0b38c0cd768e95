// One in-process inspector session for the profiling magics (Profiler and HeapProfiler domains),
// with typed, promise-returning calls.
import { Session } from 'node:inspector';
import { adopt } from '../realm.js';

// Made when this module loads, before any cell runs: Node's Session constructor spreads its
// arguments, which fails once a cell deletes Array.prototype[Symbol.iterator].
const session = new Session();
let connected = false;

export function post<T = unknown>(method: string, params: object = {}): Promise<T> {
  if (!connected) {
    session.connect();
    connected = true;
  }
  const s = session;
  return new Promise((resolve, reject) => {
    s.post(method, params, (err, res) => (err ? reject(err) : resolve(adopt(res) as T)));
  });
}

export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  /** 0-based. */
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: Array<{ line: number; ticks: number }>;
}

/** The DevTools `.cpuprofile` format. Times in microseconds. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}

export interface FunctionCoverage {
  functionName: string;
  ranges: CoverageRange[];
  isBlockCoverage: boolean;
}

export interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: FunctionCoverage[];
}

/** Where a function object was defined, without enabling the debugger. */
export async function functionLocation(objectId: string): Promise<{ scriptId: string; lineNumber: number; columnNumber: number } | undefined> {
  const props = await post<{ internalProperties?: Array<{ name: string; value: { value?: { scriptId: string; lineNumber: number; columnNumber: number } } }> }>(
    'Runtime.getProperties', { objectId, ownProperties: true },
  );
  return props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value.value;
}
