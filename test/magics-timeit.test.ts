// %timeit, %%timeit and %time through a real kernel, checked against ground truth: a busy-wait of
// known length, exact loop and run counts, a timer of known delay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { renderSvg, VEGALITE_MIME, type VegaLiteSpec } from '../magics/render/vegalite.js';
import { content, errorOf, evalOk, ofType, sleep, assertAlive, streamText, type DisplayContent } from './helpers/kernel.js';

let k: LaunchedKernel;
before(async () => {
  k = await launchKernel();
  await evalOk(k, `function spin(us: number): void { const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000)); while (process.hrtime.bigint() < end) {} }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));`);
});
after(() => k.stop());

type Iopub = Awaited<ReturnType<LaunchedKernel['client']['execute']>>['iopub'];

/** Every bundle shown in a cell, with updates applied to the display they update. */
function bundles(msgs: Iopub): Array<Record<string, unknown>> {
  const out: Array<{ id?: string; data: Record<string, unknown> }> = [];
  for (const m of msgs) {
    const c = content<DisplayContent>(m);
    if (m.header.msg_type === 'display_data') out.push({ id: c.transient?.display_id, data: c.data });
    else if (m.header.msg_type === 'update_display_data') for (const o of out) if (o.id && o.id === c.transient?.display_id) o.data = c.data;
  }
  assert.ok(out.length > 0, 'the magic displayed something');
  return out.map((o) => o.data);
}

/** The report (text and table) a magic showed: the last bundle with HTML. */
function lastBundle(msgs: Iopub): Record<string, unknown> {
  const withHtml = bundles(msgs).filter((b) => 'text/html' in b);
  assert.ok(withHtml.length > 0, 'a table was shown');
  return withHtml.at(-1)!;
}

/** The chart a magic showed, in an output of its own (HTML beside it would hide it in JupyterLab). */
function chartOf(msgs: Iopub): Record<string, unknown> {
  const charts = bundles(msgs).filter((b) => VEGALITE_MIME in b);
  assert.equal(charts.length, 1, 'one chart');
  assert.ok(!('text/html' in charts[0]), 'the chart is not next to HTML');
  return charts[0];
}

const IPYTHON_LINE = /^\d+(\.\d+)?(e[+-]\d+)? (ns|μs|ms|s) ± \d+(\.\d+)?(e[+-]\d+)? (ns|μs|ms|s) per loop \(mean ± std\. dev\. of \d+ runs?, [\d,]+ loops? each\)$/;

test('a 200 µs busy-wait: the fastest run measures 200 µs within 5%, and the mean is no less', async () => {
  // The spin ends at its deadline, so noise can only add time: a CPU taken away by the host (this is
  // a shared 2-core VM) while a run crosses its deadline. A harness error is systematic and shows in
  // every run, the fastest included; noise does not, and on a loaded machine it moves the mean of
  // every run (20 calls, 4 ms) by tens of percent. So the fastest run (IPython's `best`) of up to
  // three measurements must be within 5% of the truth, and no mean below it; the attempts are logged.
  const attempts: string[] = [];
  let closest = Infinity;
  for (let i = 0; i < 3 && Math.abs(closest - 200e-6) / 200e-6 >= 0.05; i++) {
    const out = await evalOk(k, `const spin${i} = %timeit -o -q -n 20 -r 7 spin(200)\n[spin${i}.average, spin${i}.best, spin${i}.loops, spin${i}.repeat, spin${i}.stdev / spin${i}.average]`);
    const [mean, best, loops, repeat, spread] = JSON.parse(out!.replace(/\s/g, '')) as number[];
    assert.equal(loops, 20);
    assert.equal(repeat, 7);
    assert.ok(mean >= best, `mean ${mean} below the fastest run ${best}`);
    attempts.push(`fastest ${(best * 1e6).toFixed(1)} µs, mean ${(mean * 1e6).toFixed(1)} µs (spread ${(spread * 100).toFixed(1)}%)`);
    if (Math.abs(best - 200e-6) < Math.abs(closest - 200e-6)) closest = best;
  }
  console.log(`# 200 µs spin measured: ${attempts.join('; ')}`);
  assert.ok(Math.abs(closest - 200e-6) / 200e-6 < 0.05, `no fastest run within 5% of 200 µs: ${attempts.join('; ')}`);
});

