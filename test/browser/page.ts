// The browser test page: JupyterLab's own rendermime registry (the standard renderers and the
// Vega 5 renderer, as JupyterLab registers them) plus tsprof's extension, loaded the way JupyterLab
// loads a prebuilt extension: the page config lists the federated extensions (computed by
// jupyterlab_server from the installed files), each remoteEntry script is loaded from the
// labextensions URL, its container is initialised with the page's share scope (so it uses the page's
// @lumino/widgets singleton), and its `./mimeExtension` and `./style` modules are taken from it.
// Bundled with esbuild by test/browser.test.ts; the test drives it through `window.tsprofPage`.
import * as jlRendermime from '@jupyterlab/rendermime';
import { MimeModel, RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import vega5Extension from '@jupyterlab/vega5-extension';
import * as luminoAlgorithm from '@lumino/algorithm';
import * as luminoCoreutils from '@lumino/coreutils';
import * as luminoMessaging from '@lumino/messaging';
import * as luminoSignaling from '@lumino/signaling';
import * as luminoWidgets from '@lumino/widgets';
import { Widget } from '@lumino/widgets';
import '@jupyterlab/apputils/style/materialcolors.css';
import '@lumino/widgets/style/index.css';
import '@jupyterlab/rendermime/style/base.css';
import '@jupyterlab/vega5-extension/style/base.css';
import './page.css';
import type { Colours, FederatedExtension, FrameInfo, OutputGroup, PageApi, PageReady, RenderedOutput, VegaReport } from './protocol';

/** `{ "@lumino/widgets": "2.10.0", … }`: injected by the bundler from the installed packages. */
declare const SHARED_VERSIONS: Record<string, string>;

interface Container {
  init(scope: unknown): Promise<void> | void;
  get(module: string): Promise<() => unknown>;
}

declare global {
  interface Window {
    _JUPYTERLAB: Record<string, Container>;
    tsprofPage: PageApi;
  }
}

interface PageConfig {
  fullLabextensionsUrl: string;
  federated_extensions: FederatedExtension[];
}

function pageConfig(): PageConfig {
  const el = document.getElementById('jupyter-config-data');
  return JSON.parse(el?.textContent || '{}') as PageConfig;
}

/** webpack's share scope, as JupyterLab's page fills it: `scope[pkg][version] = { get, from, eager }`. */
function shareScope(): Record<string, Record<string, { get: () => Promise<() => unknown>; from: string; eager: boolean }>> {
  const modules: Record<string, unknown> = {
    '@lumino/widgets': luminoWidgets,
    '@lumino/coreutils': luminoCoreutils,
    '@lumino/messaging': luminoMessaging,
    '@lumino/signaling': luminoSignaling,
    '@lumino/algorithm': luminoAlgorithm,
    '@jupyterlab/rendermime': jlRendermime,
  };
  const scope: ReturnType<typeof shareScope> = {};
  for (const [name, module] of Object.entries(modules)) {
    const version = SHARED_VERSIONS[name];
    if (!version) throw new Error(`no version for shared module ${name}`);
    scope[name] = { [version]: { get: () => Promise.resolve(() => module), from: 'tsprof-test-page', eager: true } };
  }
  return scope;
}

function loadScript(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.onerror = () => reject(new Error(`could not load ${url}`));
    script.onload = () => resolve();
    script.async = true;
    document.head.appendChild(script);
    script.src = url;
  });
}

/** JupyterLab's `activePlugins`: a module's default export (or the module), as a list. */
function exportsOf<T>(module: unknown): T[] {
  const m = module as { __esModule?: boolean; default?: unknown };
  const exp = Object.prototype.hasOwnProperty.call(m, '__esModule') ? m.default : m;
  return (Array.isArray(exp) ? exp : [exp]) as T[];
}

const rendermime = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
rendermime.addFactory(vega5Extension.rendererFactory, vega5Extension.rank);

async function bootstrap(): Promise<PageReady> {
  const config = pageConfig();
  window._JUPYTERLAB = window._JUPYTERLAB ?? {};
  const scope = shareScope();
  const loaded: string[] = [];
  const failed: string[] = [];
  const mimeExtensions: string[] = [];
  for (const ext of config.federated_extensions ?? []) {
    try {
      await loadScript(`${config.fullLabextensionsUrl}/${ext.name}/${ext.load}`);
      const container = window._JUPYTERLAB[ext.name];
      await container.init(scope);
      if (ext.style) (await container.get(ext.style))();
      if (ext.mimeExtension) {
        const module = (await container.get(ext.mimeExtension))();
        for (const item of exportsOf<IRenderMime.IExtension>(module)) {
          rendermime.addFactory(item.rendererFactory, item.rank);
          mimeExtensions.push(item.id);
        }
      }
      loaded.push(ext.name);
    } catch (e) {
      console.error(e);
      failed.push(`${ext.name}: ${String(e)}`);
    }
  }
  return { loaded, failed, mimeExtensions, mimeTypes: rendermime.mimeTypes.slice() };
}

const vegaWidgets = new Map<string, Widget>();
let serial = 0;

