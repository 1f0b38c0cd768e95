// CommonJS TypeScript that reads standard input: the most frequent words of a text.
//   printf 'a b a\n' | tsprof prun wordfreq.cts 2
// normalize() runs once per line read, tally() once per word; exits 3 on empty input.
const readline = require('node:readline') as typeof import('node:readline');

function normalize(line: string): string[] {
  return line.toLowerCase().split(/[^a-z']+/).filter((w) => w.length > 0);
}

function tally(counts: Map<string, number>, word: string): void {
  counts.set(word, (counts.get(word) ?? 0) + 1);
}

async function main(top: number): Promise<number> {
  const counts = new Map<string, number>();
  let lines = 0;
  for await (const line of readline.createInterface({ input: process.stdin })) {
    lines++;
    for (const w of normalize(line)) tally(counts, w);
  }
  if (counts.size === 0) {
    console.error('no words on standard input');
    return 3;
  }
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, top);
  console.log(`${lines} lines, ${counts.size} distinct words; top ${best.length}:`);
  for (const [w, n] of best) console.log(`${String(n).padStart(6)} ${w}`);
  return 0;
}

main(Number(process.argv[2] ?? 10)).then((code) => {
  process.exitCode = code;
});

module.exports = { normalize, tally };