test('-n and -r give exactly N × R executions; %%timeit setup runs once per run', async () => {
  await evalOk(k, 'let hits = 0; let setups = 0;');
  await evalOk(k, '%timeit -q -n 13 -r 4 hits++');
  assert.equal(await evalOk(k, 'hits'), '52');
  await evalOk(k, '%%timeit -q -n 5 -r 3 setups++\nhits++');
  assert.equal(await evalOk(k, '[hits, setups]'), '[ 67, 3 ]');
});

test('statements see variables and functions from earlier cells, and setup locals', async () => {
  await evalOk(k, 'const table = new Map([[1, "one"]]); function lookup(n: number) { return table.get(n) }');
  const r = await k.client.execute('%%timeit -n 10 -r 2 let local: number = 1\nif (lookup(local) !== "one") throw new Error("wrong scope")');
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
});

test('await inside the statement is timed', async () => {
  const out = await evalOk(k, 'const sleepResult = %timeit -o -q -n 3 -r 3 await sleep(30)\nsleepResult.average');
  const mean = Number(out);
  assert.ok(mean >= 0.029 && mean < 0.045, `a 30 ms timer measured ${mean * 1e3} ms`);
});

test("the output line is IPython's, with an HTML table and a Vega-Lite chart that compiles", async () => {
  const r = await k.client.execute('%timeit -n 50 -r 5 spin(20)');
  assert.equal(r.reply.content.status, 'ok');
  const data = lastBundle(r.iopub);
  // IPython's line, with IPython's slowest-run warning before it and any other note after it.
  const line = String(data['text/plain']).split('\n').find((l) => IPYTHON_LINE.test(l));
  assert.ok(line, String(data['text/plain']));
  assert.match(line, /of 5 runs, 50 loops each/);
  const html = String(data['text/html']);
  for (const h of ['mean', 'std. dev.', 'min', 'median', 'max', 'runs × loops']) assert.ok(html.includes(`>${h}<`), `table has ${h}`);
  assert.ok(html.includes('5 × 50'));
  const chart = chartOf(r.iopub);
  const spec = chart[VEGALITE_MIME] as VegaLiteSpec;
  assert.match(spec.$schema, /vega-lite\/v5/);
  assert.equal(((spec.data as { values: unknown[] }).values).length, 5, 'one bar per run');
  assert.match(await renderSvg(spec), /<svg/);
  assert.match(String(chart['image/svg+xml']), /^<svg/);
});

test('-o fields are consistent', async () => {
  const r = await k.client.execute(`const o = %timeit -o -q -n 100 -r 5 spin(5)
console.log(JSON.stringify({ ok: o.best <= o.median && o.median <= o.worst && o.min === o.best && o.max === o.worst,
  runs: o.all_runs.length, timings: o.timings.length, perLoop: o.timings.every((t, i) => Math.abs(t - o.all_runs[i] / o.loops) < 1e-12),
  ops: Math.abs(o.opsPerSec - 1 / o.average) < 1e-6 * o.opsPerSec, compile: o.compile_time >= 0 && o.compile_time < 1, line: String(o) }))`);
  assert.equal(r.reply.content.status, 'ok');
  const o = JSON.parse(ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('')) as Record<string, unknown>;
  assert.deepEqual({ ...o, line: undefined }, { ok: true, runs: 5, timings: 5, perLoop: true, ops: true, compile: true, line: undefined });
  assert.match(String(o.line), IPYTHON_LINE);
});

test('without -o nothing is returned; with -o the result displays as its line', async () => {
  const r1 = await k.client.execute('%timeit -q -n 1 -r 1 1');
  assert.equal(ofType(r1.iopub, 'execute_result').length, 0);
  const r2 = await k.client.execute('%timeit -o -q -n 1 -r 1 spin(1)');
  const res = ofType(r2.iopub, 'execute_result');
  assert.equal(res.length, 1);
  assert.match(String(content<DisplayContent>(res[0]).data['text/plain']), IPYTHON_LINE);
});

test('autorange grows loops by powers of ten until a run takes 0.2 s', async () => {
  const out = await evalOk(k, 'const a = %timeit -o -q -r 2 spin(3000)\n[a.loops, a.all_runs[0]]');
  const [loops, run0] = JSON.parse(out!.replace(/\s/g, '')) as number[];
  assert.equal(loops, 100, '3 ms × 10 = 30 ms < 0.2 s; × 100 = 0.3 s ≥ 0.2 s');
  assert.ok(run0 >= 0.29, `a run of 100 loops of 3 ms took ${run0} s`);
});

