// speedscope's own file format (https://www.speedscope.app/file-format-schema.json): one "sampled"
// profile per value type that is a weight (time, bytes), frames shared.
import type { ExportProfile } from './model.js';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

interface SpeedscopeFile {
  $schema: string;
  shared: { frames: Array<{ name: string; file?: string; line?: number }> };
  profiles: Array<{ type: 'sampled'; name: string; unit: string; startValue: number; endValue: number; samples: number[][]; weights: number[] }>;
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

const UNITS: Record<string, string> = { nanoseconds: 'nanoseconds', bytes: 'bytes', count: 'none' };

export function toSpeedscope(p: ExportProfile): SpeedscopeFile {
  const frames: SpeedscopeFile['shared']['frames'] = [];
  const index = new Map<string, number>();
  // A line table's stacks end in a line of the function: that line is a frame of its own, under the function.
  const frameIds = (s: ExportProfile['samples'][number]): number[] => {
    const ids: number[] = [];
    for (const f of s.stack) {
      const fnKey = `${f.key}`;
      if (!index.has(fnKey)) {
        index.set(fnKey, frames.length);
        frames.push({ name: f.name, file: f.file, line: f.fnLine });
      }
      ids.push(index.get(fnKey)!);
      if (f.line !== f.fnLine) {
        const lineKey = `${f.key}:${f.line}`;
        if (!index.has(lineKey)) {
          index.set(lineKey, frames.length);
          frames.push({ name: `${f.name}:${f.line}`, file: f.file, line: f.line });
        }
        ids.push(index.get(lineKey)!);
      }
    }
    return ids;
  };
  const stacks = p.samples.map(frameIds);
  // Weights: every value type that is not a bare count of samples, else the first.
  const weighted = p.valueTypes.map((v, i) => ({ v, i })).filter(({ v }) => v.unit !== 'count');
  const profiles = (weighted.length ? weighted : [{ v: p.valueTypes[0], i: 0 }]).map(({ v, i }) => {
    const keep = p.samples.map((s, k) => k).filter((k) => p.samples[k].values[i] > 0);
    const weights = keep.map((k) => p.samples[k].values[i]);
    return { type: 'sampled' as const, name: `${p.command} — ${v.type}`, unit: UNITS[v.unit] ?? 'none', startValue: 0, endValue: weights.reduce((a, b) => a + b, 0), samples: keep.map((k) => stacks[k]), weights };
  });
  return { $schema: SPEEDSCOPE_SCHEMA, shared: { frames }, profiles, name: p.command, activeProfileIndex: 0, exporter: p.tool };
}
