// %memit and %mprof through a real kernel, against ground truth the test knows: the bytes a typed
// array or a double array occupies, a spike the statement frees before it returns, step sizes and
// call counts it chose, a child process's allocation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { renderSvg, VEGALITE_MIME, type VegaLiteSpec } from '../magics/render/vegalite.js';
import { assertAlive, content, errorOf, evalOk, ofType, startExecute, withTimeout, type DisplayContent } from './helpers/kernel.js';

const MiB = 1024 * 1024;
let k: LaunchedKernel;
const dir = mkdtempSync(join(tmpdir(), 'tsprof-mem-'));
before(async () => {
  k = await launchKernel({ cwd: dir });
  await evalOk(k, `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Hold \`bytes\` (written, so resident) for \`ms\`, then drop them and collect: a spike. */
function spike(bytes: number, ms: number) {
  return new Promise<void>((resolve) => {
    let a: Uint8Array | null = new Uint8Array(bytes).fill(1);
    setTimeout(() => { a = null; gc(); gc(); resolve(); }, ms);
  });
}
const rssMiB = async () => { gc(); gc(); await sleep(20); return process.memoryUsage().rss / 2 ** 20; };`);
});
after(async () => {
  await k.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Exec = Awaited<ReturnType<LaunchedKernel['client']['execute']>>;

/** Run a cell whose last line is an expression; returns that value, sent through JSON on stdout. */
async function json<T>(code: string, kernel = k): Promise<T> {
  const lines = code.split('\n');
  const last = lines.pop();
  const r = await kernel.client.execute([...lines, `console.log(JSON.stringify(${last}))`].join('\n'), { timeoutMs: 120_000 });
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const text = ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('');
  return JSON.parse(text.trim().split('\n').at(-1)!) as T;
}

const shown = (r: Exec): Array<Record<string, unknown>> => ofType(r.iopub, 'display_data').map((m) => content<DisplayContent>(m).data);
const LINE = /^peak memory: (\d+\.\d\d) MiB, increment: (-?\d+\.\d\d) MiB$/;
const near = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance * expected, `${what}: ${actual.toFixed(3)} is not within ${tolerance * 100}% of ${expected.toFixed(3)}`);

interface Row { start: number; peak: number; increment: number; end: number; retained: number }
interface Memit {
  mem_usage: number[]; baseline: number; repeat: number; peak: number; increment: number; method: string; interval: number;
  rss: Row; heap: Row; external: Row; arrayBuffers: { start: number; end: number; increment: number; retained: number };
  runs: Array<{ peak: number; elapsed: number }>; sampled?: { interval: number; peak: number; increment: number; samples: number };
  children?: { peak: number; samples: number }; notes: string[]; text: string;
}
/** `%memit -o -q …` as JSON (getters included). */
async function memitJson(args: string, kernel = k): Promise<Memit> {
  return json<Memit>(`const __m = %memit -o -q ${args}\n({ ...__m, peak: __m.peak, increment: __m.increment, text: String(__m) })`, kernel);
}

test('%memit of a Float64Array(10,000,000): 76.3 MiB of ArrayBuffer at once; written, 76.3 MiB of RSS in memory_profiler\'s line', async () => {
  const truth = (10_000_000 * 8) / MiB; // 76.29 MiB
  const lazy = await k.client.execute('%memit globalThis.keep = new Float64Array(10_000_000)');
  assert.equal(lazy.reply.content.status, 'ok');
  const [bundle] = shown(lazy);
  const text = String(bundle['text/plain']);
  assert.match(text.split('\n')[0], LINE);
  assert.match(String(bundle['text/html']), /<table[\s\S]*RSS[\s\S]*JS heap used[\s\S]*V8 external[\s\S]*ArrayBuffers/);
  // Zero-filled memory is mapped lazily: V8 accounts for it, the OS does not until it is written.
  assert.match(text, /zero-filled buffers take physical memory only when their pages are first written/);
  await evalOk(k, 'delete globalThis.keep; gc(); gc();');
  const untouched = await memitJson('globalThis.keep = new Float64Array(10_000_000)');
  near(untouched.arrayBuffers.increment, truth, 0.05, 'ArrayBuffers increment');
  near(untouched.external.increment, truth, 0.05, 'external increment');

  const r = await k.client.execute('%memit globalThis.keep2 = new Float64Array(10_000_000).fill(1)');
  const line = String(shown(r)[0]['text/plain']).split('\n')[0];
  const m = LINE.exec(line);
  assert.ok(m, line);
  near(Number(m[2]), truth, 0.05, 'RSS increment of the written array (memory_profiler\'s line)');
  await evalOk(k, 'delete globalThis.keep; delete globalThis.keep2; gc(); gc();');
  const o = await memitJson('globalThis.keep3 = new Float64Array(10_000_000).fill(1)');
  near(o.increment, truth, 0.05, 'increment on the result object');
  near(o.rss.retained - o.rss.start, truth, 0.05, 'RSS still held after GC');
  await evalOk(k, 'delete globalThis.keep; delete globalThis.keep2; delete globalThis.keep3; gc(); gc();');
});

test('a 200 MB spike freed within 50 ms shows in the peak (exact VmHWM); the end is back near the start', async () => {
  const o = await memitJson('await spike(200_000_000, 20)');
  assert.equal(o.method, 'hwm');
  assert.ok(o.increment * MiB >= 190e6, `peak only ${o.increment.toFixed(1)} MiB above the start`);
  assert.ok(o.increment * MiB <= 215e6, `peak ${o.increment.toFixed(1)} MiB above the start: more than the spike`);
  assert.ok(Math.abs(o.rss.end - o.rss.start) < 10, `the end (${o.rss.end.toFixed(1)}) is not back near the start (${o.rss.start.toFixed(1)})`);
  // A poller that only looks before and after (a 1 s interval here) sees none of it.
  const p = await memitJson('-i 1 await spike(100_000_000, 20)');
  assert.ok(p.increment * MiB >= 95e6, `exact peak ${p.increment}`);
  assert.ok(p.sampled && p.sampled.increment < 10, `a 1 s poller reported ${p.sampled?.increment} MiB`);
  assert.ok(p.notes.some((n) => /would have reported an increment of/.test(n)), JSON.stringify(p.notes));
});

test('the JS heap peak is exact: a double array held (76.3 MiB) and a transient one freed inside the statement', async () => {
  const truth = (10_000_000 * 8) / MiB;
  const held = await memitJson('globalThis.dbl = new Array(10_000_000).fill(0.5)');
  near(held.heap.retained - held.heap.start, truth, 0.05, 'heap retained by the double array');
  assert.ok(held.heap.peak - held.heap.start >= truth * 0.98, `heap peak ${held.heap.peak - held.heap.start}`);
  await evalOk(k, 'delete globalThis.dbl; gc(); gc();');
  // Allocated and dropped inside a function that has returned before the statement's gc().
  const transient = await memitJson('{ ((): number => new Array(10_000_000).fill(0.5).length)(); gc(); }');
  assert.ok(transient.heap.peak - transient.heap.start >= truth * 0.98, `heap peak ${transient.heap.peak - transient.heap.start} MiB: the GCProfiler's beforeGC figure was missed`);
  assert.ok(transient.heap.end - transient.heap.start < 5, `heap at the end ${transient.heap.end - transient.heap.start} MiB above the start`);
});

test('-r 3 runs three times and reports the highest peak of the runs', async () => {
  await evalOk(k, 'globalThis.n = 0; globalThis.keepR = undefined; gc(); gc();');
  // Run k writes k × 20 MB while the previous run's buffer is still referenced: peaks +20, +60, +100 MB.
  const o = await memitJson('-r 3 globalThis.keepR = new Uint8Array(++globalThis.n * 20_000_000).fill(1)');
  assert.equal(await evalOk(k, 'globalThis.n'), '3');
  assert.equal(o.repeat, 3);
  assert.equal(o.mem_usage.length, 3);
  assert.equal(o.runs.length, 3);
  const over = o.mem_usage.map((p) => (p - o.baseline) * MiB / 1e6);
  for (const [i, expected] of [20, 60, 100].entries()) assert.ok(Math.abs(over[i] - expected) < 6, `run ${i + 1}: ${over[i].toFixed(1)} MB over the baseline, expected ${expected}`);
  assert.equal(o.peak, Math.max(...o.mem_usage));
  near(o.increment * MiB / 1e6, 100, 0.06, 'increment = the highest run');
  await evalOk(k, 'delete globalThis.keepR; gc(); gc();');
});

test('%%memit: the setup line runs once, before, and is not measured; await works in the body', async () => {
  const r = await k.client.execute(`%%memit -r 2 globalThis.setupRuns = (globalThis.setupRuns ?? 0) + 1; globalThis.setupBuf = new Uint8Array(100_000_000).fill(1)
globalThis.bodyRuns = (globalThis.bodyRuns ?? 0) + 1;
globalThis.bodyBuf = new Uint8Array(10_000_000).fill(1);`);
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const m = LINE.exec(String(shown(r)[0]['text/plain']).split('\n')[0]);
  assert.ok(m);
  assert.ok(Number(m[2]) < 20, `increment ${m[2]} MiB: the 95 MiB setup was measured`);
  // Run 2 writes its 10 MB while run 1's buffer is still referenced: the highest run is 2 × 10 MB.
  near(Number(m[2]), 20_000_000 / MiB, 0.1, 'increment = the body\'s 2 × 10 MB');
  assert.equal(await evalOk(k, '[globalThis.setupRuns, globalThis.bodyRuns, globalThis.setupBuf.length]'), '[ 1, 2, 100000000 ]');
  await evalOk(k, 'delete globalThis.setupBuf; delete globalThis.bodyBuf; gc(); gc();');

  // The allocation happens in a timer, after the statement's first await: it is still measured.
  const o = await memitJson('await new Promise((r) => setTimeout(() => { globalThis.late = new Uint8Array(50_000_000).fill(1); r(1); }, 50))');
  near(o.increment, 50_000_000 / MiB, 0.05, 'increment of an allocation after an await');
  assert.ok(o.runs[0].elapsed >= 0.045, `elapsed ${o.runs[0].elapsed}`);
  await evalOk(k, 'delete globalThis.late; gc(); gc();');
});

test('-o fields are consistent with each other and with the displayed line', async () => {
  const o = await memitJson('-r 2 globalThis.objs = Array.from({ length: 300_000 }, (_, i) => ({ i, s: "x" + i }))');
  assert.equal(o.peak, Math.max(...o.mem_usage));
  assert.ok(Math.abs(o.increment - (o.peak - o.baseline)) < 1e-9);
  assert.equal(o.text, `peak memory: ${o.peak.toFixed(2)} MiB, increment: ${o.increment.toFixed(2)} MiB`);
  assert.ok(Math.abs(o.rss.peak - o.peak) < 1e-9 && o.rss.start === o.baseline);
  for (const row of [o.rss, o.heap, o.external]) {
    assert.ok(row.peak >= row.start - 1e-9 && row.peak >= row.end - 1e-9, JSON.stringify(row));
    assert.ok(Math.abs(row.increment - (row.peak - row.start)) < 1e-9);
  }
  assert.ok(o.heap.increment > 5, `300,000 objects and strings: heap increment ${o.heap.increment} MiB`);
  assert.ok(o.heap.retained - o.heap.start > 5, 'the objects are still referenced after the GC');
  assert.equal(o.method, 'hwm');
  assert.equal(o.interval, 0);
  // Without -o nothing is returned; with -o the result displays as its line.
  const plain = await k.client.execute('%memit -q 1 + 1');
  assert.equal(ofType(plain.iopub, 'execute_result').length, 0);
  assert.equal(shown(plain).length, 0, '-q shows nothing');
  const withO = await k.client.execute('%memit -o -q 1 + 1');
  assert.match(String(content<DisplayContent>(ofType(withO.iopub, 'execute_result')[0]).data['text/plain']), LINE);
  await evalOk(k, 'delete globalThis.objs; gc(); gc();');
});

test('-c adds the RSS of child processes (a child that writes 150 MB)', async () => {
  await evalOk(k, `const { execFileSync } = await import('node:child_process');
const child = () => execFileSync(process.execPath, ['-e', 'const b = Buffer.alloc(150e6, 1); setTimeout(() => {}, 300)']);`);
  const withChildren = await memitJson('-c child()');
  assert.ok(withChildren.children && withChildren.children.peak >= 150e6 / MiB, `children peak ${withChildren.children?.peak} MiB`);
  assert.ok(withChildren.increment >= 150e6 / MiB, `increment with -c ${withChildren.increment} MiB`);
  const without = await memitJson('child()');
  assert.ok(without.increment < 20, `without -c the child's memory must not count: ${without.increment} MiB`);
});

test('-t: a spinning statement and a never-settling await are stopped with a TimeoutError; memory and SIGINT handling recover', async () => {
  const before = Number(await evalOk(k, 'await rssMiB()'));
  const listeners = await evalOk(k, 'await sleep(0); process.listenerCount("SIGINT")');
  const t0 = performance.now();
  const spin = await k.client.execute('%memit -t 0.5 { globalThis.spun = 0; const a = new Uint8Array(150_000_000).fill(1); while (true) globalThis.spun++; }', { timeoutMs: 20_000 });
  const ms = performance.now() - t0;
  const err = errorOf(spin);
  assert.equal(err.ename, 'TimeoutError');
  assert.match(err.evalue, /longer than the timeout \(-t 0\.5 s\) and was stopped/);
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.ok(Number(await evalOk(k, 'globalThis.spun')) > 0, 'the statement did run');
  const afterSpin = Number(await evalOk(k, 'await rssMiB()'));
  assert.ok(afterSpin - before < 20, `RSS ${afterSpin.toFixed(1)} MiB after the timeout vs ${before.toFixed(1)} before: the 143 MiB were not released`);

  const hang = await k.client.execute('%memit -t 0.3 await new Promise(() => {})', { timeoutMs: 20_000 });
  const e2 = errorOf(hang);
  assert.equal(e2.ename, 'TimeoutError');
  assert.match(e2.evalue, /while it was awaiting/);
  assert.equal(await evalOk(k, 'await sleep(0); process.listenerCount("SIGINT")'), listeners, 'the kernel\'s SIGINT listener is back');
  await assertAlive(k);
  // A user's interrupt during a -t run is still an interrupt, not a timeout.
  const cell = startExecute(k, '%memit -t 60 await sleep(30_000)');
  await new Promise((r) => setTimeout(r, 500));
  await k.client.request('control', 'interrupt_request', {}, 5000);
  const done = await withTimeout(cell.done, 10_000, 'the interrupted %memit');
  assert.equal(errorOf(done).ename, 'KeyboardInterrupt');
  await assertAlive(k);
});

test('a statement that throws: its own error, the kernel alive, the memory released', async () => {
  const before = Number(await evalOk(k, 'await rssMiB()'));
  const r = await k.client.execute('%memit { const a = new Uint8Array(150_000_000).fill(1); if (a.length) throw new RangeError("boom after allocating"); }');
  const err = errorOf(r);
  assert.equal(err.ename, 'RangeError');
  assert.equal(err.evalue, 'boom after allocating');
  const afterwards = Number(await evalOk(k, 'await rssMiB()'));
  assert.ok(afterwards - before < 20, `RSS ${afterwards} vs ${before}`);
  for (const bad of ['%memit', '%memit -r 0 1', '%memit -t soon 1', '%memit -x 1']) assert.equal(errorOf(await k.client.execute(bad)).ename, 'UsageError', bad);
  await assertAlive(k);
});

test('without clear_refs (TSPROF_NO_CLEAR_REFS=1) the peak is sampled, and the output says so', async () => {
  const k2 = await launchKernel({ cwd: dir, env: { ...process.env, TSPROF_NO_CLEAR_REFS: '1' } });
  try {
    await evalOk(k2, 'const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));');
    const r = await k2.client.execute('%memit { let a: Uint8Array | null = new Uint8Array(100_000_000).fill(1); await sleep(200); a = null; gc(); gc(); }');
    assert.equal(r.reply.content.status, 'ok');
    const text = String(shown(r)[0]['text/plain']);
    assert.match(text, /RSS peak sampled every 10 ms, not exact: disabled by TSPROF_NO_CLEAR_REFS/);
    const m = LINE.exec(text.split('\n')[0]);
    assert.ok(m && Number(m[2]) >= 90, text);
    const o = await memitJson('-i 0.02 { let a: Uint8Array | null = new Uint8Array(100_000_000).fill(1); await sleep(200); a = null; gc(); gc(); }', k2);
    assert.equal(o.method, 'sampled');
    assert.equal(o.interval, 0.02);
    assert.ok(o.increment >= 90, `sampled increment ${o.increment}`);
  } finally {
    await k2.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// %mprof

interface Marker { name: string; call: number; start: number; end: number | null; threw: boolean }
interface Summary { start: number; peak: number; end: number; retained: number; slope: number; onlyGrows: boolean }
interface Mprof {
  t: number[]; rss: number[]; heapUsed: number[]; external: number[]; markers: Marker[]; calls: Record<string, number>;
  summary: Record<'rss' | 'heapUsed' | 'external', Summary>; duration: number; leak: boolean; samples: number; rate: number;
}
async function mprofJson(args: string): Promise<Mprof> {
  return json<Mprof>(`const __p = %mprof -o -q ${args}\n({ ...__p, samples: __p.samples, rate: __p.rate })`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const STEPS = `const kept: Float64Array[] = [];
/** One step: 20 MiB written and kept, then 60 ms of waiting (an async function: its marker ends when it settles). */
async function step(i: number) { kept.push(new Float64Array(2_621_440).fill(i)); await sleep(60); }
async function grow(n: number) { for (let i = 0; i < n; i++) await step(i); }
async function churn(n: number) { for (let i = 0; i < n; i++) { await step(i); kept.pop(); } }`;

test('%mprof of 5 steps of 20 MiB: ≥ 100 Hz, 5 step markers in order, plateaus rising by 20 MiB, the leak hint', async () => {
  await evalOk(k, STEPS);
  const p = await mprofJson('-f step await grow(5)');
  assert.ok(p.rate >= 100, `sampled at ${p.rate.toFixed(1)} Hz`);
  assert.equal(p.samples, p.t.length);
  assert.equal(p.calls.step, 5);
  assert.equal(p.markers.length, 5);
  p.markers.forEach((m, i) => {
    assert.equal(m.name, 'step');
    assert.equal(m.call, i + 1);
    assert.ok(m.end !== null && m.end - m.start >= 0.055, `step ${i + 1} lasted ${m.end! - m.start} s: its end must be when its promise settled`);
    if (i > 0) assert.ok(m.start >= p.markers[i - 1].end!, 'steps do not overlap and come in order');
    assert.ok(m.start >= 0 && m.end! <= p.duration + 1e-3);
  });
  // The plateau of each step: the samples in the second half of its wait.
  for (const series of ['rss', 'external'] as const) {
    const plateaus = p.markers.map((m) => median(p.t.flatMap((t, i) => (t >= m.end! - 0.03 && t <= m.end! - 0.005 ? [p[series][i]] : []))));
    for (let i = 1; i < plateaus.length; i++) {
      const rise = plateaus[i] - plateaus[i - 1];
      assert.ok(Math.abs(rise - 20) <= 2, `${series}: plateau ${i + 1} is ${rise.toFixed(2)} MiB above plateau ${i} (expected 20): ${plateaus.map((x) => x.toFixed(1))}`);
    }
  }
  assert.equal(p.leak, true, 'memory only grew: the hint must fire');
  assert.ok(p.summary.external.onlyGrows && p.summary.external.slope > 0);
  near(p.summary.external.retained - p.summary.external.start, 100, 0.05, 'external still held after GC');
  await evalOk(k, 'kept.length = 0; gc(); gc();');
});

test('%mprof: no leak hint for a cell that allocates and releases (without calling gc itself)', async () => {
  const p = await mprofJson('-f step await churn(6)');
  assert.equal(p.calls.step, 6);
  assert.ok(p.summary.external.peak - p.summary.external.start >= 19, 'it did allocate');
  assert.equal(p.leak, false, JSON.stringify(p.summary));
});

test('%%mprof cell form shows the summary, the markers and a chart that compiles', async () => {
  const r = await k.client.execute('%%mprof -f step\nfor (let i = 0; i < 3; i++) await step(i);\nkept.length = 0;');
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const [summary, chart] = shown(r);
  assert.match(String(summary['text/plain']), /^mprof: \d\.\d{3} s, \d+ samples \(\d+ Hz\)/);
  assert.match(String(summary['text/plain']), /step: 3 calls/);
  assert.match(String(summary['text/html']), /<table/);
  const spec = chart[VEGALITE_MIME] as VegaLiteSpec;
  assert.equal(spec.$schema, 'https://vega.github.io/schema/vega-lite/v5.json');
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg/);
  assert.match(String(chart['image/svg+xml']), /step #3/);
  assert.match(String(chart['image/svg+xml']), /RSS/);
  await evalOk(k, 'gc(); gc();');
});

test('%mprof of an HTTP server on 127.0.0.1 under 200 requests: samples during the load, 200 handler markers, -D writes the series', async () => {
  await evalOk(k, `import http from 'node:http';
const cache: Buffer[] = [];
function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  cache.push(Buffer.alloc(64 * 1024, 1)); // 64 KiB kept per request
  res.end('ok');
}
async function serve(requests: number, concurrency = 10) {
  const server = http.createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const get = () => new Promise<string>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
    let s = ''; res.on('data', (d) => (s += d)); res.on('end', () => resolve(s));
  }).on('error', reject));
  let sent = 0, ok = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (sent < requests) { sent++; if ((await get()) === 'ok') ok++; } }));
  agent.destroy();
  await new Promise((r) => server.close(r));
  return ok;
}`);
  const file = join(dir, 'series.json');
  const p = await mprofJson(`-f handle -D ${file} globalThis.served = await serve(200)`);
  assert.equal(await evalOk(k, 'globalThis.served'), '200');
  assert.equal(p.calls.handle, 200);
  assert.equal(p.markers.length, 200);
  const first = p.markers[0].start;
  const last = Math.max(...p.markers.map((m) => m.end!));
  const during = p.t.filter((t) => t >= first && t <= last).length;
  assert.ok(during >= 5, `only ${during} samples while the server handled requests (${first.toFixed(3)}–${last.toFixed(3)} s)`);
  assert.ok(p.rate >= 100, `${p.rate} Hz`);
  near(p.summary.external.retained - p.summary.external.start, (200 * 64 * 1024) / MiB, 0.1, 'the cache (200 × 64 KiB) is still held');
  assert.equal(p.leak, true, 'the cache only grows');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { t: number[]; rss: number[]; markers: Marker[] };
  assert.equal(saved.t.length, p.samples);
  assert.equal(saved.markers.length, 200);
  // Shown: with many markers the chart draws bands and rules without labels; it compiles and renders.
  const r = await k.client.execute('%mprof -f handle await serve(50)');
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const chart = shown(r).find((d) => d[VEGALITE_MIME]);
  assert.ok(chart, 'a chart bundle');
  assert.match(await renderSvg(chart[VEGALITE_MIME] as VegaLiteSpec), /^<svg/);
  assert.match(String(shown(r)[0]['text/plain']), /handle: 50 calls/);
  await evalOk(k, 'cache.length = 0; gc(); gc();');
});

test('%mprof bad input: -f on a non-function, a throwing statement; bindings restored, memory released, kernel alive', async () => {
  const notFn = errorOf(await k.client.execute('%mprof -f step -f kept await grow(1)'));
  assert.equal(notFn.ename, 'UsageError');
  assert.match(notFn.evalue, /-f kept is not a function \(it is an array\)/);
  assert.equal(errorOf(await k.client.execute('%mprof -f nosuchfn 1')).ename, 'UsageError');
  assert.equal(errorOf(await k.client.execute('%mprof -i 0 1')).ename, 'UsageError');
  assert.equal(await evalOk(k, 'kept.length'), '0', 'nothing ran');
  const before = Number(await evalOk(k, 'await rssMiB()'));
  const externalBefore = Number(await evalOk(k, '(await import("node:v8")).getHeapStatistics().external_memory / 2 ** 20'));
  const thrown = errorOf(await k.client.execute('%mprof -f step { await grow(4); throw new TypeError("after growing"); }'));
  assert.equal(thrown.ename, 'TypeError');
  assert.equal(thrown.evalue, 'after growing');
  assert.equal(await evalOk(k, '(await import("node:util")).types.isProxy(step)'), 'false', 'the -f binding is restored after an error');
  assert.equal(await evalOk(k, 'kept.length'), '4');
  await evalOk(k, 'kept.length = 0');
  const afterwards = Number(await evalOk(k, 'await rssMiB()'));
  const externalAfter = Number(await evalOk(k, '(await import("node:v8")).getHeapStatistics().external_memory / 2 ** 20'));
  assert.ok(Math.abs(externalAfter - externalBefore) < 2, `external ${externalAfter} MiB vs ${externalBefore} before: the 80 MiB of steps were not released`);
  assert.ok(afterwards - before < 30, `RSS ${afterwards} vs ${before}: the 80 MiB of steps were not released`);
  await assertAlive(k);
});
