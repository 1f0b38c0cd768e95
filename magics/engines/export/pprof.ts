// pprof's protobuf profile (gzipped, as `go tool pprof` and Google's tools write and read it),
// encoded with pprof-format. One location per (function, line); samples with identical stacks merged.
import { gzipSync } from 'node:zlib';
import { Function as PFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { ExportProfile } from './model.js';

export function toPprof(p: ExportProfile): Buffer {
  const strings = new StringTable();
  const s = (x: string): number => strings.dedup(x);
  const functions = new Map<string, PFunction>();
  const locations = new Map<string, Location>();
  const locationOf = (f: ExportProfile['samples'][number]['stack'][number]): number => {
    let fn = functions.get(f.key);
    // pprof strips `<…>` from names as C++ template arguments (`<module>` would print as `<unknown>`): use V8's `(…)`.
    const name = f.name.replace(/^<(.*)>$/, '($1)');
    if (!fn) functions.set(f.key, (fn = new PFunction({ id: functions.size + 1, name: s(name), systemName: s(name), filename: s(f.file), startLine: f.fnLine })));
    const key = `${f.key}\u0000${f.line}`;
    let loc = locations.get(key);
    if (!loc) locations.set(key, (loc = new Location({ id: locations.size + 1, line: [new Line({ functionId: fn.id, line: f.line })] })));
    return Number(loc.id);
  };
  const merged = new Map<string, { ids: number[]; values: number[] }>();
  for (const sample of p.samples) {
    const ids = sample.stack.map(locationOf).reverse(); // pprof: leaf first
    const key = ids.join(',');
    const m = merged.get(key);
    if (m) sample.values.forEach((v, i) => (m.values[i] += v));
    else merged.set(key, { ids, values: [...sample.values] });
  }
  const valueType = (v: { type: string; unit: string }): ValueType => new ValueType({ type: s(v.type), unit: s(v.unit) });
  const profile = new Profile({
    sampleType: p.valueTypes.map(valueType),
    sample: [...merged.values()].map((m) => new Sample({ locationId: m.ids, value: m.values.map((v) => Math.round(v)) })),
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    durationNanos: Math.round(p.durationNs),
    timeNanos: p.startTime ? BigInt(Math.round(p.startTime)) * 1_000_000n : 0,
    ...(p.period ? { periodType: valueType(p.period.type), period: Math.round(p.period.value) } : {}),
    comment: [s(`${p.tool}: ${p.command}`)],
  });
  return gzipSync(profile.encode());
}
