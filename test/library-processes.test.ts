// The library in processes of their own, as CI and production use it: a service watched by a real
// Prometheus server (Debian's), baselines written by a benchmark and checked by `tsprof baseline
// check` (exit code and table), and TypeScript 5 decorators compiled by tsc's transpiler and run.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import ts from 'typescript'
import { freePorts } from '../kernel/client/launch.js'
import { sleep } from './helpers/kernel.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLES = join(ROOT, 'examples', 'library')
const tmp = mkdtempSync(join(tmpdir(), 'tsprof-library-'))
const started: ChildProcess[] = []
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  rmSync(tmp, { recursive: true, force: true })
})

/** The first line a child prints, parsed as JSON. */
function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.once('line', (l) => resolve(JSON.parse(l) as T))
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before printing its ports`)))
  })
}

async function promQuery(port: number, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`)
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
  assert.equal(body.status, 'success')
  return body.data.result
}

test('a watched service scraped by a real Prometheus: request count, histogram buckets and memory arrive exactly', { timeout: 120_000 }, async () => {
  const service = spawn(process.execPath, [join(EXAMPLES, 'service.mjs')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  started.push(service)
  const { port, metricsPort } = await firstJsonLine<{ port: number; metricsPort: number }>(service, 'the service')

  const [promPort] = await freePorts(1)
  const dir = join(tmp, 'prometheus')
  mkdirSync(join(dir, 'data'), { recursive: true })
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
    'scrape_configs:', '  - job_name: tsprof-service', '    static_configs:', `      - targets: ['127.0.0.1:${metricsPort}']`, '',
  ].join('\n'))
  const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
  started.push(prometheus)
  let promLog = ''
  prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()))

  // A bounded load: 120 requests, 8 at a time.
  const REQUESTS = 120
  for (let i = 0; i < REQUESTS; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, REQUESTS - i) }, async (_, j) => {
      const res = await fetch(`http://127.0.0.1:${port}/items?id=${i + j}`)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { items: unknown[] }).items.length, 200)
    }))
  }

  // Prometheus scrapes every second; wait until its newest sample has every request.
  const count = `tsprof_function_duration_seconds_count{function="handle",outcome="ok",job="tsprof-service"}`
  let last = ''
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = await promQuery(promPort, count).catch(() => [])
    last = r[0]?.value[1] ?? 'none'
    if (last === String(REQUESTS)) break
    assert.ok(Date.now() < deadline, `Prometheus has ${last} requests, expected ${REQUESTS}\n${promLog}`)
    await sleep(500)
  }
  // The histogram: cumulative buckets ending in +Inf = the count; the sum is the time the handler took.
  const buckets = await promQuery(promPort, `tsprof_function_duration_seconds_bucket{function="handle",outcome="ok"}`)
  const inf = buckets.find((b) => b.metric.le === '+Inf')
  assert.equal(inf?.value[1], String(REQUESTS))
  const byLe = buckets.map((b) => [b.metric.le === '+Inf' ? Infinity : Number(b.metric.le), Number(b.value[1])] as const).sort((a, b) => a[0] - b[0])
  assert.ok(byLe.every(([, v], i) => i === 0 || v >= byLe[i - 1][1]), `buckets are cumulative: ${JSON.stringify(byLe)}`)
  const [sum] = await promQuery(promPort, 'tsprof_function_duration_seconds_sum{function="handle"}')
  assert.ok(Number(sum.value[1]) > 0 && Number(sum.value[1]) < 60, `sum ${sum.value[1]} s`)
  // Memory per request: one observation per request (200 objects and a JSON string each: never free).
  const [heapCount] = await promQuery(promPort, 'tsprof_function_heap_delta_bytes_count{function="handle"}')
  assert.equal(heapCount.value[1], String(REQUESTS))
  const [up] = await promQuery(promPort, 'up{job="tsprof-service"}')
  assert.equal(up.value[1], '1')
  prometheus.kill('SIGTERM')
  service.kill('SIGTERM')
})

