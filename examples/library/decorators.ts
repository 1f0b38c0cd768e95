// TypeScript 5 standard decorators on a class: @timed times every call (running statistics, drift
// warnings), @memit watches the memory each call leaves behind, @profile records calls (or lines) for
// the whole run and prints at exit, as kernprof's @profile does. Compile with tsc (no
// experimentalDecorators needed) and run.
import { memit, profile, timed, trackInstances, watched } from 'tsprof'

export class Shop {
  private readonly orders: number[][] = []

  @timed
  checkout(items: number): number {
    let total = 0
    for (let i = 0; i < items; i++) total += i % 7
    return total
  }

  /** Keeps every order: 64 KiB more per call (a leak @memit reports). */
  @memit({ leak: { runs: 4 } })
  remember(n: number): number {
    this.orders.push(new Array<number>(8192).fill(n))
    return this.orders.length
  }

  @profile({ lines: true })
  restock(n: number): number {
    let stocked = 0
    for (let i = 0; i < n; i++) {
      stocked += i
    }
    return stocked
  }

  @profile
  audit(depth: number): number {
    return depth < 2 ? depth : this.audit(depth - 1) + this.audit(depth - 2)
  }
}

/** At most two sessions should be open at a time. */
@trackInstances({ max: 2 })
export class Session {
  constructor(readonly user: string) {}
}

export function stats(name: string) {
  return watched.get(name)
}

export { profile }
