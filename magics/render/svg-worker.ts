// The thread that turns Vega-Lite specs into SVG. vega and vega-lite live here, not in the kernel's
// main thread: there they made every V8 CPU profile start ~18 ms slower (Profiler.start logs each
// compiled function of the isolate) and sat in the heap that %memit and %mprun measure.
//
// request:  { id, spec, lite }  (lite: a Vega-Lite spec, else Vega)      answer: { id, svg } | { id, error }
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadData } from '../engines/thread.js';

type VegaLiteModule = typeof import('vega-lite');
type VegaModule = typeof import('vega');

export interface SvgRequest { id: number; spec: Record<string, unknown>; lite: boolean }
export type SvgAnswer = { id: number; svg: string } | { id: number; error: string };

let libs: Promise<[VegaLiteModule, VegaModule]> | undefined;

// vega and vega-lite warn on the console; a worker's console is the kernel's stdout, which is the
// running cell's output. A broken spec is reported by its answer instead.
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) console[method] = () => undefined;

/** Render to SVG with vega, compiling with vega-lite 5 first for a Vega-Lite spec (throws on an invalid spec). */
async function render(spec: Record<string, unknown>, lite: boolean): Promise<string> {
  libs ??= Promise.all([import('vega-lite'), import('vega')]);
  const [vegaLite, vega] = await libs;
  const compiled = lite ? vegaLite.compile(spec as unknown as Parameters<VegaLiteModule['compile']>[0]).spec : (spec as Parameters<VegaModule['parse']>[0]);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// Answers go through the kernel's own channel (see thread.ts).
const answers = (workerData as ThreadData).port;
parentPort!.on('message', (req: SvgRequest) => {
  render(req.spec, req.lite).then(
    (svg) => answers.postMessage({ id: req.id, svg } satisfies SvgAnswer),
    (e: unknown) => answers.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies SvgAnswer),
  );
});
