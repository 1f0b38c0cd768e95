// Vega-Lite specs for the magics' charts, and their SVG fallback rendered by vega, so a chart still
// shows where no Vega renderer runs (nbconvert HTML, GitHub, the classic notebook).
// Specs are v5 (what JupyterLab 4's renderer reads); vega-lite 5 and vega 5 load lazily on first use.
import type { MimeBundle } from '../../kernel/wire/message.js';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
export const VEGALITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export type VegaLiteSpec = Record<string, unknown> & { $schema: string };

export function spec(body: Record<string, unknown>): VegaLiteSpec {
  return { $schema: VEGALITE_SCHEMA, config: { view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 } }, ...body };
}

type VegaLiteModule = typeof import('vega-lite');
type VegaModule = typeof import('vega');
let libs: Promise<[VegaLiteModule, VegaModule]> | undefined;

function load(): Promise<[VegaLiteModule, VegaModule]> {
  libs ??= Promise.all([import('vega-lite'), import('vega')]);
  return libs;
}

/** Compile with vega-lite 5 (throws on an invalid spec) and render to SVG with vega. */
export async function renderSvg(vl: VegaLiteSpec): Promise<string> {
  const [vegaLite, vega] = await load();
  const compiled = vegaLite.compile(vl as unknown as Parameters<VegaLiteModule['compile']>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A chart bundle: the Vega-Lite spec, its SVG fallback and a text description. */
export async function chartBundle(vl: VegaLiteSpec, plain: string): Promise<MimeBundle> {
  return { [VEGALITE_MIME]: vl, 'image/svg+xml': await renderSvg(vl), 'text/plain': plain };
}
