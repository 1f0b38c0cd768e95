// A loop whose line counts are known: the body runs n times, the `if` is true n/2 times. Used by
// the tests of profile.wrap (its own module: line profiling recompiles a function's script in place).

/** How many odd numbers are below `n`. */
export function countOdd(n) {
  let odd = 0
  for (let i = 0; i < n; i++) {
    if (i % 2) odd++
  }
  return odd
}
