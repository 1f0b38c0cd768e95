// bench:profilers — what %prun and %lprun cost, through a real tsprof kernel.
//
//   npm run build && npm run bench:profilers     (node dist/bench/profilers.js [--primes 100000] [--fib 32] [--reps 7] [--time-limit 330])
//
// Two programs (the primes generator of the examples — set-based trial division — and naive
// recursive fib), each run plainly and under every profiling mode, interleaved: a warm-up pass first,
// then `reps` passes of [plain, %timeit -n 1 -r 5, %prun, %prun -i 1000, %prun shown, %prun -c,
// %lprun, %lprun shown, %lprun -x if `%lprun?` lists it] per program, each mode preceded by an
// untimed cell that runs the program twice (a precaution, so every mode starts from the same warm
// state whatever ran before it). Every cell wraps the statement in `benchTimed`, which records the
// statement's own wall time and process CPU time inside the kernel, so each mode is measured the
// same way at three levels:
//   statement — the program's run while the profiler is on (what the profile describes);
//   magic     — performance.now() around the whole magic line in the cell (setup, profiling, teardown,
//               building the result; rendering too for the "shown" rows);
//   cell      — client-side round trip of the execute_request (reply + idle), ZeroMQ included.
// Overheads are medians over reps divided by plain's median at the same level. Fixed costs (the
// magics on a trivial statement, V8's Profiler.start/stop) are measured once per rep.
// The command line runs beside the magics in the same reps: the same two programs written to a
// script, run as `node script.mjs` (plain) and under `tsprof prun`, `tsprof prun --no-calls`,
// `tsprof lprun -f FN` and `tsprof lprun -x -f FN` — the same engines in a process of their own — with
// the statement timed inside the script the same way (two untimed runs first). Printed as a second
// table per program, and side by side with the magics' ratios.
// Results: bench/results/profilers-latest.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'sucrase';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { lineModeCosts, lineModeText, PEERS, type LineCostRow } from './helpers/lines-bench.js';
import { cellJson, cpuPressureTotal, fmtPct, fmtRatio, fmtTime, fresh, machine, median, numberFlag, pressureShare, runCell, schedstat, textTable, waitQuiet, waitShare, watchdog, writeJson, PRIMES } from './helpers/common.js';

// Written over three lines so %lprun's table has a line per part of the function.
const FIB = `function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}`;
// Wall time and the process's CPU time (user + system, all threads: the profiler's sampling thread
// counts) of the statement. CPU time does not grow when other work on the machine takes the CPU away.
const TIMED = `const benchWalls: number[] = [];
const benchCpus: number[] = [];
function benchTimed(f: () => unknown): void {
  const c = process.cpuUsage();
  const t = performance.now();
  f();
  const w = performance.now() - t;
  const d = process.cpuUsage(c);
  benchWalls.push(w / 1e3);
  benchCpus.push((d.user + d.system) / 1e6);
}`;

interface Program { name: string; fn: string; stmt: string }

/** %prun's target (issue 11): exact calls by default at ≤ 1.3× plain, where cProfile costs 2.1×. */
const PRUN_TARGET = 1.3;

/** `--only prun`: run plain and the modes whose key starts with the word (a short targeted run). */
function onlyMode(key: string): boolean {
  const i = process.argv.indexOf('--only');
  const only = i >= 0 ? process.argv[i + 1] : undefined;
  return !only || key === 'plain' || key.startsWith(only);
}

interface Mode {
  key: string;
  label: string;
  /** The magic line (or plain statement) for statement `t` (already wrapped in benchTimed) and function `fn`. */
  line: (v: string, t: string, fn: string, raw: string) => string;
  /** Expression evaluated after the line, sent back as `extra`. */
  extra?: (v: string, fn: string) => string;
}

