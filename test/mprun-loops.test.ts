// %mprun on one-line loops through a real kernel over ZeroMQ (issue 11): a loop line is an
// occurrence per step, and its Increment is still the memory's rise across the loop.
// memory_profiler's Increment of a line is the sum over its occurrences of (after − before), so
// the Increments of a function's lines telescope to (memory at return − memory at entry).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js'
import { ofType, streamText } from './helpers/kernel.js'

let k: LaunchedKernel
before(async () => {
  k = await launchKernel({})
})
after(async () => {
  await k.stop()
})

interface Line { line: number; memUsage?: number; increment?: number; allocated?: number; occurrences?: number; contents: string }
interface Profile { lines: Line[]; text: string; notes: string }

/** `%mprun -r -q` of `call` profiling `fn`: the lines (MiB) and the text it prints. */
async function mprun(fn: string, call: string): Promise<Profile> {
  const r = await k.client.execute(`const __p = %mprun -r -q -f ${fn} ${call}\nconsole.log(JSON.stringify({ lines: __p.functions[0].lines, text: String(__p) }))`, { timeoutMs: 120_000 })
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content))
  const out = JSON.parse(streamText(r.iopub, 'stdout').trim().split('\n').at(-1)!) as { lines: Line[]; text: string }
  return { ...out, notes: ofType(r.iopub, 'stream').map((m) => (m.content as { text: string }).text).join('') }
}

const row = (p: Profile, text: string): Line => {
  const l = p.lines.find((x) => x.contents.trim() === text)
  assert.ok(l, `no line ${text} in\n${p.text}`)
  return l
}

/** Increments telescope: their sum is Mem usage after the last line − at entry (the first line). */
function assertTelescopes(p: Profile, first: string, last: string): void {
  const sum = p.lines.reduce((s, l) => s + (l.increment ?? 0), 0)
  const rise = row(p, last).memUsage! - row(p, first).memUsage!
  assert.ok(Math.abs(sum - rise) <= 1, `Increments sum to ${sum.toFixed(2)} MiB, memory rose ${rise.toFixed(2)} MiB:\n${p.text}`)
}

test('%mprun of a one-line Map-filling loop: 100001 occurrences, Increment = the rise across the loop, Increments telescope', async () => {
  await k.client.execute(`function main(size = 100_000): number {
  const ids = Array.from({ length: size }, (_, i) => i);
  const items = ids.map((id) => ({ id, name: \`item-\${id}\`, score: id % 97 }));
  const byId = new Map();
  for (const item of items) byId.set(item.id, item);
  return byId.size
}`)
  const p = await mprun('main', 'main()')
  console.log(p.text)
  const loop = row(p, 'for (const item of items) byId.set(item.id, item);')
  assert.equal(loop.occurrences, 100001)
  const rise = loop.memUsage! - row(p, 'const byId = new Map();').memUsage!
  assert.ok(Math.abs(loop.increment! - rise) <= 1, `loop Increment ${loop.increment} MiB, memory rose ${rise.toFixed(2)} MiB across it:\n${p.text}`)
  assertTelescopes(p, 'function main(size = 100_000): number {', 'return byId.size')
  for (const l of p.lines) if (l.increment !== undefined && l.increment > 0.1) assert.ok(l.allocated! >= l.increment - 0.05, `line ${l.line}: Allocated ${l.allocated} < Increment ${l.increment}:\n${p.text}`)
  assert.doesNotMatch(p.text, /GC events could not be matched/, p.notes)
})

test('%mprun of the 100 000-push loop: 100001 occurrences, Increments telescope', async () => {
  await k.client.execute(`function fill(n: number) {
  const list: number[] = []
  for (let i = 0; i < n; i++) list.push(i)
  return list.length
}`)
  const p = await mprun('fill', 'fill(100000)')
  console.log(p.text)
  const loop = row(p, 'for (let i = 0; i < n; i++) list.push(i)')
  assert.equal(loop.occurrences, 100001)
  const rise = loop.memUsage! - row(p, 'const list: number[] = []').memUsage!
  assert.ok(Math.abs(loop.increment! - rise) <= 1, `loop Increment ${loop.increment} MiB, memory rose ${rise.toFixed(2)} MiB across it:\n${p.text}`)
  assertTelescopes(p, 'function fill(n: number) {', 'return list.length')
  assert.doesNotMatch(p.text, /GC events could not be matched/, p.notes)
})