async function renderOne(into: HTMLElement, data: Record<string, unknown>, metadata: Record<string, unknown>, mimeType: string): Promise<RenderedOutput> {
  const id = `out-${++serial}`;
  const host = document.createElement('div');
  host.className = 'jp-OutputArea-output';
  host.id = id;
  host.dataset.mimeType = mimeType;
  into.appendChild(host);
  const renderer = rendermime.createRenderer(mimeType);
  const model = new MimeModel({ data: data as never, metadata: metadata as never, trusted: true });
  Widget.attach(renderer, host);
  await renderer.renderModel(model);
  const out: RenderedOutput = { id, mimeType, mimeTypes: Object.keys(data) };
  if (mimeType.startsWith('application/vnd.vegalite')) {
    vegaWidgets.set(id, renderer);
    out.vega = vegaReport(renderer);
  }
  return out;
}

/** What the Vega view drew: mark items in its scenegraph, and painted pixels on its canvas (or SVG marks). */
function vegaReport(widget: Widget): VegaReport {
  const view = (widget as unknown as { _result?: { view: { scenegraph(): { root: SceneMark } } } })._result?.view;
  let markItems = 0;
  const visit = (mark: SceneMark): void => {
    if (mark.role === 'mark' && mark.marktype !== 'group') markItems += mark.items?.length ?? 0;
    for (const item of mark.items ?? []) for (const child of item.items ?? []) visit(child);
  };
  if (view) visit(view.scenegraph().root);
  const canvas = widget.node.querySelector('canvas');
  const svg = widget.node.querySelector('svg.marks');
  let painted = 0;
  if (canvas && canvas.width && canvas.height) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const px = ctx?.getImageData(0, 0, canvas.width, canvas.height).data;
    if (px) {
      const [r0, g0, b0, a0] = [px[0], px[1], px[2], px[3]];
      for (let i = 0; i < px.length; i += 4) if (px[i] !== r0 || px[i + 1] !== g0 || px[i + 2] !== b0 || px[i + 3] !== a0) painted++;
    }
  }
  const svgMarks = svg ? svg.querySelectorAll('g.role-mark > path, g.role-mark > rect, g.role-mark > text, g.role-mark > line').length : 0;
  return { renderer: canvas ? 'canvas' : svg ? 'svg' : 'none', markItems, painted, svgMarks };
}

interface SceneMark {
  role?: string;
  marktype?: string;
  items?: Array<{ items?: SceneMark[] }>;
}

async function render(groups: OutputGroup[]): Promise<RenderedOutput[][]> {
  const main = document.getElementById('outputs')!;
  const reports: RenderedOutput[][] = [];
  for (const group of groups) {
    const section = document.createElement('section');
    section.className = 'cell';
    const title = document.createElement('pre');
    title.className = 'cell-input';
    title.textContent = group.title;
    section.appendChild(title);
    main.appendChild(section);
    const list: RenderedOutput[] = [];
    for (const output of group.outputs) {
      // what JupyterLab's output area shows: the registry's preferred MIME type of the bundle
      const preferred = rendermime.preferredMimeType(output.data as never, 'any');
      if (!preferred) {
        list.push({ id: '', mimeType: '', mimeTypes: Object.keys(output.data) });
        continue;
      }
      list.push(await renderOne(section, output.data, output.metadata ?? {}, preferred));
      // a Vega-Lite spec in a bundle where another type wins is rendered too, to prove the spec draws
      const vl = Object.keys(output.data).find((m) => m.startsWith('application/vnd.vegalite'));
      if (vl && vl !== preferred) {
        const extra = await renderOne(section, { [vl]: output.data[vl] }, output.metadata ?? {}, vl);
        extra.secondary = true;
        list.push(extra);
      }
    }
    reports.push(list);
  }
  return reports;
}

function frameInfo(graph: Element, el: Element): FrameInfo {
  const g = graph.getBoundingClientRect();
  const r = el.getBoundingClientRect();
  return {
    id: el.getAttribute('data-frame-id') ?? '',
    label: el.getAttribute('data-label') ?? '',
    left: r.left - g.left,
    width: r.width,
    top: r.top - g.top,
    zoomed: el.classList.contains('tsprof-flame-zoomed'),
    graphWidth: g.width,
  };
}

function graphOf(cell: number): Element | undefined {
  return document.querySelectorAll('section.cell')[cell]?.querySelector('.tsprof-flame-graph') ?? undefined;
}

function luminance(colour: string): number {
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? ['0', '0', '0']).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

function colours(): Colours {
  const frame = document.querySelector('.tsprof-flame-frame');
  const cell = document.querySelector('.tsprof-source-table td');
  if (!frame || !cell) throw new Error('render a %prun and a %lprun output first');
  return {
    body: luminance(getComputedStyle(document.body).backgroundColor),
    frameBg: luminance(getComputedStyle(frame).backgroundColor),
    frameText: luminance(getComputedStyle(frame).color),
    tableText: luminance(getComputedStyle(cell).color),
  };
}

const ready = bootstrap();
window.tsprofPage = {
  ready,
  render: async (groups) => {
    await ready;
    return render(groups);
  },
  frames: (cell) => {
    const graph = graphOf(cell);
    return graph ? Array.from(graph.querySelectorAll('.tsprof-flame-frame'), (el) => frameInfo(graph, el)) : [];
  },
  frame: (cell, id) => {
    const graph = graphOf(cell);
    const el = graph?.querySelector(`.tsprof-flame-frame[data-frame-id="${CSS.escape(id)}"]`);
    return graph && el ? frameInfo(graph, el) : undefined;
  },
  colours,
  clear: () => {
    for (const w of vegaWidgets.values()) w.dispose();
    vegaWidgets.clear();
    document.getElementById('outputs')!.replaceChildren();
  },
};
