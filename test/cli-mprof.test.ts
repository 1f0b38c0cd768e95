// `tsprof mprof run` on a long-running HTTP service with cluster workers, under a bounded local
// load, stopped with Ctrl-C — as a terminal sends it (the whole foreground process group), and in a
// real terminal (tmux) — then `mprof plot`. Ground truth: one FUNC line per request served, RSS
// lines for each worker, a JS heap series per Node process that grows with what the leak keeps;
// Python's own mprof reads the same file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseMprofile } from '../magics/engines/export/mprofile.js'
import { BIN, EXAMPLES, tsprof } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'tsprof-mprof-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const SERVER = join(EXAMPLES, 'server.ts')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** A bounded load: `requests` GETs, `concurrency` at a time; returns the bytes received. */
async function load(url: string, requests: number, concurrency: number): Promise<number> {
  let next = 0
  let bytes = 0
  const client = async () => {
    while (next < requests) {
      const res = await fetch(`${url}/page/${next++}`)
      bytes += (await res.text()).length
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client))
  return bytes
}

function pythonMprof(file: string): { samples: number; funcs: Record<string, number>; children: string[] } {
  const code = 'import json, sys, mprof\nd = mprof.read_mprofile_file(sys.argv[1])\nprint(json.dumps({"samples": len(d["mem_usage"]), "funcs": {k: len(v) for k, v in d["func_timestamp"].items()}, "children": sorted(d["children"].keys())}))'
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', code, file], { encoding: 'utf8' })) as ReturnType<typeof pythonMprof>
}

const REQUESTS = 240