const MODES: Mode[] = [
  { key: 'plain', label: 'plain', line: (_v, t) => `${t};` },
  {
    key: 'timeit', label: '%timeit -n 1 -r 5 (plain)',
    line: (v, _t, _fn, raw) => `const ${v} = %timeit -o -q -n 1 -r 5 ${raw}`,
    extra: (v) => `{ runs: ${v}.all_runs }`,
  },
  {
    key: 'prun', label: '%prun -r -q (default: exact calls)', line: (v, t) => `const ${v} = %prun -r -q ${t}`,
    extra: (v, fn) => `{ wall: ${v}.wall, samples: ${v}.sampleCount, interval: ${v}.intervalUs, ncalls: ${v}.get(${JSON.stringify(fn)})?.ncalls ?? null, pcalls: ${v}.get(${JSON.stringify(fn)})?.pcalls ?? null }`,
  },
  { key: 'prun-i1000', label: '%prun -r -q -i 1000', line: (v, t) => `const ${v} = %prun -r -q -i 1000 ${t}`, extra: (v) => `{ wall: ${v}.wall, samples: ${v}.sampleCount, interval: ${v}.intervalUs }` },
  { key: 'prun-shown', label: '%prun (tables + charts shown)', line: (_v, t) => `%prun ${t}` },
  {
    key: 'prun-c', label: '%prun -c (+ coverage, one run)', line: (v, t) => `const ${v} = %prun -r -q -c ${t}`,
    extra: (v, fn) => `{ wall: ${v}.wall, ncalls: ${v}.get(${JSON.stringify(fn)})?.ncalls ?? null }`,
  },
  {
    key: 'lprun', label: '%lprun -f (default)', line: (v, t, fn) => `const ${v} = %lprun -r -q -f ${fn} ${t}`,
    extra: (v) => `{ sampledTotal: ${v}.functions[0].total, calls: ${v}.functions[0].calls, hits: ${v}.functions[0].lines.reduce((a, l) => a + (l.hits ?? 0), 0) }`,
  },
  { key: 'lprun-shown', label: '%lprun -f (table shown)', line: (_v, t, fn) => `%lprun -f ${fn} ${t}` },
  {
    key: 'lprun-x', label: '%lprun -x -f (exact mode)', line: (v, t, fn) => `const ${v} = %lprun -x -r -q -f ${fn} ${t}`,
    extra: (v) => `{ total: ${v}.functions[0].total, calls: ${v}.functions[0].calls, hits: ${v}.functions[0].lines.reduce((a, l) => a + (l.hits ?? 0), 0) }`,
  },
];

interface Sample {
  /** The statement's own wall time(s), in order (two for %prun -c: the sampled pass, then the counting pass). */
  walls: number[];
  /** Process CPU time of the same runs. */
  cpus: number[];
  kernel: number;
  cell: number;
  /** Share of the kernel main thread's runnable time spent waiting for a CPU during the cell. */
  cpuWait?: number;
  extra: Record<string, unknown> | null;
}

async function runMode(k: LaunchedKernel, mode: Mode, p: Program): Promise<Sample> {
  // Every mode starts from the same warm state, whatever the mode before it did to V8's code and
  // feedback (coverage runs, fresh copies, GC).
  await runCell(k, `${p.stmt}; ${p.stmt};`);
  const v = fresh();
  const timed = `benchTimed(() => ${p.stmt})`;
  const extra = mode.extra ? mode.extra(v, p.fn) : 'null';
  const code = [
    'benchWalls.length = 0; benchCpus.length = 0;',
    `const ${v}_k0 = performance.now();`,
    mode.line(v, timed, p.fn, p.stmt),
    `const ${v}_k1 = performance.now();`,
    `console.log(JSON.stringify({ walls: benchWalls, cpus: benchCpus, kernel: (${v}_k1 - ${v}_k0) / 1e3, extra: ${extra} }))`,
  ].join('\n');
  const a = schedstat(k.child.pid);
  const { value, wall } = await cellJson<Omit<Sample, 'cell'>>(k, code, 60_000);
  return { ...value, cell: wall, cpuWait: waitShare(a, schedstat(k.child.pid)) };
}

const INSPECTOR_PROBE = `const benchInspector = new (await import('node:inspector')).Session();
benchInspector.connect();
const benchPost = (m: string, p: object = {}) => new Promise<unknown>((res, rej) => benchInspector.post(m, p, (e: unknown, r: unknown) => (e ? rej(e) : res(r))));
async function benchProfilerStartStop(): Promise<{ start: number; stop: number }> {
  await benchPost('Profiler.enable');
  await benchPost('Profiler.setSamplingInterval', { interval: 100 });
  let t = performance.now();
  await benchPost('Profiler.start');
  const start = (performance.now() - t) / 1e3;
  t = performance.now();
  await benchPost('Profiler.stop');
  return { start, stop: (performance.now() - t) / 1e3 };
}`;

