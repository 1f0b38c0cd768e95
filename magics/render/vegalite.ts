// Vega-Lite specs for the magics' charts, and their SVG fallback rendered by vega, so a chart still
// shows where no Vega renderer runs (nbconvert HTML, GitHub, the classic notebook).
// Specs are v5 (what JupyterLab 4's renderer reads); vega-lite 5 and vega 5 load on first use, in a
// thread of their own (svg-worker.ts).
import { HelperThread } from '../engines/thread.js';
/** A display's data by MIME type (the shape Jupyter's display_data carries; no Jupyter import needed). */
export type MimeBundle = Record<string, unknown>;
import type { SvgAnswer, SvgRequest } from './svg-worker.js';
import { COMPANION_MIME } from './profile-bundle.js';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
export const VEGALITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export type VegaLiteSpec = Record<string, unknown> & { $schema: string };

export function spec(body: Record<string, unknown>): VegaLiteSpec {
  return { $schema: VEGALITE_SCHEMA, config: { view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 } }, ...body };
}

/** The SVG renderer thread (svg-worker.ts), started on first use; it does not keep the process alive. */
let worker: HelperThread<SvgAnswer> | undefined;
const pending = new Map<number, { resolve: (svg: string) => void; reject: (e: Error) => void }>();
let nextId = 0;

function renderer(): HelperThread<SvgAnswer> {
  if (worker) return worker;
  // execArgv: [] — no kernel flags. The thread silences its own console (reading its stdout from
  // here instead would keep the process alive).
  const w = new HelperThread<SvgAnswer>(new URL('./svg-worker.js', import.meta.url), { execArgv: [] });
  w.on((m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if ('svg' in m) p.resolve(m.svg);
    else p.reject(new Error(m.error));
  });
  // An 'error' is followed by 'exit': the next chart starts a new thread.
  w.worker.on('exit', (code) => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(new Error(`the SVG renderer thread stopped (exit code ${code})`));
    pending.clear();
  });
  return (worker = w);
}

function render(spec: Record<string, unknown>, lite: boolean): Promise<string> {
  const w = renderer();
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage({ id, spec, lite } satisfies SvgRequest);
  });
}

/** Compile with vega-lite 5 (rejects on an invalid spec) and render to SVG with vega, in the renderer thread. */
export function renderSvg(vl: VegaLiteSpec): Promise<string> {
  return render(vl, true);
}

/** A Vega spec (not Vega-Lite) to SVG, in the renderer thread. */
export function renderVegaSvg(spec: Record<string, unknown>): Promise<string> {
  return render(spec, false);
}

/**
 * A chart bundle: the Vega-Lite spec, its SVG fallback and a text description. `coveredBy` (a profile
 * kind) adds tsprof's companion marker first: the JupyterLab extension, whose view of that profile
 * already shows the chart, renders it as nothing.
 */
export async function chartBundle(vl: VegaLiteSpec, plain: string, coveredBy?: 'prun'): Promise<MimeBundle> {
  const chart = { [VEGALITE_MIME]: vl, 'image/svg+xml': await renderSvg(vl), 'text/plain': plain };
  return coveredBy ? { [COMPANION_MIME]: { covers: coveredBy }, ...chart } : chart;
}
