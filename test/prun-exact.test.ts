// %prun by default: exact calls of every function defined in the cells (cProfile's promise), times
// sampled in the same run, and every figure of one output in agreement — through a real kernel.
// Ground truth: counters written by the test itself, cProfile on the Python twin, the files %prun writes.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { PROFILE_MIME, type ProfileBundle } from '../magics/render/profile-bundle.js'
import { VEGALITE_MIME } from '../magics/render/vegalite.js'
import { content, evalOk, ofType, streamText, type DisplayContent } from './helpers/kernel.js'

let k: LaunchedKernel
const dir = mkdtempSync(join(tmpdir(), 'tsprof-prun-exact-'))
before(async () => {
  writeFileSync(join(dir, 'helpers.mjs'), 'export function twice(n) {\n  return 2 * n\n}\n')
  k = await launchKernel({ cwd: dir })
  await evalOk(k, `function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
function spin(ms: number) {
  const t = performance.now()
  let x = 0
  while (performance.now() - t < ms) x++
  return x
}`)
})
after(async () => {
  await k.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Naive fib(n) makes 2·F(n+1) − 1 calls: F(28) = 317,811. */
const FIB27_CALLS = 2 * 317811 - 1

type Prun = Extract<ProfileBundle, { kind: 'prun' }>

/** Run a %prun cell; its text, its profile bundle and its charts. */
async function prun(code: string) {
  const r = await k.client.execute(code, { timeoutMs: 60_000 })
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  const shown = ofType(r.iopub, 'display_data').map((m) => content<DisplayContent>(m).data)
  const main = shown.find((d) => d[PROFILE_MIME])
  const charts = shown.filter((d) => d[VEGALITE_MIME]).map((d) => d[VEGALITE_MIME] as { title?: string | { text: string } })
  return { text: String(main?.['text/plain'] ?? ''), bundle: main?.[PROFILE_MIME] as Prun | undefined, charts, stdout: streamText(r.iopub, 'stdout') }
}

interface Row { calls?: number; primitive?: number; tottime: number; cumtime: number; label: string }

/** Every figure of pstats' text: the header and each row. */
function parse(text: string) {
  const h = /^\s+(\d+) function calls(?: \((\d+) primitive calls\))? in ([\d.]+) seconds$/m.exec(text)
  assert.ok(h, `a pstats header:\n${text}`)
  const rows: Row[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*(?:(\d+)(?:\/(\d+))?|-)\s+([\d.]+)\s+(?:[\d.]+|-)\s+([\d.]+)\s+(?:[\d.]+|-)\s+(\S.*)$/.exec(line)
    if (m) rows.push({ calls: m[1] === undefined ? undefined : Number(m[1]), primitive: m[1] === undefined ? undefined : Number(m[2] ?? m[1]), tottime: Number(m[3]), cumtime: Number(m[4]), label: m[5] })
  }
  const note = /Times from (\d+) samples? \(.*\), covering ([\d.]+) ms of ([\d.]+) ms/.exec(text)
  return { calls: Number(h[1]), primitive: Number(h[2] ?? h[1]), seconds: Number(h[3]), rows, note: note && { samples: Number(note[1]), sampledMs: Number(note[2]), wallMs: Number(note[3]) } }
}

const titleOf = (c: { title?: string | { text: string } }) => (typeof c.title === 'string' ? c.title : c.title?.text ?? '')

test('%prun fib(25): 242785/1 calls of fib as cProfile counts them, with non-zero tottime', async () => {
  const { text } = await prun('%prun fib(25)')
  const p = parse(text)
  const fib = p.rows.find((r) => r.label === 'cell-1:1(fib)')
  assert.ok(fib, text)
  // cProfile on the Python twin is the judge of the count and of the total/primitive form.
  const py = execFileSync('python3', ['-c', 'import cProfile, pstats, io\ndef fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)\npr = cProfile.Profile(); pr.enable(); fib(25); pr.disable()\ns = io.StringIO(); pstats.Stats(pr, stream=s).print_stats("fib"); print(s.getvalue())'], { encoding: 'utf8' })
  const twin = /^\s*(\d+)\/(\d+)\s.*\(fib\)$/m.exec(py)
  assert.ok(twin, py)
  assert.deepEqual([fib.calls, fib.primitive], [Number(twin[1]), Number(twin[2])])
  assert.deepEqual([fib.calls, fib.primitive], [242785, 1])
  assert.match(text, /^ 242785\/1 /m, 'pstats prints total/primitive for a recursive function')
  assert.ok(fib.tottime > 0, `fib has time: ${text}`)
  assert.match(text, /^\s+\d+ function calls \(\d+ primitive calls\) in [\d.]+ seconds$/m)
})

test('%prun of a ~1 ms statement shows its functions with exact calls and sampled time', async () => {
  await evalOk(k, 'function work() { let s = 0; for (let i = 0; i < 3; i++) s += spin(0.4); return s }')
  // Up to three attempts: load on this shared machine can starve the sampler thread, never add samples.
  let samples = 0
  for (let attempt = 0; attempt < 3 && samples === 0; attempt++) {
    const { text, bundle } = await prun('%prun work()')
    const p = parse(text)
    const work = p.rows.find((r) => r.label.endsWith('(work)'))
    const spinRow = p.rows.find((r) => r.label.endsWith('(spin)'))
    assert.ok(work && spinRow, text)
    assert.equal(work.calls, 1)
    assert.equal(spinRow.calls, 3)
    assert.ok(p.seconds >= 0.0012, `ran at least 1.2 ms: ${p.seconds}`)
    samples = bundle!.samples!
    // No samples is never silent.
    assert.equal(/No sample landed in the statement/.test(text), samples === 0, text)
    // The first 3 ms are sampled every 50 µs: a 1.2 ms statement gets samples, and its time is spin's.
    if (samples > 0) assert.ok(spinRow.cumtime > 0 || work.cumtime > 0, text)
  }
  assert.ok(samples > 0, 'samples landed in a 1.2 ms statement')
})

test('%%prun counts the functions its own body defines', async () => {
  const { text } = await prun(`%%prun -s name
function inc(n: number): number { return n + 1 }
const twiceInc = (x: number) => inc(x) * 2
function down(n: number): number { return n ? down(n - 1) : 0 }
let acc = 0
for (let i = 0; i < 1000; i++) acc += twiceInc(i)
down(10)`)
  const p = parse(text)
  const calls = (fn: string) => p.rows.find((r) => r.label.endsWith(`(${fn})`))
  assert.deepEqual([calls('inc')?.calls, calls('twiceInc')?.calls], [1000, 1000], text)
  assert.deepEqual([calls('down')?.calls, calls('down')?.primitive], [11, 1], text)
  // Defined by the statement, counted again by a later %prun (its counters never mix with the later run's).
  const again = parse((await prun('%prun [1, 2].map(twiceInc)')).text)
  assert.equal(again.rows.find((r) => r.label.endsWith('(inc)'))?.calls, 2)
})

test('every figure of one %prun output agrees: header, rows, note, bundle and flame root', async () => {
  const { text, bundle, charts } = await prun('%prun -s cumulative { fib(27); spin(20) }')
  assert.ok(bundle)
  const p = parse(text)
  // Calls: the header is the sum of the rows (none left out by a limit here).
  assert.equal(p.calls, p.rows.reduce((a, r) => a + (r.calls ?? 0), 0))
  assert.equal(p.primitive, p.rows.reduce((a, r) => a + (r.primitive ?? 0), 0))
  assert.equal(bundle.rows.find((r) => r.name === 'fib')!.ncalls, FIB27_CALLS)
  // Times: tottimes add up to at most the wall time, no cumtime exceeds it (rounding: 0.001 per row).
  const slack = 0.0005 * (p.rows.length + 1)
  assert.ok(p.rows.reduce((a, r) => a + r.tottime, 0) <= p.seconds + slack, text)
  for (const r of p.rows) assert.ok(r.cumtime <= p.seconds + 0.0005, `cumtime ${r.cumtime} ≤ wall ${p.seconds}: ${r.label}`)
  // The bundle is the same run: its wall is the header's, its rows the table's.
  assert.equal(bundle.wall.toFixed(3), p.seconds.toFixed(3))
  for (const r of p.rows) {
    const b: Prun['rows'][number] = bundle.rows.find((x) => x.label === r.label)!
    assert.equal(b.tottime.toFixed(3), r.tottime.toFixed(3))
    assert.equal(b.cumtime.toFixed(3), r.cumtime.toFixed(3))
  }
  // The flame graph's root is the sampled time the note quotes, within the wall time, and most of it
  // for a CPU-bound statement.
  const rootMs = bundle.flame.totalMs
  assert.ok(p.note, text)
  assert.equal(p.note.sampledMs.toFixed(2), rootMs.toFixed(2))
  assert.equal(p.note.wallMs.toFixed(2), (bundle.wall * 1e3).toFixed(2))
  assert.equal(p.note.samples, bundle.samples)
  assert.ok(rootMs <= bundle.wall * 1e3 + 0.01, `root ${rootMs} ms ≤ wall ${bundle.wall * 1e3} ms`)
  assert.ok(rootMs >= 0.5 * bundle.wall * 1e3, `root ${rootMs} ms covers most of wall ${bundle.wall * 1e3} ms`)
  const selfSum = bundle.rows.reduce((a, r) => a + r.tottime, 0) * 1e3
  assert.ok(Math.abs(selfSum - rootMs) < 0.01, `self times add up to the root: ${selfSum} vs ${rootMs}`)
  // spin(20) busy-waits 20 ms: its cumtime holds them.
  const spinRow = p.rows.find((r) => r.label.endsWith('(spin)'))!
  assert.ok(spinRow.cumtime >= 0.010 && spinRow.cumtime <= p.seconds, text)
  const flame = charts.find((c) => titleOf(c).startsWith('flame graph'))
  assert.ok(flame && titleOf(flame).includes(`${rootMs.toFixed(2)} ms sampled`), titleOf(flame ?? {}))
})

test('a flame graph from a few samples says so', async () => {
  const { bundle, charts, text } = await prun('%prun -i 40000 spin(120)')
  assert.ok(bundle)
  const n = bundle.samples!
  const flame = charts.find((c) => titleOf(c).startsWith('flame graph'))
  if (n === 0) assert.match(text, /No sample landed in the statement/)
  else {
    assert.ok(n < 10, `few samples at 40 ms: ${n}`)
    assert.ok(flame, text)
    assert.match(titleOf(flame), new RegExp(`from ${n} samples? only: a sketch, not a measurement`))
    assert.match(text, new RegExp(`Only ${n} samples?: the times are rough`))
  }
})

test('%prun -D of a statement no sample landed in says the file holds no samples', async () => {
  const file = join(dir, 'short.cpuprofile')
  const { stdout } = await prun(`%prun -q -i 1000000 -D ${file} fib(20)`)
  const written = JSON.parse(readFileSync(file, 'utf8')) as { samples: number[] }
  assert.match(stdout, /\*\*\* Profile stats saved to/)
  assert.equal(/holds no samples/.test(stdout), written.samples.length === 0, stdout)
  assert.equal(written.samples.length, 0, 'a 1 s interval lands no sample in fib(20)')
})

test('cell functions of every form are counted exactly: methods, getters, closures, arrows, async', async () => {
  await evalOk(k, `class Counter {
  #n = 0
  static make() { return new Counter() }
  bump() { return ++this.#n }
  get value() { return this.#n }
}
const adder = (k: number) => { return (x: number) => x + k }
const add2 = adder(2)
const double = (x: number) => x * 2
const pair = (x: number) => ({ x })
async function later(n: number) { await null; return n }
function fact(n: number): number { return n <= 1 ? 1 : n * fact(n - 1) }`)
  const r = await k.client.execute('const forms = %prun -q -r { const c = Counter.make(); for (let i = 0; i < 7; i++) c.bump(); c.value; for (let i = 0; i < 5; i++) add2(i); [1, 2, 3].map(double); pair(1); await later(1); fact(12) }\nconsole.log(JSON.stringify(forms.rows.map((r) => [r.fn.name, r.ncalls ?? null, r.pcalls ?? null])))')
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  const rows = JSON.parse(streamText(r.iopub, 'stdout')) as Array<[string, number | null, number | null]>
  const calls = (name: string) => rows.find(([n]) => n === name)
  assert.deepEqual(calls('make')?.slice(1), [1, 1])
  assert.deepEqual(calls('bump')?.slice(1), [7, 7])
  assert.deepEqual(calls('value')?.slice(1), [1, 1])
  assert.deepEqual(calls('double')?.slice(1), [3, 3])
  assert.deepEqual(calls('pair')?.slice(1), [1, 1])
  assert.deepEqual(calls('later')?.slice(1), [1, 1])
  assert.deepEqual(calls('fact')?.slice(1), [12, 1])
  // The closure made before the run is counted too (LiveEdit patched it in place).
  assert.ok(rows.some(([n, c]) => n === '<anonymous>' && c === 5), JSON.stringify(rows))
})

test('counters are gone after the run: the functions are back to their originals', async () => {
  await prun('%prun -q fib(15)')
  assert.equal(await evalOk(k, "fib.toString().includes('__tsprof')"), 'false')
  assert.equal(await evalOk(k, 'fib(20)'), '6765')
})

test('functions from files: - without -c, exact with -c in the same run, and -c reports times, not zeros', async () => {
  await evalOk(k, "const { twice } = await import('./helpers.mjs')")
  const plain = parse((await prun('%prun -l twice { let s = 0; for (let i = 0; i < 200000; i++) s += twice(i) }')).text)
  const row = plain.rows.find((r) => r.label.endsWith('(twice)'))
  if (row) assert.equal(row.calls, undefined, 'not counted without -c')
  const { text } = await prun('%prun -c { let s = 0; for (let i = 0; i < 200000; i++) s += twice(i); fib(27) }')
  const p = parse(text)
  assert.equal(p.rows.find((r) => r.label.endsWith('(twice)'))?.calls, 200000, text)
  const fib = p.rows.find((r) => r.label.endsWith('(fib)'))!
  assert.deepEqual([fib.calls, fib.primitive], [FIB27_CALLS, 1])
  assert.ok(fib.tottime > 0, `-c has times: ${text}`)
})

// IPython's test_magic.py, %prun tests (IPython/core/tests/test_magic.py, 2026-08).

test('test_prun_special_syntax', async () => {
  // IPython registers a line magic that stores its line and runs it under %prun, line and cell
  // mode. User-defined magics are Python-only, so a built-in magic line (%time) stands in; the
  // statement it runs stores the line, as lmagic does.
  const line = await k.client.execute('%prun -q %time globalThis.lmagicOut = "my line"')
  assert.equal(line.reply.content.status, 'ok', JSON.stringify(line.reply.content))
  assert.equal(await evalOk(k, 'lmagicOut'), "'my line'")
  const cell = await k.client.execute('%%prun -q\n%time globalThis.lmagicOut = "my line2"')
  assert.equal(cell.reply.content.status, 'ok', JSON.stringify(cell.reply.content))
  assert.equal(await evalOk(k, 'lmagicOut'), "'my line2'")
})

test('test_prun_quotes', async () => {
  // `prun -q x = '\t'` keeps the escape: x is a tab.
  await prun("%prun -q var x = '\\t'")
  assert.equal(await evalOk(k, 'x === "\\t"'), 'true')
})

test('a long notebook: %prun recompiles the newest cells that define functions, not every cell, and says which it left', async () => {
  // Each recompile walks the heap (LiveEdit): with every cell recompiled, 200 cells made one %prun
  // take 20 s. Cells defining a name the statement mentions come first, whatever their age.
  const own = await launchKernel()
  try {
    await evalOk(own, 'function early(n: number): number { return n < 1 ? 0 : early(n - 1) + 1 }')
    for (let i = 0; i < 40; i++) await evalOk(own, `[1, 2, 3].map((x) => x * ${i}).length`)
    for (let i = 0; i < 30; i++) await evalOk(own, `const add${i} = (x: number) => x + ${i}`)
    const t = performance.now()
    const r = await own.client.execute('const lr = %prun -r -q early(10) + add29(1) + add0(1)\nconsole.log(JSON.stringify([lr.get("early")?.ncalls, lr.get("early")?.pcalls, lr.get("add29")?.ncalls, lr.get("add0")?.ncalls ?? null, lr.notes.join(" / ")]))', { timeoutMs: 60_000 })
    const ms = performance.now() - t
    const [early, earlyPrimitive, add29, add0, notes] = JSON.parse(streamText(r.iopub, 'stdout')) as [number, number, number, number | null, string]
    assert.equal(early, 11, 'the oldest cell, counted: it defines a name the statement mentions')
    assert.equal(earlyPrimitive, 1)
    assert.equal(add29, 1)
    assert.equal(add0, 1, 'mentioned too, though older than the newest 24 defining cells')
    assert.match(notes, /calls in \d+ older cells not counted .*-c counts every function/, 'the 40 callback cells are left, and said so')
    assert.ok(ms < 20_000, `one %prun in a notebook of 71 cells took ${ms.toFixed(0)} ms`)
  } finally {
    await own.stop()
  }
})
