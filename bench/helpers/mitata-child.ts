// The mitata side of bench/timeit: a plain `node --expose-gc` process (never the kernel's heap)
// that takes one JSON request per stdin line, measures it with mitata's programmatic `measure`,
// and answers one JSON line on stdout.
//
// request:  { id, name, setup, fn }   setup: JS run once per name at top level (like a notebook
//           cell: its let/const/functions become globals); fn: JS source of a zero-argument function
// answer:   { id, stats: { avg, p50, min, max, p25, p75, ticks, samples } }  (ns)  |  { id, error }
import { createInterface } from 'node:readline';
import vm from 'node:vm';
import { measure } from 'mitata';

interface Request { id: number; name: string; setup: string; fn: string }

const fns = new Map<string, () => unknown>();

async function handle(req: Request): Promise<Record<string, unknown>> {
  let f = fns.get(req.name);
  if (!f) {
    // Top-level script code in the main context, as a cell: `let x` is a global binding fn can see.
    if (req.setup.trim()) vm.runInThisContext(req.setup, { filename: `setup-${req.name}` });
    f = vm.runInThisContext(`(${req.fn})`, { filename: `bench-${req.name}` }) as () => unknown;
    fns.set(req.name, f);
  }
  const s = await measure(f);
  return {
    avg: s.avg, p50: s.p50, p25: s.p25, p75: s.p75, min: s.min, max: s.max, ticks: s.ticks, samples: s.samples.length,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
}

const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    const req = JSON.parse(line) as Request;
    try {
      process.stdout.write(`${JSON.stringify({ id: req.id, stats: await handle(req) })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ id: req.id, error: String((e as Error).stack ?? e) })}\n`);
    }
  });
});
rl.on('close', () => void queue.then(() => process.exit(0)));
