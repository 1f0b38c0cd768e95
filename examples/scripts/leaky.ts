// A leak: every request's buffer is kept in a cache that is never cleared, next to a scratch
// buffer that is garbage as soon as the call returns.
//   tsprof mprun leaky.ts 20          tsprof mprof run leaky.ts 200
// Ground truth per call: the scratch line allocates 512 KiB (65,536 float64s), the kept line 1 MiB
// (131,072 float64s) that stays reachable; after N calls the cache holds N MiB.

const cache = new Map<number, Float64Array>();

// @tsprof-profile
export function handle(i: number): number {
  const scratch = new Float64Array(65_536);
  scratch.fill(i);
  const kept = new Float64Array(131_072);
  kept[0] = i;
  cache.set(i, kept);
  return scratch[0] + kept[0];
}

const calls = Number(process.argv[2] ?? 20);
const pauseMs = Number(process.argv[3] ?? 0);
let checksum = 0;
for (let i = 0; i < calls; i++) {
  checksum += handle(i);
  if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
}
console.log(`${calls} calls, checksum ${checksum}, cache holds ${cache.size} buffers (${(cache.size * 131_072 * 8) / 2 ** 20} MiB)`);