test('mprof run -M on a cluster under load, Ctrl-C to the process group: every request marked, every worker recorded', async () => {
  const dat = join(dir, 'cluster.dat')
  // A process group of its own, like a shell's foreground job, so the test can Ctrl-C it as a terminal does.
  const child = spawn(process.execPath, [BIN, 'mprof', 'run', '-M', '-T', '0.05', '-o', dat, SERVER, '--cluster', '2'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  try {
    const url = await waitFor('the cluster to listen', () => /listening on (http:\/\/127\.0\.0\.1:\d+) \(2 workers\)/.exec(out)?.[1])
    const bytes = await load(url, REQUESTS, 8)
    assert.ok(bytes > REQUESTS * 60_000)
    await sleep(800) // a few samples after the load
    process.kill(-child.pid!, 'SIGINT')
    assert.equal(await exited, 0, `the server shuts down cleanly and its status passes through\n${err}`)
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  assert.ok(!err.includes('\r') && !/samples ·/.test(err), `no progress line when stderr is not a terminal: ${JSON.stringify(err)}`)
  assert.match(err, /mprof: \d+ samples of 3 processes over [\d.]+ s written to /)

  const p = parseMprofile(readFileSync(dat, 'utf8'))
  const nodes = [...p.procs].filter(([, v]) => v.node).map(([pid]) => pid)
  assert.equal(nodes.length, 3, 'the primary and two workers report themselves')
  const primary = [...p.procs.keys()][0]
  const workers = nodes.filter((pid) => pid !== primary)
  assert.deepEqual([...p.children.keys()].sort(), [...workers].sort(), 'a CHLD series per worker')
  // Ground truth: the marked handler ran once per request, in the worker that served it.
  assert.equal(p.funcs.length, REQUESTS)
  assert.ok(p.funcs.every((f) => f.name === 'handle' && f.end >= f.start && workers.includes(f.pid!)))
  for (const w of workers) {
    const served = p.funcs.filter((f) => f.pid === w).length
    assert.ok(served > 0, `worker ${w} served requests (cluster round-robin)`)
    // Each request keeps a page of ~70 KB in the worker's JS heap: the heap grows by at least half that.
    const heap = p.heap.get(w)!
    assert.ok(heap.length > 3, `heap samples of ${w}`)
    const growth = Math.max(...heap.map((h) => h.used)) - heap[0].used
    assert.ok(growth * 2 ** 20 >= served * 70_000 * 0.5, `worker ${w}: served ${served}, heap grew ${growth.toFixed(1)} MiB`)
  }
  assert.ok(p.mem.length >= 10)

  const py = pythonMprof(dat)
  assert.equal(py.samples, p.mem.length)
  assert.deepEqual(py.funcs, { handle: REQUESTS })
  assert.deepEqual(py.children, workers.map(String).sort())

  for (const name of ['cluster.svg', 'cluster.png', 'cluster.html']) {
    const r = await tsprof(['mprof', 'plot', '--flame', '-o', join(dir, name), dat])
    assert.equal(r.code, 0, r.stderr)
  }
  assert.match(readFileSync(join(dir, 'cluster.svg'), 'utf8'), /^<svg[\s\S]*JS heap[\s\S]*handle/)
  assert.deepEqual([...readFileSync(join(dir, 'cluster.png')).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  assert.match(readFileSync(join(dir, 'cluster.html'), 'utf8'), /<svg[\s\S]*application\/json/)
})

// A real terminal: tmux on a private socket. Progress is drawn there, and Ctrl-C is a keystroke.
const TMUX = ['-L', `tsprof-test-${process.pid}`]
const tmux = (...args: string[]) => execFileSync('tmux', [...TMUX, ...args], { encoding: 'utf8' })
const pane = () => tmux('capture-pane', '-p', '-t', 'cli')

test('in a terminal: progress lines while recording and profiling, Ctrl-C stops mprof run and the file keeps everything', async () => {
  const exitFile = join(dir, 'exit.txt')
  const dat = join(dir, 'tty.dat')
  writeFileSync(join(dir, 'run.sh'), `cd '${dir}' && '${process.execPath}' '${BIN}' mprof run -o '${dat}' '${SERVER}' --cluster 2; echo "EXIT=$?" > '${exitFile}'\n`)
  // A shell in the terminal, as a user has one: the commands are typed into it.
  tmux('new-session', '-d', '-s', 'cli', '-x', '220', '-y', '50', 'bash --norc --noprofile')
  tmux('send-keys', '-t', 'cli', `bash '${join(dir, 'run.sh')}'`, 'Enter')
  try {
    const url = await waitFor('the server in tmux', () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(pane())?.[1])
    await load(url, 60, 4)
    const progress = await waitFor('a progress line', () => /tsprof mprof run · [\d.]+ s · (\d+) samples · 3 processes · RSS [\d.]+ MiB · [\d.]+ KiB written/.exec(pane())?.[0])
    assert.ok(progress)
    tmux('send-keys', '-t', 'cli', 'C-c')
    const status = await waitFor('tsprof to exit', () => (existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : undefined))
    assert.equal(status, 'EXIT=0')
    const p = parseMprofile(readFileSync(dat, 'utf8'))
    assert.equal(p.funcs.length, 60, 'every request of the load, up to the Ctrl-C')
    assert.ok(!/samples · 3 processes/.test(pane().split('\n').filter((l) => l.includes('mprof:')).join('')), 'the progress line is cleared before the summary')

    // prun shows its own progress on a terminal while a script computes.
    const spin = join(dir, 'spin.mjs')
    writeFileSync(spin, 'const end = Date.now() + 4000\nlet x = 0\nwhile (Date.now() < end) x++\nconsole.log("spun")\n')
    tmux('send-keys', '-t', 'cli', `'${process.execPath}' '${BIN}' prun '${spin}' > '${join(dir, 'spin.txt')}'`, 'Enter')
    const line = await waitFor('prun progress', () => /tsprof prun spin\.mjs · [\d.]+ s · RSS [\d.]+ MiB · sampling every 500 µs/.exec(pane())?.[0])
    assert.ok(line)
    await waitFor('prun to finish', () => (readFileSync(join(dir, 'spin.txt'), 'utf8').includes('function calls') ? true : undefined))
  } finally {
    try {
      tmux('kill-server')
    } catch {
      /* already gone */
    }
  }
})