test('a statement optimized away is flagged; one with an effect the loop keeps is not', async () => {
  // 7 runs: the verdict compares fastest runs, and on a loaded machine a run without a preemption
  // in it needs a few tries.
  const r = await k.client.execute('%timeit -n 10000000 -r 7 1 + 1')
  const text = String(lastBundle(r.iopub)['text/plain'])
  assert.match(text, /⚠ The statement (costs about as much as|measured faster than) an empty loop timed beside it .*likely optimized out/)
  // A cheap statement with an effect the loop cannot drop (about twice an empty loop) is not flagged.
  await evalOk(k, 'let counter = 0')
  const kept = await k.client.execute('%timeit -n 10000000 -r 7 counter++')
  assert.doesNotMatch(String(lastBundle(kept.iopub)['text/plain']), /optimized out/)
})

// ---------------------------------------------------------------------------------------------
// Every figure an output prints comes from the same runs and agrees with the others (issue 11 #7)

const UNIT: Record<string, number> = { ns: 1e-9, 'μs': 1e-6, ms: 1e-3, s: 1 }

/** `58.7 ns` → seconds, with the printed precision (half a unit in the last digit shown). */
function parseTime(text: string): { seconds: number; tolerance: number } {
  const m = /^(-?[\d.]+(?:e[+-]\d+)?) (ns|μs|ms|s)$/.exec(text.trim())
  assert.ok(m, `a time: ${JSON.stringify(text)}`)
  const digits = m[1].replace(/e.*/, '').split('.')[1]?.length ?? 0
  const exponent = /e([+-]\d+)/.exec(m[1])?.[1]
  const scale = UNIT[m[2]] * (exponent ? 10 ** Number(exponent) : 1)
  return { seconds: Number(m[1]) * UNIT[m[2]], tolerance: 0.5 * 10 ** -digits * scale * (1 + 1e-9) + 1e-18 }
}

function agrees(printed: string, seconds: number, what: string): void {
  const p = parseTime(printed)
  assert.ok(Math.abs(p.seconds - seconds) <= p.tolerance, `${what}: printed ${printed}, the runs give ${seconds} s`)
}

const cells = (html: string, tag: 'th' | 'td'): string[] =>
  [...html.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1])

/** A value from the kernel, as JSON through stdout (exact numbers, no display formatting). */
async function jsonOf<T>(expr: string): Promise<T> {
  const r = await k.client.execute(`console.log(JSON.stringify(${expr}))`)
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  return JSON.parse(streamText(r.iopub, 'stdout')) as T
}

interface Runs { timings: number[]; emptyTimings?: number[]; loops: number; repeat: number }

/**
 * Reads one %timeit output the way a user does — the line, the table, the chart's data, the
 * warnings — and checks each figure against the runs in the chart (and the -v object of the same
 * run), and each warning against the condition it states, recomputed here from those runs.
 */
