// Memory over many cells, measured from outside (/proc/<pid>/status): 3,000 trivial executes over
// ZeroMQ must not grow the kernel's RSS by more than 10 MiB, and an idle tsprof kernel must not hold
// more than an idle ipykernel (Debian's python3-ipykernel) started beside it.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { KernelClient } from '../kernel/client/client.js'
import { freePorts, launchKernel } from '../kernel/client/launch.js'
import type { ConnectionInfo } from '../kernel/wire/connection.js'
import { sleep } from './helpers/kernel.js'
import { PYTHON, PYTHON_FLAGS } from './helpers/jupyter-env.js'

const MiB = 1024 * 1024

function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
  return (kib * 1024) / MiB
}

test('3,000 trivial executes grow RSS by at most 10 MiB (after 100 to warm up)', { timeout: 300_000 }, async () => {
  const k = await launchKernel()
  try {
    for (let i = 0; i < 100; i++) await k.client.execute('1+1')
    const before = rssMiB(k.child.pid!)
    const samples: number[] = []
    for (let i = 1; i <= 3000; i++) {
      const r = await k.client.execute('1+1', { store_history: i % 2 === 0 })
      assert.equal(r.reply.content.status, 'ok')
      if (i % 500 === 0) samples.push(rssMiB(k.child.pid!))
    }
    const growth = samples.at(-1)! - before
    const why = `RSS ${before.toFixed(1)} MiB → ${samples.map((s) => s.toFixed(1)).join(' → ')} MiB`
    assert.ok(growth <= 10, `grew ${growth.toFixed(1)} MiB: ${why}`)
    // Not a one-off: the highest sample is within the bound too.
    assert.ok(Math.max(...samples) - before <= 10, why)
  } finally {
    await k.stop()
  }
})

/** Start Debian's ipykernel on free ports; resolves once it answers kernel_info. */
async function launchIpykernel(): Promise<{ pid: number; client: KernelClient; stop: () => Promise<void> }> {
  const [shell_port, control_port, stdin_port, iopub_port, hb_port] = await freePorts(5)
  const connection: ConnectionInfo = { transport: 'tcp', ip: '127.0.0.1', shell_port, control_port, stdin_port, iopub_port, hb_port, key: randomBytes(16).toString('hex'), signature_scheme: 'hmac-sha256' }
  const dir = mkdtempSync(join(tmpdir(), 'tsprof-ipykernel-'))
  const file = join(dir, 'kernel.json')
  writeFileSync(file, JSON.stringify(connection))
  const child = spawn(PYTHON, [...PYTHON_FLAGS, '-m', 'ipykernel_launcher', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, IPYTHONDIR: join(dir, 'ipython') } })
  child.stderr!.resume()
  const client = new KernelClient(connection)
  await client.connect()
  await client.waitForReady(60_000)
  return {
    pid: child.pid!,
    client,
    stop: async () => {
      client.close()
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([gone, sleep(3000)])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// Of the kernel's RSS about two thirds are file pages (node's binary, libzmq), the rest two isolates
// (cells and I/O). What kept it above ipykernel's, and is now gone: WebAssembly and the optimising
// compiler started at load (es-module-lexer before any cell imported, cjs-module-lexer scanning
// zeromq on the I/O thread, a 64 Ki-step table loop in sucrase, path helpers run hot by the bundle's freshness check),
// and the bundle's source held as a two-byte string.
test('idle RSS is at most ipykernel\'s, each after 20 cells and 2 s of quiet', { timeout: 180_000 }, async () => {
  const py = await launchIpykernel()
  const k = await launchKernel()
  try {
    for (let i = 0; i < 20; i++) {
      await k.client.execute(`const x${i} = ${i} * 2`)
      await py.client.execute(`x${i} = ${i} * 2`)
    }
    await sleep(2000)
    // Three samples each, 0.5 s apart, the median: one page fault or a late free does not decide.
    const ourSamples: number[] = []
    const theirSamples: number[] = []
    for (let i = 0; i < 3; i++) {
      if (i) await sleep(500)
      ourSamples.push(rssMiB(k.child.pid!))
      theirSamples.push(rssMiB(py.pid))
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]
    const ours = median(ourSamples)
    const theirs = median(theirSamples)
    console.log(`idle RSS: tsprof ${ours.toFixed(1)} MiB, ipykernel ${theirs.toFixed(1)} MiB (${(ours / theirs).toFixed(2)}x)`)
    assert.ok(ours <= theirs, `tsprof idle RSS ${ours.toFixed(1)} MiB > ipykernel's ${theirs.toFixed(1)} MiB`)
  } finally {
    await Promise.all([k.stop(), py.stop()])
  }
})
