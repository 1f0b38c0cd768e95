// Memory by construction: a pipeline whose every step keeps 20 MiB (2,621,440 doubles), and a
// table of a given size. Run it to see mprof and memit from a script (`node examples/library/memory.mjs`).
import { memit, mprof, report } from 'tsprof'

const MiB = 1024 * 1024
export const STEP_BYTES = 20 * MiB

export const pipeline = {
  kept: [],
  /** Keeps 20 MiB of doubles, written (so RSS holds it too). */
  step(i) {
    this.kept.push(new Float64Array(STEP_BYTES / 8).fill(i))
  },
  release() {
    this.kept = []
  },
}

/** Five steps, 20 ms apart, awaited: the memory over time rises in five plateaus. */
export async function runPipeline() {
  for (let i = 0; i < 5; i++) {
    pipeline.step(i)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export async function main() {
  const over = await mprof(runPipeline, { mark: [[pipeline, 'step']] })
  console.log(String(over))
  pipeline.release()
  const kept = []
  console.log(report(await memit(() => kept.push(new Float64Array(10_000_000).fill(1)))))
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
