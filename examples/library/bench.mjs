// A benchmark that CI runs on every commit: it times `render` with watch() and, with
// TSPROF_BASELINE=FILE in the environment, writes what each watched function cost to FILE when it
// exits. `tsprof baseline check last.json this.json` then fails on a regression.
// SLOWDOWN=3 makes render three times slower (the regression the CI job must catch).
import { watch } from 'tsprof'

const slowdown = Number(process.env.SLOWDOWN ?? 1)

/** Spin for `us` microseconds (a cost known by construction). */
function spin(us) {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000))
  while (process.hrtime.bigint() < end) {}
}

export const render = watch(function render() {
  spin(500 * slowdown)
}, { drift: 10 })

export const parse = watch(function parse() {
  spin(200)
})

for (let i = 0; i < 40; i++) {
  render()
  parse()
}
console.log(`render: ${render.stats.calls} calls, median ${(render.stats.median * 1e3).toFixed(3)} ms; parse: median ${(parse.stats.median * 1e3).toFixed(3)} ms`)