/** Costs that do not depend on the program: the magics on a trivial statement, and V8's Profiler.start/stop. */
async function fixedCosts(k: LaunchedKernel, exact: boolean): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const lines: Array<[string, string]> = [['prun', '%prun -r -q 0'], ['lprun', '%lprun -r -q -f primes 0']];
  if (exact) lines.push(['lprunX', '%lprun -x -r -q -f primes 0']);
  for (const [key, line] of lines) {
    const v = fresh();
    const { value } = await cellJson<{ kernel: number }>(k, `const ${v}_k0 = performance.now();\nconst ${v} = ${line}\nconsole.log(JSON.stringify({ kernel: (performance.now() - ${v}_k0) / 1e3 }))`);
    out[key] = value.kernel;
  }
  const { value } = await cellJson<{ start: number; stop: number }>(k, 'console.log(JSON.stringify(await benchProfilerStartStop()))');
  out.profilerStart = value.start;
  out.profilerStop = value.stop;
  return out;
}

/** `%lprun?` help text (the pager payload of the reply). */
async function lprunHelp(k: LaunchedKernel): Promise<string> {
  const r = await runCell(k, '%lprun?');
  const payload = (r.reply.content as { payload?: Array<{ data?: Record<string, string> }> }).payload ?? [];
  return payload.map((p) => p.data?.['text/plain'] ?? '').join('\n');
}


// ---- the command line, on the same programs -------------------------------------------------

const TSPROF_BIN = fileURLToPath(new URL('../bin/tsprof.js', import.meta.url));

interface CliMode {
  key: string;
  label: string;
  /** The kernel mode whose overhead it should match (same engine). */
  twin?: string;
  args: (script: string, fn: string, out: string) => string[];
}

const CLI_MODES: CliMode[] = [
  { key: 'plain', label: 'node script.mjs (plain)', args: (s) => [s] },
  { key: 'prun-sampling', label: 'tsprof prun --no-calls', twin: 'prun', args: (s, _fn, o) => [TSPROF_BIN, 'prun', '-q', '-o', o, '--no-calls', s] },
  { key: 'prun', label: 'tsprof prun (exact calls)', args: (s, _fn, o) => [TSPROF_BIN, 'prun', '-q', '-o', o, s] },
  { key: 'lprun', label: 'tsprof lprun -f', twin: 'lprun', args: (s, fn, o) => [TSPROF_BIN, 'lprun', '-q', '-o', o, '-f', fn, s] },
  { key: 'lprun-x', label: 'tsprof lprun -x -f', twin: 'lprun-x', args: (s, fn, o) => [TSPROF_BIN, 'lprun', '-x', '-q', '-o', o, '-f', fn, s] },
];

interface CliSample {
  /** The statement's wall and CPU time inside the script (seconds). */
  wall: number;
  cpu: number;
  /** The whole command, spawn to exit (seconds). */
  command: number;
}

/** The program as a script: its function, two untimed runs, one timed run printed as JSON. */
function cliScript(dir: string, p: Program, source: string): string {
  const js = transform(source, { transforms: ['typescript'], disableESTransforms: true }).code;
  const file = join(dir, `bench-${p.fn}.mjs`);
  writeFileSync(file, `${js}
function benchTimed(f) {
  const c = process.cpuUsage();
  const t = performance.now();
  f();
  const w = performance.now() - t;
  const d = process.cpuUsage(c);
  return { wall: w / 1e3, cpu: (d.user + d.system) / 1e6 };
}
${p.stmt}; ${p.stmt};
console.log(JSON.stringify(benchTimed(() => ${p.stmt})));
`);
  return file;
}

function runCli(mode: CliMode, script: string, fn: string, out: string): Promise<CliSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, mode.args(script, fn, out), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const command = (performance.now() - t0) / 1e3;
      const line = stdout.split('\n').find((l) => l.startsWith('{"wall"'));
      if (code !== 0 || !line) reject(new Error(`${mode.label} exited ${code}: ${stderr.slice(0, 500)}`));
      else resolve({ ...(JSON.parse(line) as { wall: number; cpu: number }), command });
    });
  });
}

