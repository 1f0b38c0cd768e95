// `-o FILE` / `--format`: which file format each output is, checked before the script runs, and the
// writing once the profile is there.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { toCallgrind } from '../engines/export/callgrind.js';
import type { ExportFrame, ExportProfile } from '../engines/export/model.js';
import { toPprof } from '../engines/export/pprof.js';
import { toSpeedscope } from '../engines/export/speedscope.js';
import type { FunctionId } from '../engines/v8/calltree.js';
import type { CpuProfile } from '../engines/v8/inspector.js';
import { displayFile } from '../engines/v8/sources.js';
import { CliUsageError } from './argv.js';
import type { CallProfile } from './engines.js';
import type { FunctionLines } from '../engines/line-profile.js';
import type { MemFunction } from '../engines/memory-lines.js';

export type ExportFormat = 'cpuprofile' | 'callgrind' | 'pprof' | 'speedscope' | 'text';
const FORMATS: ExportFormat[] = ['cpuprofile', 'callgrind', 'pprof', 'speedscope', 'text'];

export const exportFormatsHelp = '.cpuprofile (Chrome DevTools, speedscope), callgrind.out.* or .callgrind (KCachegrind, QCacheGrind), .pb.gz or .pprof (go tool pprof), .speedscope.json, .txt (the table)';

const DESCRIBE: Record<ExportFormat, string> = {
  cpuprofile: 'V8 .cpuprofile: Chrome DevTools, speedscope',
  callgrind: 'callgrind: KCachegrind, QCacheGrind, callgrind_annotate',
  pprof: 'pprof protobuf: go tool pprof',
  speedscope: 'speedscope JSON',
  text: 'text',
};

/** The format a file name says, if it says one. */
export function formatOfName(file: string): ExportFormat | undefined {
  const name = basename(file).toLowerCase();
  if (name.endsWith('.cpuprofile')) return 'cpuprofile';
  if (name.startsWith('callgrind.out') || name.endsWith('.callgrind')) return 'callgrind';
  if (name.endsWith('.pb.gz') || name.endsWith('.pprof') || name.endsWith('.pb')) return 'pprof';
  if (name.endsWith('.speedscope.json') || name.endsWith('.speedscope')) return 'speedscope';
  if (name.endsWith('.txt')) return 'text';
  return undefined;
}

export interface ExportInput {
  profile: ExportProfile;
  /** A V8 CPU profile of the run, when there is one (not for memory). */
  cpuprofile?: CpuProfile;
  text: string;
}

export interface PlannedOutput {
  file: string;
  format: ExportFormat;
}