test('baselines: a benchmark writes its figures; `tsprof baseline check` passes against itself and fails (exit 1, a table) on a 3× regression', { timeout: 120_000 }, () => {
  const run = (file: string, env: Record<string, string> = {}): void => {
    const r = spawnSync(process.execPath, [join(EXAMPLES, 'bench.mjs')], { cwd: ROOT, env: { ...process.env, TSPROF_BASELINE: file, ...env }, encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 0, r.stderr)
  }
  const base = join(tmp, 'base.json')
  const same = join(tmp, 'same.json')
  const slow = join(tmp, 'slow.json')
  run(base)
  run(same)
  run(slow, { SLOWDOWN: '3' })
  const written = JSON.parse(readFileSync(base, 'utf8')) as { version: number; functions: Record<string, { calls: number; median: number }> }
  assert.equal(written.version, 1)
  assert.deepEqual(Object.keys(written.functions).sort(), ['parse', 'render'])
  assert.equal(written.functions.render.calls, 40)
  // The spin is 500 μs by construction: load only adds.
  assert.ok(written.functions.render.median >= 500e-6, `render median ${written.functions.render.median}`)

  const check = (current: string, ...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/bin/tsprof.js'), 'baseline', 'check', base, current, ...args], { encoding: 'utf8' })
  const ok = check(same, '--factor', '2')
  assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  assert.match(ok.stdout, /no regression against/)

  const bad = check(slow, '--factor', '2')
  assert.equal(bad.status, 1, bad.stdout + bad.stderr)
  const lines = bad.stdout.split('\n')
  assert.match(lines[0], /^function\s+baseline \(median\)\s+current \(median\)\s+ratio$/)
  const render = lines.find((l) => l.startsWith('render'))!
  const ratio = Number(/([\d.]+)×/.exec(render)?.[1])
  assert.ok(ratio > 2 && render.includes('REGRESSION'), render)
  assert.ok(!lines.find((l) => l.startsWith('parse'))!.includes('REGRESSION'), 'parse did not change')
  assert.match(bad.stdout, /1 regression against/)

  const usage = spawnSync(process.execPath, [join(ROOT, 'dist/bin/tsprof.js'), 'baseline', 'check', base], { encoding: 'utf8' })
  assert.equal(usage.status, 2)
  assert.match(usage.stderr, /check needs BASE and CURRENT/)
  const missing = spawnSync(process.execPath, [join(ROOT, 'dist/bin/tsprof.js'), 'baseline', 'check', base, join(tmp, 'nope.json')], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /cannot read the baseline/)
})

test('TypeScript 5 decorators: @timed counts calls, @memit reports the leak, @profile records calls and lines and prints at exit', { timeout: 120_000 }, () => {
  const source = readFileSync(join(EXAMPLES, 'decorators.ts'), 'utf8')
  // Standard decorators (no experimentalDecorators), as tsc compiles them for Node 20.
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }, fileName: 'decorators.ts' }).outputText
  // Inside the package (so `import 'tsprof'` resolves to it) and outside dist/ (tsprof's own frames are hidden from profiles).
  const build = join(EXAMPLES, '.build')
  mkdirSync(build, { recursive: true })
  writeFileSync(join(build, 'decorators.mjs'), js)
  writeFileSync(join(build, 'run.mjs'), `import { Shop, Session, stats, profile } from './decorators.mjs'
const warnings = []
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }))
const shop = new Shop()
for (let i = 0; i < 3; i++) shop.checkout(1000)
for (let i = 0; i < 6; i++) shop.remember(i)
shop.restock(500)
shop.restock(500)
shop.audit(22)
const sessions = ['ann', 'bob', 'cy'].map((u) => new Session(u))
await Session.instances.settled()
await new Promise((r) => setTimeout(r, 20))
const { calls, lines } = await profile.results()
console.log(JSON.stringify({
  checkout: stats('Shop.checkout')?.calls, remember: stats('Shop.remember')?.calls, warnings, sessions: [sessions.length, sessions[0] instanceof Session, Session.instances.live],
  lines: lines.functions.map((f) => ({ name: f.name, calls: f.calls, lines: f.lines.map((l) => [l.contents.trim(), l.hits ?? 0]) })),
  calls: calls.text,
}))
`)
  const r = spawnSync(process.execPath, [join(build, 'run.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    checkout: number; remember: number; warnings: Array<{ name: string; code: string; message: string }>; sessions: [number, boolean, number]
    lines: Array<{ name: string; calls: number; lines: Array<[string, number]> }>; calls: string
  }
  assert.equal(out.checkout, 3)
  assert.equal(out.remember, 6)
  // @memit({ leak: { runs: 4 } }): 1 warm-up call, then 4 calls that each keep 64 KiB (8,192 numbers).
  // @trackInstances({ max: 2 }) on a class, three kept: one warning.
  assert.deepEqual(out.warnings.map((w) => [w.name, w.code]).sort(), [['TsprofWarning', 'TSPROF_INSTANCES'], ['TsprofWarning', 'TSPROF_LEAK']])
  assert.deepEqual(out.sessions, [3, true, 3])
  assert.match(out.warnings.find((w) => w.code === 'TSPROF_INSTANCES')!.message, /^Session: 3 live instances \(after a GC\), more than the 2 allowed \(3 created so far\)$/)
  assert.match(out.warnings.find((w) => w.code === 'TSPROF_LEAK')!.message, /^Shop\.remember: each of the last 4 calls kept memory after a full GC, (6[4-9]|7\d)\.\d KiB per call \(median/)
  // @profile({ lines: true }) on restock: 2 calls of a 500-iteration loop.
  const [restock] = out.lines
  assert.equal(restock.name, 'Shop.restock')
  assert.equal(restock.calls, 2)
  const hits = new Map(restock.lines)
  // The lines are the JavaScript that ran (tsc's output: statements end with a semicolon).
  assert.equal(hits.get('stocked += i;'), 1000)
  assert.equal(hits.get('return stocked;'), 2)
  // @profile on the recursive audit(22): cProfile's count, 2·F(23) − 1 = 57,313 calls, long enough to be sampled.
  assert.match(out.calls, /in Shop\.audit \(57313 calls\)/)
  assert.match(out.calls, /decorators\.mjs:\d+\(audit\)/)
})
