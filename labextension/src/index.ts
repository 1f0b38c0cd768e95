// tsprof's JupyterLab MIME renderer extension. The magics send `application/vnd.tsprof.profile+json`
// beside text/html, Vega-Lite and text/plain; with this extension JupyterLab shows the profile
// interactively instead of the HTML table (a lower rank wins), and without it the rest still shows.
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { COMPANION_MIME, PROFILE_MIME } from './bundle';
import { isProfileBundle, renderBundle, unsupported } from './views';

export { COMPANION_MIME, PROFILE_MIME };
export type * from './bundle';

/** Below JupyterLab's HTML (50), Vega (57) and SVG (80) renderers, so this one is preferred. */
export const RANK = 20;

export class ProfileRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly mimeType: string;

  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.mimeType = options.mimeType;
    this.addClass('tsprof-rendered');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    // A chart this extension's profile view already shows (its Vega-Lite/SVG serve other front ends):
    // render nothing, and style/index.css hides the empty output, so each result has one view.
    if (this.mimeType === COMPANION_MIME) {
      this.addClass('tsprof-companion');
      this.node.replaceChildren();
      return Promise.resolve();
    }
    const data = model.data[this.mimeType] as unknown;
    this.node.replaceChildren(isProfileBundle(data) ? renderBundle(data) : unsupported(data));
    return Promise.resolve();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  // builds DOM from text only (no markup, no script): safe for untrusted notebooks too
  safe: true,
  mimeTypes: [PROFILE_MIME, COMPANION_MIME],
  defaultRank: RANK,
  createRenderer: (options) => new ProfileRenderer(options),
};

const extension: IRenderMime.IExtension = {
  id: 'tsprof:profile-renderer',
  description: 'Interactive flame graph, source heat view and sortable tables for tsprof profiles',
  rendererFactory,
  rank: RANK,
  dataType: 'json',
};

export default extension;
