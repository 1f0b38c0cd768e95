// What test/browser.test.ts and the test page (test/browser/page.ts) exchange. Types only: the
// test (root tsc, no DOM) and the page (esbuild, DOM) both import this file.

/** An entry of JupyterLab's page config `federated_extensions` (as jupyterlab_server writes it). */
export interface FederatedExtension {
  name: string;
  load: string;
  extension?: string;
  mimeExtension?: string;
  style?: string;
}

/** Outputs of one cell: display_data / execute_result bundles, string values already joined. */
export interface OutputGroup {
  title: string;
  outputs: Array<{ data: Record<string, unknown>; metadata?: Record<string, unknown> }>;
}

export interface PageReady {
  loaded: string[];
  failed: string[];
  /** ids of the mime extensions registered from federated extensions */
  mimeExtensions: string[];
  /** the registry's MIME types, most preferred first */
  mimeTypes: string[];
}

export interface VegaReport {
  renderer: 'canvas' | 'svg' | 'none';
  /** items of the view's marks (role `mark`) in its scenegraph */
  markItems: number;
  /** canvas pixels that differ from the corner pixel */
  painted: number;
  svgMarks: number;
}

export interface RenderedOutput {
  /** id of the output's host element ('' when nothing could render it) */
  id: string;
  /** the MIME type rendered */
  mimeType: string;
  /** every MIME type of the bundle */
  mimeTypes: string[];
  /** rendered only to check a Vega-Lite spec that JupyterLab would not show (another type wins) */
  secondary?: boolean;
  vega?: VegaReport;
}

export interface FrameInfo {
  id: string;
  label: string;
  /** px, relative to the graph */
  left: number;
  width: number;
  top: number;
  zoomed: boolean;
  /** width of the graph, px */
  graphWidth: number;
}

/** Relative luminance (0 dark … 1 light) of computed colours on the page. */
export interface Colours {
  body: number;
  frameBg: number;
  frameText: number;
  tableText: number;
}

export interface PageApi {
  ready: Promise<PageReady>;
  render(groups: OutputGroup[]): Promise<RenderedOutput[][]>;
  /** The flame frames drawn in the n-th rendered cell (section.cell). */
  frames(cell: number): FrameInfo[];
  frame(cell: number, id: string): FrameInfo | undefined;
  colours(): Colours;
  clear(): void;
}