async function checkConsistent(stmt: string, flags: string): Promise<{ text: string; runs: Runs }> {
  const r = await k.client.execute(`%timeit ${flags} -v consistent ${stmt}`, { timeoutMs: 120_000 })
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  const report = lastBundle(r.iopub)
  const text = String(report['text/plain'])
  const html = String(report['text/html'])
  const chart = chartOf(r.iopub)[VEGALITE_MIME] as VegaLiteSpec
  const values = (chart.data as { values: Array<{ run: number; series: string; us: number }> }).values
  const o = await jsonOf<{ loops: number; repeat: number; timings: number[]; all_runs: number[]; empty?: number[] }>(
    '({ loops: consistent.loops, repeat: consistent.repeat, timings: consistent.timings, all_runs: consistent.all_runs, empty: consistent.emptyLoop?.timings })')

  // The chart draws exactly the runs the object holds.
  const timings = values.filter((v) => v.series === 'statement').sort((a, b) => a.run - b.run).map((v) => v.us / 1e6)
  const emptyTimings = values.filter((v) => v.series === 'empty loop').sort((a, b) => a.run - b.run).map((v) => v.us / 1e6)
  assert.equal(timings.length, o.repeat)
  timings.forEach((t, i) => assert.ok(Math.abs(t - o.timings[i]) <= 1e-12 * Math.max(1, t), `chart run ${i + 1}`))
  timings.forEach((t, i) => assert.ok(Math.abs(t - o.all_runs[i] / o.loops) <= 1e-12 * Math.max(1, t), 'timings are all_runs / loops'))
  assert.ok(o.empty && o.empty.length === o.repeat, 'an empty loop was timed beside every run')

  const mean = timings.reduce((a, b) => a + b, 0) / timings.length
  const std = Math.sqrt(timings.reduce((a, t) => a + (t - mean) ** 2, 0) / timings.length)
  const sorted = [...timings].sort((a, b) => a - b)
  const median = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2
  const [best, worst] = [sorted[0], sorted.at(-1)!]
  const emptyBest = Math.min(...o.empty!)
  const verdict = best < 1.4 * emptyBest
  // The empty loop is shown (table column, chart series) when the statement is under 1 μs per loop or a warning quotes it.
  const shown = best < 1e-6 || verdict
  if (shown) assert.deepEqual(emptyTimings.map((t) => +t.toPrecision(12)), o.empty!.map((t) => +t.toPrecision(12)))
  else assert.equal(emptyTimings.length, 0, 'no empty-loop bars for a statement above 1 μs')

  // The line.
  const lines = text.split('\n')
  const line = lines.find((l) => IPYTHON_LINE.test(l))
  assert.ok(line, `the IPython line is there:\n${text}`)
  const lm = /^(.+?) ± (.+?) per loop \(mean ± std\. dev\. of (\d+) runs?, ([\d,]+) loops? each\)$/.exec(line)!
  agrees(lm[1], mean, 'line mean')
  agrees(lm[2], std, 'line std. dev.')
  assert.equal(Number(lm[3]), o.repeat)
  assert.equal(Number(lm[4].replace(/,/g, '')), o.loops)

  // The table.
  const heads = cells(html, 'th')
  const row = cells(html, 'td')
  const cell = (h: string): string => row[heads.indexOf(h)]
  agrees(cell('mean'), mean, 'table mean')
  agrees(cell('std. dev.'), std, 'table std. dev.')
  agrees(cell('min'), best, 'table min')
  agrees(cell('median'), median, 'table median')
  agrees(cell('max'), worst, 'table max')
  assert.equal(cell('runs × loops'), `${o.repeat} × ${o.loops.toLocaleString('en-US')}`)
  const ops = Number(cell('ops/s').replace(/,/g, ''))
  assert.ok(Math.abs(ops - 1 / mean) <= 0.5 + 1e-9 * ops, `ops/s ${ops} vs ${1 / mean}`)
  if (shown) agrees(cell('empty loop (min)'), emptyBest, 'table empty loop')
  else assert.ok(!heads.includes('empty loop (min)'))

  // The warnings: present exactly when their condition holds on these runs, and their figures agree.
  const slowest = /^The slowest run took ([\d.]+) times longer than the fastest\. This could mean that an intermediate result is being cached\.$/m.exec(text)
  assert.equal(Boolean(slowest), worst > 4 * best && worst > 1e-6, `slowest-run warning iff IPython's condition:\n${text}`)
  if (slowest) assert.ok(Math.abs(Number(slowest[1]) - worst / best) <= 0.005 + 1e-9, 'slowest-run ratio')
  if (slowest) assert.ok(lines.indexOf(slowest[0]) < lines.indexOf(line), 'printed before the line, as IPython does')

  const optimized = /^⚠ The statement (costs about as much as|measured faster than) an empty loop timed beside it \(fastest run (.+?) against (.+?) per loop, over the same (\d+) × ([\d,]+) loops\)/m.exec(text)
  assert.equal(Boolean(optimized), verdict, `optimized-out warning iff the fastest run is within 1.4× of the empty loop's (${best} vs ${emptyBest}):\n${text}`)
  if (optimized) {
    agrees(optimized[2], best, 'warning: the statement')
    agrees(optimized[3], emptyBest, 'warning: the empty loop')
    assert.equal(optimized[2], cell('min'), 'the warning quotes the table')
    assert.equal(optimized[3], cell('empty loop (min)'), 'the warning quotes the table')
    assert.equal(Number(optimized[4]), o.repeat)
    assert.equal(Number(optimized[5].replace(/,/g, '')), o.loops)
    const faster = optimized[1] === 'measured faster than'
    assert.ok(faster ? best < emptyBest : optimized[2] === optimized[3] || best >= emptyBest, `the words match the figures: ${optimized[0]}`)
  }
  const cold = /^⚠ The first run took (.+?) per loop, ([\d.]+)× the median \((.+?)\)/m.exec(text)
  const autoranged = !/-n\s*\d/.test(flags)
  assert.equal(Boolean(cold), !autoranged && o.repeat >= 3 && timings[0] > 4 * median && timings[0] === worst, `first-run note iff its condition:\n${text}`)
  if (cold) {
    agrees(cold[1], timings[0], 'first run')
    agrees(cold[3], median, 'median')
    assert.equal(cold[3], cell('median'))
    assert.ok(Math.abs(Number(cold[2]) - timings[0] / median) <= 0.05 + 1e-9, 'first-run ratio')
  }
  // Every line of the text is one of these.
  for (const l of lines) assert.ok(l === line || slowest?.[0] === l || l.startsWith('⚠ ') || /^Compiler time: /.test(l), `unexpected line: ${l}`)
  // The HTML repeats the same warnings.
  for (const l of lines.filter((x) => x !== line)) assert.ok(html.includes(l.replace(/^⚠ /, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')), `the HTML has: ${l}`)
  return { text, runs: { timings, emptyTimings: o.empty, loops: o.loops, repeat: o.repeat } }
}

test("the issue's case: -n 100 -r 3 Math.sqrt(2) — every figure from the same runs, the verdict in their terms", async () => {
  // The statement is under a microsecond per loop, so the empty loop is timed beside every run.
  for (let i = 0; i < 3; i++) {
    const { runs } = await checkConsistent('Math.sqrt(2)', '-n 100 -r 3')
    assert.equal(runs.emptyTimings?.length, 3, 'one empty-loop run beside each run')
    assert.equal(runs.loops, 100)
  }
})

test('an optimized-out statement: the warning quotes the table and the empty-loop runs', async () => {
  // Each measurement's figures must agree with its words (checkConsistent); the verdict itself needs
  // the statement's runs to come out level with the empty loop's, which load can upset (seen once:
  // 3.59 ns ± 1.2 ns). Up to three measurements, one must say it.
  const texts: string[] = []
  for (let i = 0; i < 3 && !texts.some((t) => /optimized out/.test(t)); i++) texts.push((await checkConsistent('1 + 1', '-n 1000000 -r 5')).text)
  assert.match(texts.at(-1)!, /optimized out/, texts.join('\n---\n'))
})

test('a slow statement: the empty loop is timed but not shown, no verdict; autorange says nothing about a cold first run', async () => {
  const { runs, text } = await checkConsistent('spin(300)', '-r 3')
  assert.equal(runs.emptyTimings?.length, 3)
  assert.doesNotMatch(text, /empty loop/)
})

test("a cached result: IPython's slowest-run warning and the cold-first-run note, with their ratios", async () => {
  await evalOk(k, 'let cacheFilled = false\nfunction cached() { if (!cacheFilled) { spin(5000); cacheFilled = true } else spin(20) }')
  const { text } = await checkConsistent('cached()', '-n 1 -r 5')
  assert.match(text, /^The slowest run took/m)
  assert.match(text, /⚠ The first run took/)
})

test('-n and -r are exact with every check on: the empty loop never runs the statement', async () => {
  await evalOk(k, 'let exactHits = 0')
  const r = await k.client.execute('%timeit -n 13 -r 4 exactHits++')
  assert.equal(r.reply.content.status, 'ok')
  assert.match(String(lastBundle(r.iopub)['text/html']), /empty loop \(min\)/, 'the empty loop was timed and shown')
  assert.equal(await evalOk(k, 'exactHits'), '52')
})

test('a statement must be valid on its own: return, break, continue are SyntaxErrors, not NaN', async () => {
  for (const code of ['%timeit return', '%timeit break', '%timeit -n 1 -r 1 continue', '%%timeit -n 1 -r 1 return 1\nspin(1)', '%%timeit -n 1 -r 1\nif (true) return']) {
    const e = errorOf(await k.client.execute(code))
    assert.equal(e.ename, 'SyntaxError', code)
    assert.doesNotMatch(e.evalue, /NaN/)
  }
  // Loops and functions inside the statement keep their own break/return.
  const ok = await k.client.execute('%timeit -n 2 -r 2 for (;;) break; (() => { return 1 })()')
  assert.equal(ok.reply.content.status, 'ok')
  await assertAlive(k)
})

test('compare mode ranks a 10× slower variant last with its ratio', async () => {
  const r = await k.client.execute('const cmp = %timeit -o -q -n 30 -r 3 --compare\n', { timeoutMs: 60_000 });
  assert.equal(r.reply.content.status, 'error', '--compare needs cell mode');
  assert.match(errorOf(r).evalue, /--compare works with %%timeit/);
  const c = await k.client.execute('%%timeit -o -n 30 -r 3 --compare\n// slow\nspin(400)\n// fast\nspin(40)');
  assert.equal(c.reply.content.status, 'ok');
  const data = lastBundle(c.iopub);
  const text = String(data['text/plain']).split('\n');
  assert.match(text[0], /^fast .* fastest$/);
  const ratio = Number(/([\d.]+)× slower/.exec(text[1])?.[1]);
  // The order is the ground truth; the ratio (10 by construction) is checked loosely, since other
  // load on the machine stretches a 40 µs spin more, relatively, than a 400 µs one (17× seen with both CPUs busy).
  assert.ok(text[1].startsWith('slow') && ratio > 5 && ratio < 20, `slow variant ratio ${ratio}`);
  assert.ok(String(data['text/html']).indexOf('fast') < String(data['text/html']).indexOf('slow'), 'table sorted fastest first');
  await renderSvg(chartOf(c.iopub)[VEGALITE_MIME] as VegaLiteSpec);
});

test('bad flags and a missing statement are usage errors, and the kernel lives on', async () => {
  for (const [code, pattern] of [
    ['%timeit -z 1', /option -z not recognized/],
    ['%timeit -n', /option -n requires an argument/],
    ['%timeit -n zero 1', /option -n needs an integer/],
    ['%timeit -t -c 1', /-t and -c/],
    ['%timeit', /no statement to time/],
    ['%timit 1', /Did you mean %timeit\?/],
  ] as const) {
    const e = errorOf(await k.client.execute(code));
    assert.equal(e.ename, 'UsageError', code);
    assert.match(e.evalue, pattern, code);
  }
  const thrown = errorOf(await k.client.execute('%timeit -n 1 -r 1 null.x'));
  assert.equal(thrown.ename, 'TypeError');
  await assertAlive(k);
});

test('interrupt stops a long %timeit cleanly', async () => {
  const run = k.client.startExecute('%timeit -n 1000000 spin(100)');
  await sleep(500);
  const t0 = performance.now();
  await k.client.request('control', 'interrupt_request', {}, 5000);
  const { reply } = await run.done;
  const latency = performance.now() - t0;
  assert.equal(reply.content.status, 'error');
  assert.equal((reply.content as { ename?: string }).ename, 'KeyboardInterrupt');
  assert.ok(latency < 1000, `interrupt took ${latency} ms`);
  await assertAlive(k);
});

test("%time prints IPython's CPU/Wall lines, returns the value, and awaits", async () => {
  const r = await k.client.execute('%time await sleep(50); 6 * 7');
  assert.equal(r.reply.content.status, 'ok');
  const text = ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('');
  assert.match(text, /^CPU times: user [\d.]+ (ns|μs|ms|s), sys: [\d.]+ (ns|μs|ms|s), total: [\d.]+ (ns|μs|ms|s)\nWall time: ([\d.]+) (ms|s)\n$/);
  const wall = /Wall time: ([\d.]+) ms/.exec(text);
  assert.ok(wall && Number(wall[1]) >= 49 && Number(wall[1]) < 150, `wall ${wall?.[1]}`);
  assert.equal(String(content<DisplayContent>(ofType(r.iopub, 'execute_result')[0]).data['text/plain']), '42');
  const cell = await k.client.execute('%%time\nlet t = 0;\nfor (let i = 0; i < 1e6; i++) t += i;\nt');
  assert.equal(String(content<DisplayContent>(ofType(cell.iopub, 'execute_result')[0]).data['text/plain']), '499999500000');
});

test('%lsmagic lists the magics and %timeit? pages its help', async () => {
  const ls = await k.client.execute('%lsmagic');
  const text = String(lastBundle(ls.iopub)['text/plain']);
  for (const m of ['%timeit', '%%timeit', '%time', '%%time', '%lsmagic']) assert.ok(text.includes(m), `lists ${m}`);
  const help = await k.client.execute('%timeit?');
  const payload = (help.reply.content as { payload: Array<{ source: string; data: Record<string, string> }> }).payload;
  assert.equal(payload[0]?.source, 'page');
  assert.match(payload[0].data['text/plain'], /-n N/);
});

test('a magic line between statements runs in order in the cell scope', async () => {
  const r = await k.client.execute('let before = 1;\nconsole.log("A");\n%timeit -q -n 1 -r 1 before++\nconsole.log("B", before);\nbefore');
  const text = ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('');
  assert.equal(text, 'A\nB 2\n');
});
