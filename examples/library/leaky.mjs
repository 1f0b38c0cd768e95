// A leaky script: a request handler that keeps 64 KiB per request in a module-level cache (and a
// clean twin that does not), and connections that are opened and never closed. Run it to see
// tsprof's warnings (`node examples/library/leaky.mjs`); the tests use the same pieces.
import { memit, trackInstances, watch } from 'tsprof'

const cache = []

/** Keeps what it allocates: 64 KiB (8,192 doubles) more every call. */
export function handleLeaky(id) {
  const row = new Float64Array(8192).fill(id)
  cache.push(row)
  return row.length
}

/** Allocates the same, keeps nothing. */
export function handleClean(id) {
  const row = new Float64Array(8192).fill(id)
  return row.length
}

export function cacheSize() {
  return cache.length
}

export class Connection {
  constructor(id) {
    this.id = id
    this.buffer = new Uint8Array(1024)
  }
}

/** Opened connections that nobody closes: every one stays reachable from here. */
export const open = []

export async function main() {
  const leaky = watch(handleLeaky, { leak: { runs: 5 } })
  const clean = watch(handleClean, { leak: { runs: 5 } })
  for (let i = 0; i < 8; i++) {
    leaky(i)
    clean(i)
  }
  console.log(`leaky: ${leaky.stats.calls} calls, ${leaky.stats.heapDelta.mean.toFixed(0)} bytes of heap per call`)
  const Conn = trackInstances(Connection, { max: 5 })
  for (let i = 0; i < 8; i++) open.push(new Conn(i))
  await Conn.instances.settled()
  console.log(`connections alive: ${Conn.instances.live} (peak ${Conn.instances.peak})`)
  console.log(String(await memit(() => handleLeaky(99))))
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
