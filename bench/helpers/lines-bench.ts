// The per-line modes' cost, for bench:profilers: %lprun -x and %mprun against the plain statement
// on the seed's primes(2,000) and primes(100,000), beside line_profiler's and memory_profiler's
// figures on the same program (CPython 3.11 on this machine, from the docs).
//
// Each size: the plain statement and every mode run once untimed (V8 compiles and optimizes the
// plain function and the instrumented copy, which %lprun keeps between runs), then `reps`
// interleaved timed rounds. The statement's wall time is taken inside the cell (benchTimed); the
// first, cold run of each mode is reported too, since a user's first %lprun -x of a function pays it.
import type { LaunchedKernel } from '../../kernel/client/launch.js';
import { cellJson, fmtRatio, fmtTime, fresh, median, runCell, textTable } from './common.js';

export const PEERS = { lineProfiler: 20.7, memoryProfiler: 2100 };
export const TARGETS = { lprunExact: 10, mprun: 10 };

interface LineMode { key: string; label: string; line: (t: string) => string }

const MODES: LineMode[] = [
  { key: 'plain', label: 'plain', line: (t) => `${t};` },
  { key: 'lprun-x', label: '%lprun -x', line: (t) => `%lprun -x -q -f primes ${t}` },
  { key: 'lprun', label: '%lprun (default)', line: (t) => `%lprun -q -f primes ${t}` },
  { key: 'mprun', label: '%mprun', line: (t) => `%mprun -q -f primes ${t}` },
];

export interface LineCostRow { size: number; mode: string; label: string; cold: number; median: number; min: number; ratio: number; minRatio: number; coldRatio: number }

async function timed(k: LaunchedKernel, m: LineMode, n: number): Promise<number> {
  const code = `benchWalls.length = 0\n${m.line(`benchTimed(() => primes(${n}))`)}\nconsole.log(JSON.stringify(benchWalls))`;
  const { value } = await cellJson<number[]>(k, code, 120_000);
  return value[0];
}

/** Needs PRIMES and TIMED (benchTimed, benchWalls) defined in the kernel. */
export async function lineModeCosts(k: LaunchedKernel, reps: number, sizes = [2000, 100_000]): Promise<LineCostRow[]> {
  const rows: LineCostRow[] = [];
  for (const n of sizes) {
    const modes = n > 10_000 ? MODES.filter((m) => m.key !== 'mprun') : MODES;
    const cold = new Map<string, number>();
    for (const m of modes) {
      if (m.key === 'plain') await timed(k, m, n);
      cold.set(m.key, await timed(k, m, n));
    }
    const walls = new Map<string, number[]>(modes.map((m) => [m.key, []]));
    const r = n > 10_000 ? Math.max(3, Math.floor(reps / 2)) : reps;
    for (let i = 0; i < r; i++) for (const m of modes) walls.get(m.key)!.push(await timed(k, m, n));
    const base = walls.get('plain')!;
    for (const m of modes) {
      const w = walls.get(m.key)!;
      rows.push({ size: n, mode: m.key, label: m.label, cold: cold.get(m.key)!, median: median(w), min: Math.min(...w), ratio: median(w) / median(base), minRatio: Math.min(...w) / Math.min(...base), coldRatio: cold.get(m.key)! / median(base) });
    }
  }
  return rows;
}

export function lineModeText(rows: LineCostRow[]): string[] {
  const out = ['', 'per-line modes on the seed\'s primes (statement wall inside the cell; warm = the instrumented copy kept from an earlier run):'];
  out.push(textTable(['program', 'mode', 'statement (median)', '× plain', 'min × plain', 'first run (cold)', '× plain', 'peer on primes(2,000)'], rows.map((r) => [
    `primes(${r.size.toLocaleString('en-US')})`, r.label, fmtTime(r.median), fmtRatio(r.ratio), fmtRatio(r.minRatio), fmtTime(r.cold), fmtRatio(r.coldRatio),
    r.mode === 'lprun-x' ? `line_profiler ${PEERS.lineProfiler}×` : r.mode === 'mprun' ? `memory_profiler ${PEERS.memoryProfiler.toLocaleString('en-US')}×` : '',
  ])));
  const x = rows.filter((r) => r.mode === 'lprun-x');
  const mp = rows.filter((r) => r.mode === 'mprun');
  const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
  out.push(`target %lprun -x ≤ ${TARGETS.lprunExact}× plain: ${x.map((r) => `primes(${r.size.toLocaleString('en-US')}) ${fmtRatio(r.ratio)}`).join(', ')} → ${verdict(x.every((r) => r.ratio <= TARGETS.lprunExact))} (line_profiler ${PEERS.lineProfiler}×)`);
  out.push(`target %mprun ≤ ${TARGETS.mprun}× plain: ${mp.map((r) => `primes(${r.size.toLocaleString('en-US')}) ${fmtRatio(r.ratio)}`).join(', ')} → ${verdict(mp.every((r) => r.ratio <= TARGETS.mprun))} (memory_profiler ${PEERS.memoryProfiler.toLocaleString('en-US')}×)`);
  return out;
}
