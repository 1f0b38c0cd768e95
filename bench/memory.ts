// bench:memory — what %memit and %mprof cost, and what %memit's peak catches, through a real kernel.
//
//   npm run build && npm run bench:memory      (node dist/bench/memory.js [--reps 7] [--spike-mib 64] [--small-spike-mib 16] [--spike-reps 5])
//
// Part 1, overhead: the primes example (first 2,000 primes, set-based trial division) and an
// allocation example (arrays and maps of 100,000 items, example 4 of DESIGN.md), each run plainly,
// under %memit -q, %memit -q -i 0.1 (plus the sampler thread) and %mprof -q, interleaved, `reps`
// passes after a warm-up. Every cell wraps the statement in `benchTimed`, which records the
// statement's own wall time inside the kernel, so each mode is measured at three levels:
//   statement — the program's run while the magic measures it;
//   magic     — performance.now() around the magic line (GCs, HWM reset, sampler thread, report);
//   cell      — client-side round trip of the execute_request.
// Part 2, spikes: a buffer of `spike-mib` MiB is written, held 10 ms, 50 ms or 500 ms, then dropped
// and collected before the statement returns. 64 MiB by default: above glibc's largest dynamic mmap
// threshold (32 MiB), so the buffer is its own mapping and RSS shows all of it; smaller buffers can
// reuse memory malloc kept from earlier frees, which RSS (and so memory_profiler) never shows — V8's
// external peak (exact, from the GC profiler) is reported beside it for that reason. Writing the
// buffer takes time of its own (page faults), so each row says how long the spike really lasted. %memit -i 0.1 reports its exact peak (VmHWM) and, from
// its sampler thread polling RSS every 0.1 s (samples at the start, every 100 ms, and one when the
// statement returns: memory_profiler's MemTimer), what memory_profiler's %memit would have reported.
// Results: bench/results/memory-latest.json.
import { fileURLToPath } from 'node:url';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { cellJson, fmtRatio, fmtTime, fresh, machine, median, numberFlag, runCell, textTable, watchdog, writeJson, PRIMES } from './helpers/common.js';

const ALLOC = `function build(n: number): number {
  const numbers = Array.from({ length: n }, (_, i) => i * 1.5);
  const labels = numbers.map((x) => 'item ' + x);
  const byLabel = new Map(labels.map((l, i) => [l, numbers[i]] as const));
  const records = numbers.map((x, i) => ({ id: i, value: x, label: labels[i] }));
  return byLabel.size + records.length;
}`;
const HELPERS = `const benchWalls: number[] = [];
function benchTimed(f: () => unknown): void { const t = performance.now(); f(); benchWalls.push((performance.now() - t) / 1e3); }
/** Write \`bytes\` (so they are resident), hold them \`ms\`, drop them and collect: a spike. */
function benchSpike(bytes: number, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let a: Uint8Array | null = new Uint8Array(bytes).fill(1);
    setTimeout(() => { a = null; gc(); gc(); resolve((performance.now() - t0) / 1e3); }, ms);
  });
}`;

interface Program { name: string; stmt: string; fn: string }
interface Mode { key: string; label: string; line: (v: string, timed: string, p: Program) => string; extra?: (v: string) => string }

const MODES: Mode[] = [
  { key: 'plain', label: 'plain', line: (_v, t) => `${t};` },
  { key: 'memit', label: '%memit -q', line: (v, t) => `const ${v} = %memit -o -q ${t}`, extra: (v) => `{ increment: ${v}.increment, heap: ${v}.heap.increment }` },
  { key: 'memit-i', label: '%memit -q -i 0.1 (+ sampler thread)', line: (v, t) => `const ${v} = %memit -o -q -i 0.1 ${t}`, extra: (v) => `{ increment: ${v}.increment }` },
  { key: 'mprof', label: '%mprof -q (200 Hz sampler)', line: (v, t) => `const ${v} = %mprof -o -q ${t}`, extra: (v) => `{ samples: ${v}.samples, rate: ${v}.rate }` },
  // %mprun probes every statement of the profiled function: the row to compare with memory_profiler's 2,100×.
  { key: 'mprun', label: '%mprun -q -f FUNC (line by line)', line: (v, t, p) => `const ${v} = %mprun -r -q -f ${p.fn} ${t}`, extra: (v) => `{ lines: ${v}.functions[0].lines.length }` },
];

