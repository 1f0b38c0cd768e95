// The command line, end to end, on the example scripts (examples/scripts/), each run as its own
// `tsprof` process, against ground truth the test computes: exact calls of a recursion, hits per
// line of the primes program, bytes a leaky function allocates, exit codes and streams kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, EXAMPLES, lineTables, nthPrime, pstatsRows, tsprof } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'tsprof-cli-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const example = (name: string) => join(EXAMPLES, name)

/** F(n) with F(1) = F(2) = 1, and the calls naive fib(n) makes: 2·F(n) − 1. */
function fibCalls(n: number): number {
  let [a, b] = [1, 1]
  for (let i = 3; i <= n; i++) [a, b] = [b, a + b]
  return 2 * b - 1
}

/** fib.ts in Python: the same recursions, for cProfile. */
const FIB_TWIN = `
import sys
def fib(n):
    return 1 if n <= 2 else fib(n - 1) + fib(n - 2)
memo = {}
def fib_memo(n):
    if n <= 2:
        return 1
    if n in memo:
        return memo[n]
    value = fib_memo(n - 1) + fib_memo(n - 2)
    memo[n] = value
    return value
n = int(sys.argv[1])
fib(n)
fib_memo(n)
`

/** cProfile's ncalls column of each function of a Python script, as printed; undefined without python3. */
function cProfileCalls(source: string, n: number): Map<string, string> | undefined {
  const file = join(dir, 'twin.py')
  writeFileSync(file, source)
  const r = spawnSync('python3', ['-m', 'cProfile', file, String(n)], { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  const calls = new Map<string, string>()
  for (const m of r.stdout.matchAll(/^\s*(\d+(?:\/\d+)?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+twin\.py:\d+\((\w+)\)$/gm)) calls.set(m[2], m[1])
  return calls
}

test('tsprof prun: the script runs as node runs it, then the pstats table with exact calls', async () => {
  const r = await tsprof(['prun', '-s', 'calls', example('fib.ts'), '25'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^fib\(25\) = 75025\n/, 'the script printed first, with its own argv')
  const rows = pstatsRows(r.stdout)
  const fib = rows.find((x) => /fib\.ts:6\(fib\)$/.test(x.label))
  assert.ok(fib, r.stdout)
  // cProfile's `total/primitive`: every call but the first is fib calling itself.
  assert.equal(fib.ncallsText, `${fibCalls(25)}/1`)
  const memo = rows.find((x) => /\(fibMemo\)$/.test(x.label))
  assert.equal(memo?.ncallsText, `${2 * 25 - 3}/1`)
  assert.equal(rows.find((x) => /fib\.ts:1\(<module>\)$/.test(x.label))?.ncallsText, '1')
  // The header's counts are the sums of the rows' (every function that ran, sampled or not).
  const header = /(\d+) function calls \((\d+) primitive calls\) in ([\d.]+) seconds/.exec(r.stdout)
  assert.ok(header, r.stdout)
  assert.equal(Number(header[1]), rows.reduce((a, x) => a + (x.ncalls ?? 0), 0))
  assert.equal(Number(header[2]), rows.reduce((a, x) => a + (x.pcalls ?? 0), 0))
  // The peer: cProfile on the Python twin of fib.ts prints the same ncalls for both functions.
  const twin = cProfileCalls(FIB_TWIN, 25)
  if (twin) {
    assert.equal(fib.ncallsText, twin.get('fib'))
    assert.equal(memo?.ncallsText, twin.get('fib_memo'))
  }
  assert.match(r.stdout, /Ordered by: call count/)
  assert.ok(!/tsprof|sucrase|acorn/.test(rows.map((x) => x.label).join('\n')), 'no frame of tsprof or its dependencies')
})

test('tsprof prun: CommonJS TypeScript reading stdin; its exit code passes through', async () => {
  const r = await tsprof(['prun', '-l', 'wordfreq', example('wordfreq.cts'), '2'], { input: 'the cat\nthe dog and the cat\n' })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^2 lines, 4 distinct words; top 2:\n {5}3 the\n {5}2 cat\n/)
  const rows = pstatsRows(r.stdout)
  assert.equal(rows.find((x) => /\(normalize\)$/.test(x.label))?.ncalls, 2, 'once per line read')
  assert.equal(rows.find((x) => /\(tally\)$/.test(x.label))?.ncalls, 7, 'once per word')
  const empty = await tsprof(['prun', '-q', '-o', join(dir, 'empty.txt'), example('wordfreq.cts')], { input: '' })
  assert.equal(empty.code, 3, 'the script returned 3 on empty input')
  assert.match(empty.stderr, /no words on standard input/)
})

test('tsprof prun: a script that throws or calls process.exit still gets its profile', async () => {
  const throws = join(dir, 'throws.mjs')
  writeFileSync(throws, 'function deep(n) { if (n === 0) throw new Error("boom"); return deep(n - 1) }\nfunction spin() { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return x }\nspin()\ndeep(10)\n')
  const r = await tsprof(['prun', '-s', 'name', throws])
  assert.equal(r.code, 1, 'Node exits 1 on an uncaught error')
  assert.match(r.stderr, /Error: boom/)
  const rows = pstatsRows(r.stdout)
  assert.equal(rows.find((x) => /\(deep\)$/.test(x.label))?.ncalls, 11)
  assert.equal(rows.find((x) => /\(spin\)$/.test(x.label))?.ncalls, 1)

  const exits = join(dir, 'exits.cjs')
  writeFileSync(exits, 'function work(k) { return k * 2 }\nfor (let i = 0; i < 5; i++) work(i)\nprocess.exit(7)\nconsole.log("never")\n')
  const e = await tsprof(['prun', exits])
  assert.equal(e.code, 7)
  assert.ok(!e.stdout.includes('never'))
  assert.equal(pstatsRows(e.stdout).find((x) => /\(work\)$/.test(x.label))?.ncalls, 5)
})

test('tsprof prun: a package is counted with -c only (as %prun -c); the script itself always', async () => {
  const project = join(dir, 'withpkg')
  mkdirSync(join(project, 'node_modules', 'twicer'), { recursive: true })
  writeFileSync(join(project, 'node_modules', 'twicer', 'index.js'), 'exports.twice = function twice(x) { return x * 2 }\n')
  const script = join(project, 'main.cjs')
  writeFileSync(script, 'const { twice } = require("twicer")\nfunction run(k) { let s = 0; for (let i = 0; i < k; i++) s += twice(i); return s }\nrun(4)\n')
  const plain = await tsprof(['prun', script])
  assert.equal(plain.code, 0, plain.stderr)
  assert.equal(pstatsRows(plain.stdout).find((x) => /\(run\)$/.test(x.label))?.ncallsText, '1')
  const twice = pstatsRows(plain.stdout).find((x) => /\(twice\)$/.test(x.label))
  if (twice) assert.equal(twice.ncalls, undefined, 'a package is not counted by default')
  const counted = await tsprof(['prun', '-c', script])
  assert.equal(counted.code, 0, counted.stderr)
  assert.equal(pstatsRows(counted.stdout).find((x) => /\(twice\)$/.test(x.label))?.ncalls, 4)
  assert.equal(pstatsRows(counted.stdout).find((x) => /\(run\)$/.test(x.label))?.ncallsText, '1')
})

test('tsprof prun: Ctrl-C on a script that computes writes the profile and reports the signal', async () => {
  const spins = join(dir, 'spins.mjs')
  writeFileSync(spins, 'function forever() { let x = 0; for (;;) x++ }\nconsole.log("spinning")\nforever()\n')
  const { spawn } = await import('node:child_process')
  const { BIN } = await import('./helpers/cli.js')
  const child = spawn(process.execPath, [BIN, 'prun', spins], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (err += d))
  const deadline = Date.now() + 60_000
  while (!out.includes('spinning') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 500))
  child.kill('SIGINT') // only tsprof gets it, as from `kill -INT`: it must reach the busy script
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  assert.equal(code, 130, err)
  const forever = pstatsRows(out).find((x) => /\(forever\)$/.test(x.label))
  assert.ok(forever && forever.tottime > 0.1, out)
  assert.match(out, /stopped by SIGINT while the script was computing/)
})

test('tsprof lprun: exact hits per line of the primes program, by comment mark and by -f', async () => {
  const n = 2000
  const r = await tsprof(['lprun', '-f', 'sumOfPrimes', example('primes.ts'), String(n)])
  assert.equal(r.code, 0, r.stderr)
  const tables = lineTables(r.stdout)
  const primes = tables.get('primes')
  assert.ok(primes, `primes is marked // @tsprof-profile\n${r.stdout}`)
  const last = nthPrime(n)
  const hits = (text: string) => primes.find((l) => l.contents.includes(text))?.hits
  assert.equal(hits('let isPrime = true;'), last - 1, 'one candidate per n from 2 to the n-th prime')
  assert.equal(hits('found.add(n);'), n)
  assert.equal(hits('yield n;'), n)
  assert.equal(hits('isPrime = false;'), last - 1 - n, 'the composites')
  assert.equal(primes[0].hits, 1, 'the generator is entered once')
  const sum = tables.get('sumOfPrimes')
  assert.ok(sum)
  assert.equal(sum.find((l) => l.contents.includes('total += p;'))?.hits, n)
  // Time is sampled in the same run: the loop lines carry it, and the column adds up to 100%.
  const timed = primes.filter((l) => (l.time ?? 0) > 0)
  assert.ok(timed.length > 0, r.stdout)
})

test('tsprof lprun -x times every line with the clock; an unknown -f is named', async () => {
  const r = await tsprof(['lprun', '-x', '-f', 'tally', '-f', 'nosuch', example('wordfreq.cts')], { input: 'a b\nb c b\n' })
  assert.equal(r.code, 0, r.stderr)
  const tally = lineTables(r.stdout).get('tally')
  assert.ok(tally)
  const body = tally.find((l) => l.contents.includes('counts.set'))
  assert.equal(body?.hits, 5)
  assert.ok((body?.time ?? 0) > 0)
  assert.match(r.stdout, /-f nosuch: no function of that name/)
})

test('tsprof mprun: bytes allocated per line of the leaky script', async () => {
  const calls = 20
  const r = await tsprof(['mprun', example('leaky.ts'), String(calls)])
  assert.equal(r.code, 0, r.stderr)
  const row = (text: string) => {
    const line = r.stdout.split('\n').find((l) => l.includes(text))
    const m = line && /^\s+\d+\s+([\d.]+) MiB\s+(-?[\d.]+) MiB\s+([\d.]+) MiB\s+(\d+)/.exec(line)
    assert.ok(m, `${text}\n${r.stdout}`)
    return { usage: Number(m[1]), increment: Number(m[2]), allocated: Number(m[3]), occurrences: Number(m[4]) }
  }
  // 131,072 float64s = 1 MiB kept per call; 65,536 = 0.5 MiB of scratch per call.
  const kept = row('const kept = new Float64Array(131_072);')
  assert.equal(kept.occurrences, calls)
  assert.equal(kept.allocated, calls * 1.0)
  assert.equal(row('const scratch = new Float64Array(65_536);').allocated, calls * 0.5)
  assert.equal(row('cache.set(i, kept);').allocated, 0)
})

test('tsprof timeit: IPython\'s line; -n and -r run the statement exactly N × R times', async () => {
  const r = await tsprof(['timeit', '-n', '200', '-r', '3', '-s', 'globalThis.__n ??= 0; process.once("exit", () => console.log(`ran ${globalThis.__n}`))', 'let s = 0; for (let i = 0; i < 2000; i++) s += i; globalThis.__n++'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /\d[\d.]* (ns|μs|ms) ± [\d.]+ (ns|μs|ms) per loop \(mean ± std\. dev\. of 3 runs, 200 loops each\)/)
  assert.equal(r.stdout.trim().split('\n').at(-1), 'ran 600')
  // TypeScript imported in the setup, from the current directory.
  writeFileSync(join(dir, 'lib.ts'), 'export function fib(n: number): number {\n  return n <= 2 ? 1 : fib(n - 1) + fib(n - 2)\n}\n')
  const ts = await tsprof(['timeit', '-s', "import { fib } from './lib.ts'", '-n', '5', '-r', '2', '--json', 'const x: number = fib(20)'], { cwd: dir })
  assert.equal(ts.code, 0, ts.stderr)
  const json = JSON.parse(ts.stdout.split('\n').find((l) => l.startsWith('{'))!) as { loops: number; repeat: number; all_runs: number[] }
  assert.deepEqual([json.loops, json.repeat, json.all_runs.length], [5, 2, 2])
})

test('errors are one line and a non-zero exit; --help for every tool', async () => {
  for (const [args, pattern] of [
    [['prun', '-s', 'nosuch', example('fib.ts')], /^tsprof prun: unknown sort key "nosuch"/],
    [['prun', 'missing.ts'], /^tsprof prun: cannot find the script missing\.ts/],
    [['lprun', '-u', 'x', example('fib.ts')], /^tsprof lprun: -u needs a positive number/],
    [['prun', '-o', 'out.unknown', example('fib.ts')], /^tsprof prun: cannot tell the format of out\.unknown/],
    [['mprun', '-o', 'x.cpuprofile', example('leaky.ts')], /^tsprof mprun: cpuprofile is not available/],
    [['timeit', '-z', '1'], /^tsprof timeit: unknown option -z/],
    [['mprof', 'draw'], /^tsprof mprof: unknown subcommand "draw"/],
  ] as Array<[string[], RegExp]>) {
    const r = await tsprof(args, { cwd: dir })
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, pattern)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
  for (const tool of [['timeit'], ['prun'], ['lprun'], ['mprun'], ['mprof'], ['mprof', 'run'], ['mprof', 'plot']]) {
    const r = await tsprof([...tool, '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, new RegExp(`^usage: tsprof ${tool.join(' ')}`))
  }
})

test('a reader that stops early (`tsprof prun fib.ts | head -1`): tsprof stops quietly, exit 0, no EPIPE', async () => {
  for (const tool of [['prun'], ['lprun', '-f', 'fib']]) {
    const child = spawn(process.execPath, [BIN, ...tool, example('fib.ts')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    // `head -1`: read the first line, then close the pipe.
    const first = await new Promise<string>((resolve) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) {
          child.stdout.destroy()
          resolve(out.split('\n')[0])
        }
      })
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(first, 'fib(30) = 832040')
    assert.equal(code, 0, `${tool.join(' ')}: ${stderr}`)
    assert.doesNotMatch(stderr, /EPIPE/)
  }
})
