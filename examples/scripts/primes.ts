// CPU-bound: the sum of the first N primes, by trial division by the primes found so far (the
// classic line_profiler example, in TypeScript).
//   tsprof lprun -f primes primes.ts 2000     tsprof prun primes.ts 100000
// Hits are known exactly: for N primes, primes() is entered once and `yield` runs N times.

/** Primes in order, by trial division by the primes found so far (kept in a Set). */
// @tsprof-profile
export function* primes(): Generator<number> {
  const found = new Set<number>();
  for (let n = 2; ; n++) {
    let isPrime = true;
    for (const p of found) {
      if (p * p > n) break;
      if (n % p === 0) {
        isPrime = false;
        break;
      }
    }
    if (isPrime) {
      found.add(n);
      yield n;
    }
  }
}

export function sumOfPrimes(count: number): number {
  let total = 0;
  let k = 0;
  for (const p of primes()) {
    total += p;
    if (++k === count) break;
  }
  return total;
}

const count = Number(process.argv[2] ?? 2000);
console.log(`sum of the first ${count.toLocaleString('en-US')} primes: ${sumOfPrimes(count).toLocaleString('en-US')}`);
