// `npm i -D tsprof` gives the library: the package is packed with `npm pack`, installed from the
// tarball into a new project (dependencies from npm's cache), type-checked by tsc against the
// published declarations (strict, skipLibCheck off), run with node, and used from two test runners:
// node:test and vitest.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'tsprof-pack-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

function sh(cmd: string, args: string[], cwd: string, timeout = 600_000): SpawnSyncReturns<string> {
  // Without NODE_TEST_CONTEXT: a `node --test` started from a test would report to this runner, not print.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } })
}

const MAIN_TS = `import { timeit, profile, watch, trackInstances, timed, report, type TimeitResult, type TsprofWarning } from 'tsprof'

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

class Cart {
  items: number[] = []
  @timed
  add(n: number): number {
    this.items.push(n)
    return this.items.length
  }
}

const warnings: TsprofWarning[] = []
const r: TimeitResult = await timeit(() => fib(15), { loops: 10, repeat: 3 })
const p = await profile(() => fib(18), { calls: true })
const square = watch((x: number) => x * x, { name: 'square' })
const Tracked = trackInstances(Cart, { max: 2, onWarning: (w) => warnings.push(w) })
const carts = [new Tracked(), new Tracked(), new Tracked()]
carts[0].add(1)
await Tracked.instances.settled()
console.log(JSON.stringify({
  line: String(r), loops: r.loops, repeat: r.repeat, fibCalls: p.get('fib')?.ncalls, square: square(7), squareCalls: square.stats.calls,
  warnings: warnings.map((w) => w.kind), report: report(r),
}))
`

const BAD_TS = `import { timeit } from 'tsprof'
await timeit(() => 1, { repeat: 'seven' })
`

const VITEST_TS = `import { expect, test } from 'vitest'
import { timeit, memit } from 'tsprof'

function work(): number {
  let s = 0
  for (let i = 0; i < 10_000; i++) s += i
  return s
}

test('timeit from vitest', async () => {
  let calls = 0
  const r = await timeit(() => { calls++; work() }, { loops: 50, repeat: 4 })
  expect(r.loops).toBe(50)
  expect(r.all_runs).toHaveLength(4)
  expect(calls).toBe(200)
  expect(String(r)).toMatch(/per loop \\(mean ± std\\. dev\\. of 4 runs, 50 loops each\\)$/)
})

test('memit from vitest', async () => {
  const kept: Float64Array[] = []
  const m = await memit(() => kept.push(new Float64Array(1_000_000)))
  expect(Math.abs(m.arrayBuffers.increment - 8_000_000 / 1024 / 1024)).toBeLessThan(0.5)
})
`

const NODE_TEST_MJS = `import { test } from 'node:test'
import assert from 'node:assert/strict'
import { timeit, lineProfile } from 'tsprof'

function count(n) {
  let odd = 0
  for (let i = 0; i < n; i++) {
    if (i % 2) odd++
  }
  return odd
}

test('timeit and lineProfile from node:test', async () => {
  const r = await timeit(() => count(1000), { loops: 20, repeat: 3 })
  assert.equal(r.all_runs.length, 3)
  const lp = await lineProfile(() => count(1000), { functions: [count] })
  const line = lp.functions[0].lines.find((l) => l.contents.trim() === 'if (i % 2) odd++')
  assert.equal(line.hits, 1000)
})
`

test('npm pack → npm install in a new project → tsc type-checks it, node runs it, node:test and vitest use it', { timeout: 900_000 }, () => {
  const pack = sh('npm', ['pack', '--pack-destination', tmp, '--loglevel=error'], ROOT)
  assert.equal(pack.status, 0, pack.stderr)
  const tarball = readdirSync(tmp).find((f) => /^tsprof-.*\.tgz$/.test(f))
  assert.ok(tarball, `a tarball in ${tmp}: ${readdirSync(tmp).join(', ')}`)
  const listing = sh('tar', ['-tzf', join(tmp, tarball)], tmp).stdout.split('\n')
  for (const f of ['package/dist/magics/library/index.js', 'package/dist/magics/library/index.d.ts', 'package/dist/bin/tsprof.js', 'package/setup.json']) assert.ok(listing.includes(f), `the tarball has ${f}`)
  assert.ok(!listing.some((f) => f.startsWith('package/dist/test/') || f.startsWith('package/test/')), 'no tests in the package')

  const project = join(tmp, 'project')
  sh('mkdir', ['-p', project], tmp)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-tsprof', private: true, type: 'module' }, null, 1))
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'build' },
    files: ['main.ts'],
  }, null, 1))
  writeFileSync(join(project, 'main.ts'), MAIN_TS)
  writeFileSync(join(project, 'bad.ts'), BAD_TS)
  writeFileSync(join(project, 'timing.test.ts'), VITEST_TS)
  writeFileSync(join(project, 'timing.node.test.mjs'), NODE_TEST_MJS)
  const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '-D', join(tmp, tarball), 'typescript@5.9', '@types/node@20', 'vitest@3.2.7'], project)
  assert.equal(install.status, 0, install.stderr)

  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc')
  const compiled = sh(process.execPath, [tsc, '-p', '.'], project)
  assert.equal(compiled.status, 0, `tsc: ${compiled.stdout}${compiled.stderr}`)
  // The declarations are checked, not just present: a wrong option type is an error.
  const bad = sh(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', 'bad.ts'], project)
  assert.notEqual(bad.status, 0)
  assert.match(bad.stdout, /bad\.ts\(2,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/)

  const run = sh(process.execPath, [join(project, 'build', 'main.js')], project)
  assert.equal(run.status, 0, run.stderr)
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
  assert.match(String(out.line), /per loop \(mean ± std\. dev\. of 3 runs, 10 loops each\)$/)
  assert.ok(String(out.report).split('\n').includes(String(out.line)), 'the report has the line (and any warnings)')
  assert.equal(out.fibCalls, 8361, 'fib(18): 2·F(19) − 1 calls')
  assert.deepEqual([out.square, out.squareCalls], [49, 1])
  assert.deepEqual(out.warnings, ['instances'])

  const nodeTest = sh(process.execPath, ['--test', 'timing.node.test.mjs'], project)
  assert.equal(nodeTest.status, 0, nodeTest.stdout + nodeTest.stderr)
  assert.match(nodeTest.stdout, /# pass 1/)

  const vitest = sh(process.execPath, [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'timing.test.ts'], project)
  assert.equal(vitest.status, 0, vitest.stdout + vitest.stderr)
  assert.match(vitest.stdout.replace(/\x1b\[[\d;]*m/g, ''), /Tests\s+2 passed/)
})
