// A CPU-bound script: the seed's "first N primes" by trial division, and naive Fibonacci. Run it
// (`node examples/library/cpu-bound.mjs`) to see tsprof's library measure it from inside; the tests
// import its functions and check what tsprof reports against counts known by construction.
import { lineProfile, profile, report, timeit } from 'tsprof'

/** The first `n` primes, by trial division against the primes found so far. */
export function primes(n) {
  const found = []
  let candidate = 2
  while (found.length < n) {
    if (found.every((p) => candidate % p !== 0)) found.push(candidate)
    candidate++
  }
  return found
}

/** Naive Fibonacci: fib(n) makes 2·F(n+1) − 1 calls of itself (fib(20): 21,891). */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

/** Spin for `us` microseconds on the monotonic clock: a statement whose cost is known. */
export function spin(us) {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000))
  while (process.hrtime.bigint() < end) {}
}

export async function main() {
  console.log('timeit: primes(2000)')
  console.log(report(await timeit(() => primes(2000), { repeat: 5 })))
  console.log('\nprofile: fib(22), exact calls')
  console.log(String(await profile(() => fib(22), { calls: true, limit: 5 })))
  console.log('\nlineProfile: primes(2000)')
  console.log(String(await lineProfile(() => primes(2000), { functions: [primes] })))
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