interface Sample { walls: number[]; kernel: number; cell: number; extra: Record<string, number> | null }

async function runMode(k: LaunchedKernel, mode: Mode, p: Program): Promise<Sample> {
  // Every mode starts from a collected heap (%memit and %mprof collect first; plain would otherwise pay for earlier garbage).
  await runCell(k, 'gc(); gc();');
  const v = fresh();
  const timed = `benchTimed(() => ${p.stmt})`;
  const code = [
    'benchWalls.length = 0;',
    `const ${v}_k0 = performance.now();`,
    mode.line(v, timed, p),
    `const ${v}_k1 = performance.now();`,
    `console.log(JSON.stringify({ walls: benchWalls, kernel: (${v}_k1 - ${v}_k0) / 1e3, extra: ${mode.extra ? mode.extra(v) : 'null'} }))`,
  ].join('\n');
  const { value, wall } = await cellJson<Omit<Sample, 'cell'>>(k, code, 60_000);
  return { ...value, cell: wall };
}

interface SpikeRun { exact: number; external: number; polled: number; polledSamples: number; elapsed: number }

async function spikeRun(k: LaunchedKernel, bytes: number, holdMs: number): Promise<SpikeRun> {
  const v = fresh();
  const code = `const ${v} = %memit -o -q -i 0.1 globalThis.${v}_e = await benchSpike(${bytes}, ${holdMs})
console.log(JSON.stringify({ exact: ${v}.increment, external: ${v}.external.increment, polled: ${v}.sampled.increment, polledSamples: ${v}.sampled.samples, elapsed: globalThis.${v}_e }))`;
  return (await cellJson<SpikeRun>(k, code, 60_000)).value;
}

interface SpikeSeries {
  allocator: string;
  mib: number;
  results: Array<{
    holdMs: number; trueMiB: number; spikeSeconds: number; exactMedian: number; exactMin: number; exactMax: number;
    externalMedian: number; polledMedian: number; polledCaught: number; runs: SpikeRun[];
  }>;
}

async function spikeSeries(k: LaunchedKernel, allocator: string, mib: number, reps: number): Promise<SpikeSeries> {
  const bytes = Math.round(mib * 1024 * 1024);
  await spikeRun(k, bytes, 10); // warm-up
  const results: SpikeSeries['results'] = [];
  for (const hold of [10, 50, 500]) {
    const runs: SpikeRun[] = [];
    for (let r = 0; r < reps; r++) runs.push(await spikeRun(k, bytes, hold));
    results.push({
      holdMs: hold,
      trueMiB: mib,
      /** How long the buffer existed (writing it + holding + freeing), s: median. */
      spikeSeconds: median(runs.map((x) => x.elapsed)),
      exactMedian: median(runs.map((x) => x.exact)),
      exactMin: Math.min(...runs.map((x) => x.exact)),
      exactMax: Math.max(...runs.map((x) => x.exact)),
      externalMedian: median(runs.map((x) => x.external)),
      polledMedian: median(runs.map((x) => x.polled)),
      polledCaught: runs.filter((x) => x.polled >= 0.5 * mib).length,
      runs,
    });
    process.stderr.write(`${mib} MiB spikes held ${hold} ms done\n`);
  }
  return { allocator, mib, results };
}

