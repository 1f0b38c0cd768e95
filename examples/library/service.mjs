// A small HTTP service that measures itself: its request handler is watched (time and memory per
// request), exposed as Prometheus histograms on /metrics of a second port and sent to StatsD.
// Prints one JSON line with its ports: {"port":…,"metricsPort":…}. Stops on SIGTERM.
import { createServer } from 'node:http'
import { prometheus, serveMetrics, statsd, useMetrics, watch } from 'tsprof'

const sinks = [prometheus()]
if (process.env.STATSD_PORT) sinks.push(statsd({ port: Number(process.env.STATSD_PORT) }))
useMetrics(...sinks)

const store = new Map()

/** Handles one request: parses its query, builds a small JSON body (allocates a little). */
const handle = watch(function handle(url) {
  const id = Number(new URL(url, 'http://x').searchParams.get('id') ?? 0)
  const items = Array.from({ length: 200 }, (_, i) => ({ id: id * 1000 + i, name: `item ${i}` }))
  store.set(id % 10, items.length)
  return JSON.stringify({ id, items })
}, { memory: true })

const server = createServer((req, res) => {
  const body = handle(req.url ?? '/')
  res.writeHead(200, { 'content-type': 'application/json' }).end(body)
})
server.listen(0, '127.0.0.1', async () => {
  const metrics = await serveMetrics(sinks[0], { port: 0 })
  console.log(JSON.stringify({ port: server.address().port, metricsPort: metrics.port }))
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
