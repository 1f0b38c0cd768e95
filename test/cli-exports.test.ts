// Every export of `tsprof prun` (and of the line profilers), read back by the tool its users would
// open it with — callgrind_annotate (valgrind), go tool pprof, speedscope's own app (headless
// Chromium) for .cpuprofile and speedscope JSON, pprof-format, speedscope's JSON schema — and
// their totals compared with the table tsprof printed in the same run.
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Ajv } from 'ajv'
import { Profile } from 'pprof-format'
import { EXAMPLES, lineTables, pstatsRows, tsprof, type PstatsRow } from './helpers/cli.js'
import { readWithSpeedscope } from './helpers/speedscope.js'

const dir = mkdtempSync(join(tmpdir(), 'tsprof-exports-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const out = (name: string) => join(dir, name)

let rows: PstatsRow[] = []
let calls = 0
/** Seconds of sampled time in the table: the sum of tottime (each row rounded to 1 ms). */
let tableTotal = 0

before(async () => {
  // fib(27) runs a few ms: on a loaded machine V8's sampler thread can miss all of it (seen once:
  // 8 samples, none in fib). Up to three runs, until fib has sampled time; every export compared
  // below comes from the last run, with its table.
  let r: Awaited<ReturnType<typeof tsprof>>
  for (let attempt = 1; ; attempt++) {
    r = await tsprof(['prun', '-o', out('fib.cpuprofile'), '-o', out('callgrind.out.fib'), '-o', out('fib.pb.gz'), '-o', out('fib.speedscope.json'), '-o', out('fib.txt'), join(EXAMPLES, 'fib.ts'), '27'])
    assert.equal(r.code, 0, r.stderr)
    rows = pstatsRows(r.stdout)
    if (attempt === 3 || (rows.find((x) => /\(fib\)$/.test(x.label))?.tottime ?? 0) > 0) break
  }
  calls = Number(/(\d+) function calls/.exec(r.stdout)![1])
  tableTotal = rows.reduce((a, x) => a + x.tottime, 0)
  assert.ok(rows.length > 0 && tableTotal > 0, r.stdout)
  assert.equal(readFileSync(out('fib.txt'), 'utf8'), r.stdout.slice(r.stdout.indexOf('\n') + 1), 'the .txt is the table printed')
})

/** A figure rounded to ms per row agrees with an exact one within half a ms per row. */
const near = (tableSeconds: number, exactSeconds: number, rowCount: number) =>
  assert.ok(Math.abs(tableSeconds - exactSeconds) <= 0.0005 * rowCount + 1e-6, `table ${tableSeconds} s vs export ${exactSeconds} s`)

const fibRow = () => rows.find((x) => /\(fib\)$/.test(x.label))!

test('callgrind: callgrind_annotate reads the totals, the exact calls and each function\'s self time', () => {
  const text = execFileSync('callgrind_annotate', [out('callgrind.out.fib')], { encoding: 'utf8' })
  assert.match(text, /Events recorded:\s+Samples Cpu_ns Calls/)
  const num = (s: string) => Number(s.replace(/,/g, ''))
  const totals = /^\s*([\d,]+) \([\d.]+%\)\s+([\d,]+) \([\d.]+%\)\s+([\d,]+) \([\d.]+%\)\s+PROGRAM TOTALS/m.exec(text)
  assert.ok(totals, text)
  assert.equal(num(totals[3]), calls, 'Calls: the header\'s exact count')
  near(tableTotal, num(totals[2]) / 1e9, rows.length)
  const fib = new RegExp(`^\\s*([\\d,]+) \\([\\d. ]+%\\)\\s+([\\d,]+) \\([\\d. ]+%\\)\\s+([\\d,]+) \\([\\d. ]+%\\)\\s+\\S*fib\\.ts:fib `, 'm').exec(text)
  assert.ok(fib, text)
  assert.equal(num(fib[3]), fibRow().ncalls)
  near(fibRow().tottime, num(fib[2]) / 1e9, 1)
})

test('pprof: go tool pprof -top reads the total and fib\'s flat time; pprof-format decodes the samples', () => {
  const text = execFileSync('go', ['tool', 'pprof', '-top', '-unit=us', out('fib.pb.gz')], { encoding: 'utf8', env: { ...process.env, HOME: dir, GOFLAGS: '', GOPROXY: 'off', GOTOOLCHAIN: 'local' } })
  const total = /of ([\d.]+)us total/.exec(text)
  assert.ok(total, text)
  near(tableTotal, Number(total[1]) / 1e6, rows.length)
  const fib = /^\s*([\d.]+)us\s+[\d.]+%\s+[\d.]+%\s+[\d.]+us\s+[\d.]+%\s+fib$/m.exec(text)
  assert.ok(fib, text)
  near(fibRow().tottime, Number(fib[1]) / 1e6, 1)

  const p = Profile.decode(gunzipSync(readFileSync(out('fib.pb.gz'))))
  const st = p.stringTable.strings
  assert.deepEqual(p.sampleType.map((v) => [st[Number(v.type)], st[Number(v.unit)]]), [['samples', 'count'], ['cpu', 'nanoseconds']])
  const cpu = p.sample.reduce((a, s) => a + Number(s.value[1]), 0)
  near(tableTotal, cpu / 1e9, rows.length)
  const cpuprofile = JSON.parse(readFileSync(out('fib.cpuprofile'), 'utf8')) as { samples: number[] }
  assert.equal(p.sample.reduce((a, s) => a + Number(s.value[0]), 0), cpuprofile.samples.length, 'one count per sample of the .cpuprofile')
})

test('speedscope JSON validates against speedscope\'s file-format schema', () => {
  const schema = JSON.parse(readFileSync(join(EXAMPLES, '..', '..', 'node_modules', 'speedscope', 'dist', 'release', 'file-format-schema.json'), 'utf8')) as object
  const file = JSON.parse(readFileSync(out('fib.speedscope.json'), 'utf8')) as { profiles: Array<{ weights: number[]; unit: string }> }
  const validate = new Ajv({ strict: false }).compile(schema)
  assert.ok(validate(file), JSON.stringify(validate.errors))
  assert.equal(file.profiles[0].unit, 'nanoseconds')
  near(tableTotal, file.profiles[0].weights.reduce((a, b) => a + b, 0) / 1e9, rows.length)
})

test('speedscope itself opens the .cpuprofile and the speedscope JSON: same self time for fib as the table', async () => {
  const read = await readWithSpeedscope([out('fib.cpuprofile'), out('fib.speedscope.json')])
  for (const [file, sandwich] of read) {
    const fib = sandwich.find((r) => r.name === 'fib')
    assert.ok(fib, `${file}: ${JSON.stringify(sandwich)}`)
    near(fibRow().tottime, fib.selfMs / 1e3, 2)
    const selfSum = sandwich.reduce((a, r) => a + r.selfMs, 0) / 1e3
    near(tableTotal, selfSum, rows.length + sandwich.length)
  }
})

test('tsprof lprun -o: line costs in callgrind and pprof equal the table\'s hits', async () => {
  const r = await tsprof(['lprun', '-o', out('callgrind.out.primes'), '-o', out('primes.pb.gz'), join(EXAMPLES, 'primes.ts'), '1000'])
  assert.equal(r.code, 0, r.stderr)
  const table = lineTables(r.stdout).get('primes')!
  const hits = table.reduce((a, l) => a + (l.hits ?? 0), 0)
  const text = execFileSync('callgrind_annotate', [out('callgrind.out.primes')], { encoding: 'utf8' })
  const totals = /^\s*([\d,]+) \([\d.]+%\)\s+([\d,]+) \([\d.]+%\)\s+([\d,]+) \([\d.]+%\)\s+PROGRAM TOTALS/m.exec(text)
  assert.ok(totals, text)
  assert.equal(Number(totals[1].replace(/,/g, '')), hits, 'Hits: every line\'s hits (the function line carries its calls)')
  const p = Profile.decode(gunzipSync(readFileSync(out('primes.pb.gz'))))
  assert.equal(p.sample.reduce((a, s) => a + Number(s.value[0]), 0), hits)
  const st = p.stringTable.strings
  const yieldLine = table.find((l) => l.contents.includes('yield n;'))!
  const loc = p.location.find((l) => Number(l.line[0].line) === yieldLine.line)!
  assert.equal(Number(p.sample.find((s) => Number(s.locationId[0]) === Number(loc.id))!.value[0]), 1000)
  assert.equal(st[Number(p.function[0].name)], 'primes')
})