async function main(): Promise<void> {
  const reps = Math.max(3, Math.floor(numberFlag('reps', 7)));
  const spikeMiB = numberFlag('spike-mib', 64);
  const spikeReps = Math.max(1, Math.floor(numberFlag('spike-reps', 5)));
  const smallMiB = numberFlag('small-spike-mib', 16);
  const programs: Program[] = [
    { name: 'primes(2,000)', stmt: 'primes(2000)', fn: 'primes' },
    { name: 'build(100,000) arrays + map', stmt: 'build(100_000)', fn: 'build' },
  ];
  const startedAt = new Date();
  const before = machine();
  let k: LaunchedKernel | undefined;
  const disarm = watchdog(300_000, 'bench:memory', [() => k?.stop()]);
  try {
    k = await launchKernel();
    await runCell(k, [PRIMES, ALLOC, HELPERS].join('\n'));
    const t0 = performance.now();

    // Part 1: overheads, interleaved, rep 0 is the warm-up.
    const samples = new Map<string, Sample[]>();
    for (let rep = 0; rep <= reps; rep++) {
      for (const p of programs) {
        for (const m of MODES) {
          const s = await runMode(k, m, p);
          if (rep > 0) samples.set(`${p.name}|${m.key}`, [...(samples.get(`${p.name}|${m.key}`) ?? []), s]);
        }
      }
      process.stderr.write(rep === 0 ? 'warm-up pass done\n' : `rep ${rep}/${reps} done (${((performance.now() - t0) / 1e3).toFixed(0)} s)\n`);
    }
    const overhead = programs.map((p) => {
      const of = (key: string): Sample[] => samples.get(`${p.name}|${key}`) ?? [];
      const plain = of('plain');
      const base = { stmt: median(plain.map((s) => s.walls[0])), kernel: median(plain.map((s) => s.kernel)), cell: median(plain.map((s) => s.cell)) };
      return {
        program: p.name,
        modes: MODES.map((m) => {
          const ss = of(m.key);
          const stmt = median(ss.map((s) => s.walls[0]));
          const kernel = median(ss.map((s) => s.kernel));
          const cell = median(ss.map((s) => s.cell));
          return {
            mode: m.key, label: m.label, stmt, kernel, cell,
            stmtRatio: stmt / base.stmt, kernelRatio: kernel / base.kernel, cellRatio: cell / base.cell,
            /** Fixed cost of the magic around the statement, seconds. */
            added: kernel - base.kernel,
            extra: ss.map((s) => s.extra),
          };
        }),
      };
    });

    // Part 2: spikes. Series 1 in this kernel (default allocator) at --spike-mib; series 2 in a kernel
    // whose glibc mmap threshold is fixed (MALLOC_MMAP_THRESHOLD_=65536), so a smaller buffer — quick
    // enough to write that the spike lasts under 0.1 s — is its own mapping and shows in RSS.
    const spikes: SpikeSeries[] = [];
    spikes.push(await spikeSeries(k, 'default allocator', spikeMiB, spikeReps));
    await k.stop();
    k = await launchKernel({ env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } });
    await runCell(k, HELPERS);
    spikes.push(await spikeSeries(k, 'MALLOC_MMAP_THRESHOLD_=65536', smallMiB, spikeReps));
    const elapsed = (performance.now() - t0) / 1e3;

    // Report.
    const lines: string[] = [];
    lines.push(`bench:memory — ${reps} interleaved reps after a warm-up, medians; node ${process.version}, ${before.cpus} CPUs`);
    for (const o of overhead) {
      lines.push('', o.program);
      lines.push(textTable(
        ['mode', 'statement', '× plain', 'magic line', '× plain', 'added', 'cell', '× plain'],
        o.modes.map((m) => [m.label, fmtTime(m.stmt), fmtRatio(m.stmtRatio), fmtTime(m.kernel), fmtRatio(m.kernelRatio), m.mode === 'plain' ? '—' : `+${fmtTime(m.added)}`, fmtTime(m.cell), fmtRatio(m.cellRatio)]),
      ));
    }
    for (const series of spikes) {
      lines.push('', `spikes of ${series.mib} MiB (${series.allocator}) written, held, freed before the statement returns; ${spikeReps} runs each, medians`);
      lines.push(textTable(
        ['held', 'spike lasted', '%memit increment (RSS, exact)', 'of true', 'V8 external peak', '0.1 s poller (memory_profiler)', 'poller caught ≥ half'],
        series.results.map((s) => [`${s.holdMs} ms`, fmtTime(s.spikeSeconds), `${s.exactMedian.toFixed(2)} MiB (${s.exactMin.toFixed(1)}–${s.exactMax.toFixed(1)})`, `${((100 * s.exactMedian) / s.trueMiB).toFixed(1)}%`, `${s.externalMedian.toFixed(2)} MiB`, `${s.polledMedian.toFixed(2)} MiB`, `${s.polledCaught}/${spikeReps}`]),
      ));
    }
    lines.push('', `${elapsed.toFixed(0)} s in all`);
    process.stdout.write(`${lines.join('\n')}\n`);

    const out = fileURLToPath(new URL('../../bench/results/memory-latest.json', import.meta.url));
    writeJson(out, { startedAt: startedAt.toISOString(), machine: before, machineAfter: machine(), reps, elapsed, overhead, spikes: { reps: spikeReps, series: spikes } });
    process.stdout.write(`results: ${out}\n`);
  } finally {
    disarm();
    await k?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