async function main(): Promise<void> {
  const primesN = Math.floor(numberFlag('primes', 100_000));
  const fibN = Math.floor(numberFlag('fib', 32));
  const reps = Math.max(5, Math.floor(numberFlag('reps', 7)));
  const programs: Program[] = [
    { name: `primes(${primesN.toLocaleString('en-US')})`, fn: 'primes', stmt: `primes(${primesN})` },
    { name: `fib(${fibN})`, fn: 'fib', stmt: `fib(${fibN})` },
  ];
  const cliDir = mkdtempSync(join(tmpdir(), 'tsprof-bench-cli-'));
  const scripts = new Map(programs.map((p) => [p.name, cliScript(cliDir, p, p.fn === 'primes' ? PRIMES : FIB)]));
  const cliSamples = new Map<string, CliSample[]>();
  const startedAt = new Date();
  const before = machine();
  let k: LaunchedKernel | undefined;
  const disarm = watchdog(numberFlag('time-limit', 600) * 1000, 'bench:profilers', [() => k?.child.kill('SIGKILL'), () => k?.stop()]);
  try {
    k = await launchKernel();
    await runCell(k, [PRIMES, FIB, TIMED].join('\n'));
    await runCell(k, INSPECTOR_PROBE);
    // %lprun -x and %mprun on the seed's primes(2,000) and primes(100,000); `--lines-only 1` runs just these.
    const lineCosts: LineCostRow[] = await lineModeCosts(k, reps);
    if (numberFlag('lines-only', 0)) {
      console.log(lineModeText(lineCosts).join('\n'));
      return;
    }
    const help = await lprunHelp(k);
    const exactFlag = /(^|\n)\s*-x\b/.test(help);
    let exactNote = exactFlag ? 'available' : 'not available: `%lprun?` lists no -x flag';
    if (exactFlag) {
      try {
        await runCell(k, '%lprun -x -q -f fib fib(5)', 30_000);
      } catch (e) {
        exactNote = `-x is listed but failed: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    const modes = MODES.filter((m) => (m.key !== 'lprun-x' || exactNote === 'available') && onlyMode(m.key));

    const samples = new Map<string, Sample[]>();
    const fixed: Array<Record<string, number>> = [];
    const t0 = performance.now();
    const psi0 = cpuPressureTotal();
    const quietWaits: number[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      for (const p of programs) {
        if (rep > 0) quietWaits.push((await waitQuiet(5000)).waitedMs);
        for (const m of modes) {
          const s = await runMode(k, m, p);
          if (rep === 0) continue; // warm-up pass
          const key = `${p.name}|${m.key}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
        }
        for (const m of CLI_MODES) {
          if (m.key === 'lprun-x' && exactNote !== 'available') continue;
          if (!onlyMode(m.key)) continue;
          const s = await runCli(m, scripts.get(p.name)!, p.fn, join(cliDir, 'out.txt'));
          if (rep === 0) continue;
          const key = `${p.name}|${m.key}`;
          cliSamples.set(key, [...(cliSamples.get(key) ?? []), s]);
        }
      }
      const f = await fixedCosts(k, exactNote === 'available');
      if (rep > 0) fixed.push(f);
      process.stderr.write(rep === 0 ? 'warm-up pass done\n' : `rep ${rep}/${reps} done (${((performance.now() - t0) / 1e3).toFixed(0)} s)\n`);
    }
    const elapsed = (performance.now() - t0) / 1e3;
    const pressure = pressureShare(psi0, cpuPressureTotal(), elapsed * 1e3);
    const allWaits = [...samples.values()].flat().map((s) => s.cpuWait ?? NaN).filter((x) => Number.isFinite(x));
    const busy = median(allWaits) > 0.1;

    const results = programs.map((p) => {
      const of = (key: string): Sample[] => samples.get(`${p.name}|${key}`) ?? [];
      const plain = of('plain');
      const base = { stmt: median(plain.map((s) => s.walls[0])), cpu: median(plain.map((s) => s.cpus[0])), minStmt: Math.min(...plain.map((s) => s.walls[0])), kernel: median(plain.map((s) => s.kernel)), cell: median(plain.map((s) => s.cell)) };
      const rows = modes.map((m) => {
        const ss = of(m.key);
        // %timeit times the bare statement: its 5 runs per rep stand in for the statement walls.
        const stmtWalls = m.key === 'timeit' ? ss.flatMap((s) => (s.extra as { runs: number[] }).runs) : ss.map((s) => s.walls[0]);
        const stmt = median(stmtWalls);
        const cpu = m.key === 'timeit' ? NaN : median(ss.map((s) => s.cpus[0]));
        const minStmt = Math.min(...stmtWalls);
        const kernel = median(ss.map((s) => s.kernel));
        const cell = median(ss.map((s) => s.cell));
        const row: Record<string, unknown> = {
          mode: m.key, label: m.label, statementWall: stmt, statementCpu: cpu, statementMin: minStmt, magicWall: kernel, cellWall: cell,
          statementRatio: stmt / base.stmt, cpuRatio: cpu / base.cpu, minRatio: minStmt / base.minStmt, magicRatio: kernel / base.kernel, cellRatio: cell / base.cell,
          cpuWaitMedian: median(ss.map((s) => s.cpuWait ?? NaN)),
          reps: ss.map((s) => ({ walls: s.walls, kernel: s.kernel, cell: s.cell, cpuWait: s.cpuWait, extra: s.extra })),
        };
        if (m.key.startsWith('prun') && m.key !== 'prun-shown') row.resultWall = median(ss.map((s) => (s.extra as { wall: number }).wall));
        if (m.key === 'prun' || m.key === 'prun-i1000') row.samples = median(ss.map((s) => (s.extra as { samples: number }).samples));
        if (m.key === 'prun') row.ncalls = (ss[0]?.extra as { ncalls: number | null } | undefined)?.ncalls;
        if (m.key === 'prun-c' && ss.some((s) => s.walls.length > 1)) {
          row.countingPassWall = median(ss.map((s) => s.walls[1]));
          row.countingPassCpu = median(ss.map((s) => s.cpus[1]));
          row.countingPassRatio = (row.countingPassWall as number) / base.stmt;
          row.ncalls = (ss[0]?.extra as { ncalls: number | null } | undefined)?.ncalls;
        }
        if (m.key === 'lprun') row.sampledTotal = median(ss.map((s) => (s.extra as { sampledTotal: number }).sampledTotal));
        if (m.key === 'lprun' || m.key === 'lprun-x') {
          row.hits = (ss[0]?.extra as { hits: number } | undefined)?.hits;
          row.calls = (ss[0]?.extra as { calls: number } | undefined)?.calls;
        }
        return row;
      });
      return { program: p.name, statement: p.stmt, plain: base, rows };
    });

    const fixedMedian = Object.fromEntries(Object.keys(fixed[0]).map((key) => [key, median(fixed.map((f) => f[key]))]));
    const after = machine();
    const out: string[] = [
      '',
      `bench:profilers — tsprof %prun / %lprun overhead through the kernel; median of ${reps} interleaved reps after a warm-up pass`,
      `node ${process.version}, ${before.cpus} CPUs; load average ${JSON.stringify(before.loadavg)} at start, ${JSON.stringify(after.loadavg)} at end; ${elapsed.toFixed(0)} s of measuring`,
      `CPU pressure during the bench (PSI "some"): ${fmtPct(pressure)}; median CPU wait of the kernel's main thread: ${fmtPct(median(allWaits))}; waited ${(quietWaits.reduce((a, b) => a + b, 0) / 1e3).toFixed(0)} s in total for quiet moments`,
      ...(busy ? ['WARNING: this machine was busy with other work during the run (median CPU wait > 10%): the figures below carry that noise; rerun when it is quieter.'] : []),
      `programs: primes = the examples' set-based trial division, first ${primesN.toLocaleString('en-US')} primes (DESIGN's seed uses 2,000: about 0.3 ms in V8, too short for a 100 µs sampler);`,
      `          fib = naive recursion, fib(${fibN}). %lprun exact mode (-x): ${exactNote}.`,
    ];
    for (const r of results) {
      out.push('', `${r.program}: plain statement ${fmtTime(r.plain.stmt)}, plain cell round trip ${fmtTime(r.plain.cell)}`);
      out.push(textTable(
        ['mode', 'statement', '× plain', 'stmt CPU', '× plain', 'stmt min', '× plain', 'magic (in kernel)', '× plain', 'cell (client)', '× plain', 'CPU wait', 'notes'],
        r.rows.map((row) => {
          const notes: string[] = [];
          if (row.resultWall !== undefined) notes.push(`result.wall ${fmtTime(row.resultWall as number)}`);
          if (row.samples !== undefined) notes.push(`${row.samples} samples`);
          if (row.countingPassWall !== undefined) notes.push(`counting pass ${fmtTime(row.countingPassWall as number)} (${fmtRatio(row.countingPassRatio as number)})`);
          if (row.ncalls !== undefined && row.ncalls !== null) notes.push(`ncalls ${(row.ncalls as number).toLocaleString('en-US')}`);
          if (row.hits !== undefined) notes.push(`${(row.hits as number).toLocaleString('en-US')} line hits, ${(row.calls as number).toLocaleString('en-US')} calls`);
          if (row.mode === 'timeit') notes.push('5 runs/rep, gc() before each');
          return [
            String(row.label), fmtTime(row.statementWall as number), fmtRatio(row.statementRatio as number),
            fmtTime(row.statementCpu as number), fmtRatio(row.cpuRatio as number),
            fmtTime(row.statementMin as number), fmtRatio(row.minRatio as number),
            fmtTime(row.magicWall as number), fmtRatio(row.magicRatio as number),
            fmtTime(row.cellWall as number), fmtRatio(row.cellRatio as number),
            `${((row.cpuWaitMedian as number) * 100).toFixed(0)}%`, notes.join('; '),
          ];
        }),
      ));
    }
    const cli = programs.map((p) => {
      const of = (key: string): CliSample[] => cliSamples.get(`${p.name}|${key}`) ?? [];
      const plain = of('plain');
      const base = { wall: median(plain.map((s) => s.wall)), cpu: median(plain.map((s) => s.cpu)), command: median(plain.map((s) => s.command)) };
      const rows = CLI_MODES.filter((m) => of(m.key).length).map((m) => {
        const ss = of(m.key);
        const wall = median(ss.map((s) => s.wall));
        const cpu = median(ss.map((s) => s.cpu));
        const command = median(ss.map((s) => s.command));
        const twin = m.twin ? (results.find((r) => r.program === p.name)?.rows.find((x) => x.mode === m.twin)?.statementRatio as number | undefined) : undefined;
        return { mode: m.key, label: m.label, statementWall: wall, statementRatio: wall / base.wall, statementCpu: cpu, cpuRatio: cpu / base.cpu, minRatio: Math.min(...ss.map((s) => s.wall)) / Math.min(...plain.map((s) => s.wall)), commandWall: command, commandRatio: command / base.command, magicTwin: m.twin, magicTwinRatio: twin, reps: ss };
      });
      return { program: p.name, plain: base, rows };
    });
    for (const r of cli) {
      out.push('', `${r.program} from the command line: plain statement ${fmtTime(r.plain.wall)} in \`node script.mjs\` (the whole command ${fmtTime(r.plain.command)})`);
      out.push(textTable(
        ['command', 'statement', '× plain', 'stmt CPU', '× plain', 'stmt min × plain', 'whole command', '× plain', 'the magic, same engine'],
        r.rows.map((row) => [
          row.label, fmtTime(row.statementWall), fmtRatio(row.statementRatio), fmtTime(row.statementCpu), fmtRatio(row.cpuRatio), fmtRatio(row.minRatio),
          fmtTime(row.commandWall), fmtRatio(row.commandRatio),
          row.magicTwinRatio === undefined ? '' : `%${row.magicTwin === 'lprun-x' ? 'lprun -x' : row.magicTwin} ${fmtRatio(row.magicTwinRatio)}`,
        ]),
      ));
    }
    out.push(
      '',
      'command line: the statement is timed inside the script as in the cells (two untimed runs first); "whole command" is spawn to exit',
      '  (Node start, the runner and its loader thread, writing and reading the profile): a fixed cost per run, not per statement.',
    );
    out.push(
      '',
      `fixed costs (trivial statement "0"; the magic line in the kernel, median): %prun -r -q ${fmtTime(fixedMedian.prun)}, %lprun -r -q ${fmtTime(fixedMedian.lprun)}, %lprun -x -r -q ${fmtTime(fixedMedian.lprunX)};`,
      `  V8 Profiler.start in this kernel ${fmtTime(fixedMedian.profilerStart)} (it logs every compiled function already loaded), Profiler.stop ${fmtTime(fixedMedian.profilerStop)}.`,
    );
    const ratio = (prog: number, mode: string, level: 'statementRatio' | 'cpuRatio' | 'minRatio' | 'magicRatio'): number => results[prog].rows.find((x) => x.mode === mode)?.[level] as number;
    const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
    const prunStmt = results.map((_, i) => ratio(i, 'prun', 'statementRatio'));
    const prunMagic = results.map((_, i) => ratio(i, 'prun', 'magicRatio'));
    const prunCpu = results.map((_, i) => ratio(i, 'prun', 'cpuRatio'));
    const prunMin = results.map((_, i) => ratio(i, 'prun', 'minRatio'));
    const lpCpu = results.map((_, i) => ratio(i, 'lprun', 'cpuRatio'));
    const lpMin = results.map((_, i) => ratio(i, 'lprun', 'minRatio'));
    const lpStmt = results.map((_, i) => ratio(i, 'lprun', 'statementRatio'));
    const lpMagic = results.map((_, i) => ratio(i, 'lprun', 'magicRatio'));
    const list = (xs: number[]): string => results.map((r, i) => `${r.program} ${fmtRatio(xs[i])}`).join(', ');
    out.push(
      '',
      'levels: statement = performance.now() around the program inside the cell while the profiler is on (median of reps; "stmt CPU":',
      '  process.cpuUsage() user+system over the same call, all threads, so the sampler thread counts, and time lost to other',
      '  processes does not; "stmt min": the fastest rep, the least load-sensitive wall figure); magic = around the',
      '  whole magic line (profiler start/stop, recompiling and rebinding for %lprun, building the result, rendering for "shown");',
      '  cell = client-side execute_request → reply + idle. × plain = median / plain\'s median at the same level.',
      '"CPU wait" = share of the kernel main thread\'s runnable time spent waiting for a CPU (schedstat): other load on the machine.',
      '',
      `target %prun (default: exact calls of the cells' functions, sampled times) ≤ ${PRUN_TARGET}× plain; cProfile costs 2.1×:`,
      `  exact calls: ${results.map((r) => `${r.program} ncalls ${String(r.rows.find((x) => x.mode === 'prun')?.ncalls ?? '-')}`).join(', ')}`,
      `  statement wall (median) ${list(prunStmt)} → ${verdict(prunStmt.every((x) => x <= PRUN_TARGET))}; CPU ${list(prunCpu)} → ${verdict(prunCpu.every((x) => x <= PRUN_TARGET))}; min wall ${list(prunMin)} → ${verdict(prunMin.every((x) => x <= PRUN_TARGET))}`,
      `  whole magic line ${list(prunMagic)} → ${verdict(prunMagic.every((x) => x <= PRUN_TARGET))}`,
      `target %lprun ≤ 2× plain (default mode):`,
      `  statement wall (median) ${list(lpStmt)} → ${verdict(lpStmt.every((x) => x <= 2))}; CPU ${list(lpCpu)} → ${verdict(lpCpu.every((x) => x <= 2))}; min wall ${list(lpMin)} → ${verdict(lpMin.every((x) => x <= 2))}`,
      `  whole magic line ${list(lpMagic)} → ${verdict(lpMagic.every((x) => x <= 2))}`,
      ...(busy ? ['  (busy machine: the CPU and min columns are less distorted by other load than the median wall)'] : []),
      'reference, CPython 3.11 on this machine, primes(2,000): cProfile 2.1× plain, line_profiler 20.7× plain.',
      ...lineModeText(lineCosts),
    );
    console.log(out.join('\n'));
    const file = fileURLToPath(new URL('../../bench/results/profilers-latest.json', import.meta.url));
    writeJson(file, {
      bench: 'profilers', startedAt: startedAt.toISOString(), elapsedSeconds: elapsed, reps, machine: { before, after },
      cpuPressure: pressure, medianCpuWait: median(allWaits), busy,
      sizes: { primes: primesN, fib: fibN }, lprunExactMode: exactNote, lprunHelp: help,
      targets: { prun: PRUN_TARGET, lprunDefault: 2 }, pythonReference: { program: 'primes(2000)', cProfile: 2.1, line_profiler: PEERS.lineProfiler, memory_profiler: PEERS.memoryProfiler }, lineModes: lineCosts,
      fixedCosts: { median: fixedMedian, reps: fixed }, results, commandLine: cli, text: out.join('\n'),
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await k?.stop();
    rmSync(cliDir, { recursive: true, force: true });
    disarm();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
