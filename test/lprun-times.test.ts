// %lprun's Time column through a real kernel: there for any statement of a millisecond or more,
// a line's time includes what it calls (line_profiler's semantics), the column adds up to the
// Total time it prints, and line_profiler's -u, -s and caught exit behave as line_profiler's do.
// line_profiler itself (Debian python3-line-profiler) judges the spin twin when it is installed.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { content, evalOk, ofType, type DisplayContent } from './helpers/kernel.js'

let k: LaunchedKernel
const dir = mkdtempSync(join(tmpdir(), 'tsprof-lptimes-'))
before(async () => {
  k = await launchKernel({ cwd: dir })
})
after(async () => {
  await k.stop()
  rmSync(dir, { recursive: true, force: true })
})

// Written without semicolons on purpose: the probes must not join `let x = 0` to the `while`.
const SPIN = `function spin(ms) { const t = performance.now(); let x = 0
  while (performance.now() - t < ms) x++
  return x }`

interface Table {
  unit: number
  functions: Array<{ name: string; total: number; rows: Array<{ line: number; hits?: number; time?: number; percent?: number; contents: string }> }>
}

/** Parse line_profiler's text layout: `Timer unit:`, then per function `Total time:` and the rows. */
function parse(text: string): Table {
  const unit = Number(/^Timer unit: (\S+) s$/m.exec(text)?.[1])
  const functions: Table['functions'] = []
  for (const block of text.split(/^Total time: /m).slice(1)) {
    const total = Number(/^(\S+) s$/m.exec(block)?.[1])
    const name = /^Function: (\S+) at line/m.exec(block)?.[1] ?? ''
    const rows: Table['functions'][number]['rows'] = []
    const body = block.split(/^=+$/m)[1] ?? ''
    for (const l of body.split('\n')) {
      const m = /^ {0,5}(\d+) ( {0,8}\d*) ( {0,11}[\d.]*) ( {0,7}[\d.]*) ( {0,7}[\d.]*)  (.*)$/.exec(l)
      if (!m) continue
      const num = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s))
      rows.push({ line: Number(m[1]), hits: num(m[2]), time: num(m[3]), percent: num(m[5]), contents: m[6] })
    }
    functions.push({ name, total, rows })
  }
  return { unit, functions }
}

async function lprun(line: string): Promise<{ text: string; status: string; stdout: string; stalled: boolean }> {
  const r = await k.client.execute(line)
  const shown = ofType(r.iopub, 'display_data').map((m) => String(content<DisplayContent>(m).data['text/plain']))
  const stdout = ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('')
  // -x on an overloaded machine: the clock thread got too little CPU, and the magic says so.
  const stalled = shown.some((t) => t.startsWith('The clock thread waited for a CPU'))
  return { text: shown.find((t) => t.startsWith('Timer unit:')) ?? '', status: String(r.reply.content.status), stdout, stalled }
}

/** The Time column adds up to the printed Total time: each printed figure is rounded to 0.1 unit. */
function assertAddsUp(t: Table): void {
  for (const f of t.functions) {
    const sum = f.rows.reduce((a, r) => a + (r.time ?? 0), 0) * t.unit
    const slack = 0.05 * t.unit * f.rows.length + 1e-5 * f.total // %g keeps 6 digits of the total
    assert.ok(Math.abs(sum - f.total) <= slack, `${f.name}: Time column sums to ${sum} s, Total time ${f.total} s`)
  }
}

test('spin(20): the while line, which spends its time calling performance.now(), holds at least 90% of the time', async () => {
  await evalOk(k, SPIN)
  for (const flags of ['', '-x ']) {
    const { text, status, stalled } = await lprun(`%lprun ${flags}-f spin spin(20)`)
    assert.equal(status, 'ok')
    const t = parse(text)
    assertAddsUp(t)
    if (stalled) continue
    const rows = t.functions[0].rows
    const loop = rows.find((r) => r.contents.includes('while'))
    assert.ok((loop?.percent ?? 0) >= 90, `${flags || 'default'}: the while line has ${loop?.percent}%\n${text}`)
    // The function ran at least 20 ms of wall time; the profile cannot say less.
    assert.ok(t.functions[0].total >= 0.019, `${flags || 'default'}: Total time ${t.functions[0].total} s`)
    assertAddsUp(t)
  }
})