export const writeExports = {
  /** Decide every output's format now; a wrong name or format is a usage error before anything runs. */
  plan(outputs: string[], format: string | undefined, tool: string, available: readonly ExportFormat[] = FORMATS): PlannedOutput[] {
    if (format !== undefined && !FORMATS.includes(format as ExportFormat)) throw new CliUsageError(`tsprof ${tool}: --format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    if (format !== undefined && !outputs.length) throw new CliUsageError(`tsprof ${tool}: --format applies to -o FILE; give -o`);
    return outputs.map((file) => {
      const f = formatOfName(file) ?? (format as ExportFormat | undefined);
      if (!f) throw new CliUsageError(`tsprof ${tool}: cannot tell the format of ${file} from its name; use --format (${FORMATS.join(', ')}) or a name like ${exportFormatsHelp.split(' (')[0]}`);
      if (!available.includes(f)) throw new CliUsageError(`tsprof ${tool}: ${f} is not available for this profile (available: ${available.join(', ')})`);
      return { file, format: f };
    });
  },

  write(plan: PlannedOutput[], input: ExportInput, report: (file: string, what: string) => void): void {
    for (const { file, format } of plan) {
      let data: string | Buffer;
      if (format === 'cpuprofile') {
        if (!input.cpuprofile) throw new Error(`no CPU profile to write to ${file}`);
        data = JSON.stringify(input.cpuprofile);
      } else if (format === 'callgrind') data = toCallgrind(input.profile);
      else if (format === 'pprof') data = toPprof(input.profile);
      else if (format === 'speedscope') data = JSON.stringify(toSpeedscope(input.profile));
      else data = input.text;
      writeFileSync(file, data);
      report(file, DESCRIBE[format]);
    }
  },
};

export function frameOf(fn: FunctionId): ExportFrame {
  if (fn.key === '(garbage collector)') return { key: fn.key, name: '(garbage collector)', file: '~', fnLine: 0, line: 0 };
  return { key: fn.key, name: fn.name, file: displayFile(fn.url), fnLine: fn.line + 1, line: fn.line + 1 };
}

/** A CPU profile's sampled stacks (weights: 1 sample, its time in ns) and the exact calls, for every format. */
export function callTreeExport(p: CallProfile, command: string, tool: string, startTime?: number): ExportInput {
  const frames = new Map<string, ExportFrame>();
  const frame = (fn: FunctionId): ExportFrame => {
    let f = frames.get(fn.key);
    if (!f) frames.set(fn.key, (f = frameOf(fn)));
    return f;
  };
  const profile: ExportProfile = {
    tool, command, startTime,
    valueTypes: [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }],
    samples: p.tree.stacks.map((s) => ({ stack: s.frames.map(frame), values: [1, s.duration * 1e3] })),
    calls: p.exactCounts ? p.sorted.filter((r) => r.ncalls !== undefined).map((r) => ({ frame: frame(r.fn), count: r.ncalls! })) : undefined,
    durationNs: p.wallSeconds * 1e9,
    period: { type: { type: 'cpu', unit: 'nanoseconds' }, value: p.tree.intervalUs * 1e3 },
  };
  return { profile, cpuprofile: p.cpuprofile, text: p.text };
}

interface TableFunction {
  name: string;
  file: string;
  line: number;
  calls: number;
}

/** Line tables as one stack per line (the function, at that line), for callgrind, pprof and speedscope. */
function lineTableProfile<F extends TableFunction, L extends { line: number }>(functions: F[], linesOf: (f: F) => L[], valueTypes: ExportProfile['valueTypes'], values: (l: L) => number[] | undefined, meta: { command: string; tool: string; durationNs: number }): ExportProfile {
  const samples: ExportProfile['samples'] = [];
  const calls: NonNullable<ExportProfile['calls']> = [];
  for (const f of functions) {
    const key = `${f.file}:${f.line}:${f.name}`;
    calls.push({ frame: { key, name: f.name, file: f.file, fnLine: f.line, line: f.line }, count: f.calls });
    for (const l of linesOf(f)) {
      const v = values(l);
      if (v && v.some((x) => x > 0)) samples.push({ stack: [{ key, name: f.name, file: f.file, fnLine: f.line, line: l.line }], values: v });
    }
  }
  return { ...meta, valueTypes, samples, calls };
}

/** %lprun's tables: hits and time (ns) per line; the run's CPU profile for .cpuprofile. */
export function lineTableExport(functions: FunctionLines[], text: string, cpuprofile: CpuProfile | undefined, meta: { command: string; tool: string; durationNs: number }): ExportInput {
  const profile = lineTableProfile(functions, (f) => f.lines, [{ type: 'hits', unit: 'count' }, { type: 'time', unit: 'nanoseconds' }], (l) => (l.hits || l.time ? [l.hits ?? 0, l.time * 1e9] : undefined), meta);
  return { profile, cpuprofile, text };
}

/** %mprun's tables: occurrences and bytes allocated per line. */
export function memoryTableExport(functions: MemFunction[], text: string, meta: { command: string; tool: string; durationNs: number }): ExportInput {
  const profile = lineTableProfile(functions, (f) => f.lines, [{ type: 'occurrences', unit: 'count' }, { type: 'alloc_space', unit: 'bytes' }], (l) => (l.occurrences ? [l.occurrences, (l.allocated ?? 0) * 1024 * 1024] : undefined), meta);
  return { profile, text };
}
