// CPU-bound: naive recursive Fibonacci next to a memoized one.
//   node fib.ts 30        (any Node with TypeScript support; under tsprof: tsprof prun fib.ts 30)
// fib(n) makes exactly 2·F(n) − 1 calls (1,664,079 for n = 30); fibMemo(n) makes 2n − 3.

/** The n-th Fibonacci number (n ≥ 1), the slow way. */
export function fib(n: number): number {
  return n <= 2 ? 1 : fib(n - 1) + fib(n - 2);
}

const memo = new Map<number, number>();

/** The same, computing each value once. */
export function fibMemo(n: number): number {
  if (n <= 2) return 1;
  const known = memo.get(n);
  if (known !== undefined) return known;
  const value = fibMemo(n - 1) + fibMemo(n - 2);
  memo.set(n, value);
  return value;
}

const n = Number(process.argv[2] ?? 30);
if (!Number.isInteger(n) || n < 1) {
  console.error(`usage: fib.ts N (a positive integer), got ${process.argv[2]}`);
  process.exit(2);
}
const slow = fib(n);
const fast = fibMemo(n);
console.log(`fib(${n}) = ${slow}${slow === fast ? '' : ` but fibMemo says ${fast}`}`);