test('a 2 ms statement gets real figures in the Time column by default, in one run', async () => {
  await evalOk(k, SPIN)
  await evalOk(k, 'let spinRuns = 0\nfunction counted(ms) { spinRuns++\n  return spin(ms) }')
  const { text, stdout } = await lprun('%lprun -f counted counted(2)')
  const t = parse(text)
  assert.ok(t.functions[0].total > 0, `Time column empty:\n${text}`)
  assert.ok(!stdout.includes('No sample landed'))
  const call = t.functions[0].rows.find((r) => r.contents.includes('return spin'))
  assert.ok((call?.time ?? 0) > 0, 'the line that calls spin carries its time')
  assertAddsUp(t)
  assert.equal(await evalOk(k, 'spinRuns'), '1', 'the statement ran once')
})

test('every result adds up: primes by default and with -x, with -u 1e-3', async () => {
  await evalOk(k, `function primes(count: number): number[] {
  const found: number[] = []
  let candidate = 2
  while (found.length < count) {
    let isPrime = true
    for (const p of found) {
      if (p * p > candidate) break
      if (candidate % p === 0) { isPrime = false; break }
    }
    if (isPrime) found.push(candidate)
    candidate++
  }
  return found
}`)
  for (const line of ['%lprun -f primes primes(5000)', '%lprun -x -f primes primes(5000)', '%lprun -u 1e-3 -f primes -f spin primes(5000)']) {
    const { text } = await lprun(line)
    const t = parse(text)
    assert.ok(t.functions.length >= 1, `${line}:\n${text}`)
    assertAddsUp(t)
  }
})

test('-u 1e-3 prints "Timer unit: 0.001 s" and the Time column in milliseconds', async () => {
  await evalOk(k, SPIN)
  const { text } = await lprun('%lprun -u 1e-3 -f spin spin(20)')
  assert.match(text, /^Timer unit: 0\.001 s$/m)
  assert.doesNotMatch(text, /Output unit/)
  const t = parse(text)
  const loop = t.functions[0].rows.find((r) => r.contents.includes('while'))
  assert.ok((loop?.time ?? 0) >= 18 && (loop?.time ?? 0) < 2000, `the while line shows ${loop?.time} ms`)
  assertAddsUp(t)
})

test('-s leaves out functions with no time recorded, as line_profiler\'s strip zeros', async () => {
  await evalOk(k, SPIN)
  await evalOk(k, 'function never() {\n  return 1\n}')
  const all = parse((await lprun('%lprun -f spin -f never spin(5)')).text)
  assert.deepEqual(all.functions.map((f) => f.name), ['spin', 'never'])
  const stripped = parse((await lprun('%lprun -s -f spin -f never spin(5)')).text)
  assert.deepEqual(stripped.functions.map((f) => f.name), ['spin'])
})

test('process.exit() in the statement: the profile is printed with line_profiler\'s caught-exception line', async () => {
  await evalOk(k, SPIN)
  await evalOk(k, 'function quits() {\n  spin(10)\n  process.exit(3)\n}')
  for (const flags of ['', '-x ']) {
    const { text, status, stalled } = await lprun(`%lprun ${flags}-f quits quits()`)
    assert.equal(status, 'ok')
    assert.match(text, /^\*\*\* process\.exit\(3\) exception caught in code being profiled\.$/m)
    const t = parse(text)
    assert.equal(t.functions[0].rows.find((r) => r.contents.includes('process.exit'))?.hits, 1)
    assert.ok(t.functions[0].total > 0 || stalled)
  }
  assert.equal(await evalOk(k, '1 + 1'), '2', 'the kernel lives on')
})

test('line_profiler on the Python twin agrees: the loop holds the time', { skip: !existsSync('/usr/lib/python3/dist-packages/line_profiler') && 'python3-line-profiler is not installed' }, async () => {
  const py = join(dir, 'spin.py')
  writeFileSync(py, `import time, io
from line_profiler import LineProfiler
def spin(ms):
    t = time.perf_counter(); x = 0
    while (time.perf_counter() - t) * 1e3 < ms: x += 1
    return x
lp = LineProfiler(spin)
lp.runcall(spin, 20)
s = io.StringIO()
lp.print_stats(stream=s)
print(s.getvalue())
`)
  const t = parse(execFileSync('/usr/bin/python3', [py], { encoding: 'utf8' }))
  const pyLoop = t.functions[0].rows.find((r) => r.contents.includes('while'))
  assert.ok((pyLoop?.percent ?? 0) >= 90, `line_profiler: ${pyLoop?.percent}%`)
  await evalOk(k, SPIN)
  const ours = parse((await lprun('%lprun -f spin spin(20)')).text).functions[0].rows.find((r) => r.contents.includes('while'))
  assert.ok((ours?.percent ?? 0) >= 90, `tsprof: ${ours?.percent}%`)
})
