// `tsprof run --html`: one self-contained HTML file from an executed notebook. No JavaScript and
// nothing fetched: Markdown is rendered here (marked), charts appear as their SVG (the fallback the
// magics send beside Vega-Lite, or rendered here with vega when a Vega-Lite output has none), images
// as data URIs. Everything that is not already HTML is escaped.
import { Marked } from 'marked';
import type { MimeBundle } from '../wire/message.js';
import { sourceText, type Cell, type Notebook, type Output } from './notebook.js';

export interface HtmlReportOptions {
  /** The page title; by default the notebook's first Markdown heading, else `name`. */
  title?: string;
  /** The notebook's file name, shown in the header. */
  name?: string;
}

const VEGALITE = /^application\/vnd\.vegalite\.v\d+\+json$/;
const VEGA = /^application\/vnd\.vega\.v\d+\+json$/;
const IMAGE_DATA = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Terminal colour and cursor sequences (tracebacks are coloured) carry nothing a page can show. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '');
}

const text = (v: unknown): string => (Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : JSON.stringify(v, null, 1));

function markdownRenderer(attachments?: Record<string, MimeBundle>): Marked {
  const md = new Marked({ gfm: true, async: false });
  if (attachments) {
    // Jupyter stores pasted images in the cell: ![x](attachment:name.png)
    md.use({
      walkTokens(token) {
        if (token.type === 'image' && token.href.startsWith('attachment:')) {
          const bundle = attachments[decodeURIComponent(token.href.slice('attachment:'.length))];
          const mime = bundle && Object.keys(bundle).find((m) => m.startsWith('image/'));
          if (mime) token.href = mime === 'image/svg+xml' ? `data:${mime};base64,${Buffer.from(text(bundle[mime])).toString('base64')}` : `data:${mime};base64,${text(bundle[mime]).replace(/\s+/g, '')}`;
        }
      },
    });
  }
  return md;
}

export function renderMarkdown(source: string, attachments?: Record<string, MimeBundle>): string {
  return markdownRenderer(attachments).parse(source, { async: false }) as string;
}

let renderers: Promise<typeof import('../../magics/render/vegalite.js')> | undefined;

/** SVG of a Vega-Lite (or Vega) spec, rendered with vega; undefined if it cannot be compiled. */
async function chartSvg(mime: string, spec: unknown): Promise<string | undefined> {
  try {
    renderers ??= import('../../magics/render/vegalite.js');
    const { renderSvg, renderVegaSvg } = await renderers;
    return VEGALITE.test(mime) ? await renderSvg(spec as Parameters<typeof renderSvg>[0]) : await renderVegaSvg(spec as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

function imageSize(metadata: Record<string, unknown> | undefined, mime: string): string {
  const m = (metadata?.[mime] ?? metadata) as { width?: unknown; height?: unknown } | undefined;
  const attrs: string[] = [];
  if (typeof m?.width === 'number') attrs.push(` width="${m.width}"`);
  if (typeof m?.height === 'number') attrs.push(` height="${m.height}"`);
  return attrs.join('');
}

/**
 * The HTML of one display_data / execute_result bundle. A front end shows one representation; a static
 * page can do better for tsprof's bundles, which pair an HTML table with a chart: the HTML is shown,
 * then the chart (as SVG). Otherwise the richest representation wins: HTML, SVG, raster image,
 * Markdown, LaTeX (as source), JSON, plain text.
 */
export async function renderBundle(data: MimeBundle, metadata?: Record<string, unknown>): Promise<string> {
  const parts: string[] = [];
  const mimes = Object.keys(data);
  const chartMime = mimes.find((m) => VEGALITE.test(m) || VEGA.test(m));
  let chart: string | undefined;
  if (chartMime) {
    // The SVG fallback sent beside the spec is what the author saw; render the spec only without one.
    chart = data['image/svg+xml'] !== undefined ? text(data['image/svg+xml']) : await chartSvg(chartMime, data[chartMime]);
    const png = !chart && data['image/png'] !== undefined ? text(data['image/png']) : undefined;
    if (png) chart = `<img alt="chart" src="data:image/png;base64,${png.replace(/\s+/g, '')}">`;
  }
  if (data['text/html'] !== undefined) parts.push(`<div class="output-html">${text(data['text/html'])}</div>`);
  if (chart) parts.push(`<div class="output-chart">${chart}</div>`);
  if (parts.length) return parts.join('\n');
  if (data['image/svg+xml'] !== undefined) return `<div class="output-svg">${text(data['image/svg+xml'])}</div>`;
  const image = IMAGE_DATA.find((m) => data[m] !== undefined);
  if (image) return `<div class="output-image"><img alt="" src="data:${image};base64,${text(data[image]).replace(/\s+/g, '')}"${imageSize(metadata, image)}></div>`;
  if (data['text/markdown'] !== undefined) return `<div class="output-markdown">${renderMarkdown(text(data['text/markdown']))}</div>`;
  if (data['text/latex'] !== undefined) return `<pre class="output-latex">${escapeHtml(text(data['text/latex']))}</pre>`;
  const json = mimes.find((m) => m === 'application/json' || (/^application\/.*\+json$/.test(m) && !m.startsWith('application/vnd.tsprof.')));
  if (data['text/plain'] === undefined && json) return `<pre class="output-json">${escapeHtml(JSON.stringify(data[json], null, 2))}</pre>`;
  if (data['text/plain'] !== undefined) return `<pre class="output-text">${escapeHtml(stripAnsi(text(data['text/plain'])))}</pre>`;
  if (chartMime) return `<pre class="output-text">${escapeHtml(`[${chartMime}: the chart could not be rendered]`)}</pre>`;
  return '';
}

export async function renderOutput(out: Output): Promise<string> {
  switch (out.output_type) {
    case 'stream':
      return `<pre class="output-stream ${out.name === 'stderr' ? 'stderr' : 'stdout'}">${escapeHtml(stripAnsi(text(out.text)))}</pre>`;
    case 'error': {
      const tb = out.traceback?.length ? out.traceback.map((l) => stripAnsi(text(l))).join('\n') : `${out.ename}: ${out.evalue}`;
      return `<pre class="output-error">${escapeHtml(tb)}</pre>`;
    }
    case 'display_data':
    case 'execute_result':
      return renderBundle(out.data, out.metadata);
    default:
      return '';
  }
}

function prompt(label: string, count: number | null | undefined): string {
  return `<div class="prompt">${label}&nbsp;[${count ?? '&nbsp;'}]:</div>`;
}

async function renderCell(cell: Cell): Promise<string> {
  const source = sourceText(cell.source);
  if (cell.cell_type === 'markdown') {
    const attachments = (cell as Cell & { attachments?: Record<string, MimeBundle> }).attachments;
    return `<section class="cell markdown">${renderMarkdown(source, attachments)}</section>`;
  }
  if (cell.cell_type === 'raw') return source.trim() ? `<section class="cell raw"><pre>${escapeHtml(source)}</pre></section>` : '';
  const outputs: string[] = [];
  for (const out of cell.outputs ?? []) {
    const html = await renderOutput(out);
    if (!html) continue;
    const count = out.output_type === 'execute_result' ? out.execution_count : undefined;
    outputs.push(`<div class="output${out.output_type === 'execute_result' ? ' result' : ''}">${count !== undefined ? prompt('Out', count) : '<div class="prompt"></div>'}<div class="output-body">${html}</div></div>`);
  }
  return [
    `<section class="cell code">`,
    `<div class="input">${prompt('In', cell.execution_count)}<pre class="source"><code>${escapeHtml(source)}</code></pre></div>`,
    outputs.length ? `<div class="outputs">${outputs.join('\n')}</div>` : '',
    `</section>`,
  ].join('\n');
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
header.report { border-bottom: 1px solid #d0d7de; margin-bottom: 16px; color: #59636e; font-size: 12px; }
.cell { margin: 12px 0; }
.cell.markdown { padding: 0 8px 0 88px; }
.cell.markdown table { border-collapse: collapse; }
.cell.markdown th, .cell.markdown td { border: 1px solid #d0d7de; padding: 3px 8px; }
.cell.markdown code, .output-markdown code { background: #f6f8fa; padding: 1px 4px; border-radius: 3px; }
.cell.markdown pre code { background: none; padding: 0; }
.cell.markdown pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
.input, .output { display: flex; align-items: flex-start; }
.prompt { flex: 0 0 80px; text-align: right; padding: 6px 8px 0 0; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #307fc1; }
.output .prompt { color: #bf5b3d; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre.source { flex: 1; margin: 0; padding: 6px 8px; background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; overflow-x: auto; }
.outputs { margin-top: 4px; }
.output-body { flex: 1; min-width: 0; overflow-x: auto; }
.output-body pre { margin: 4px 0; padding: 0 8px; white-space: pre; }
pre.stderr { background: #fff5f5; }
pre.output-error { background: #ffebe9; color: #82071e; padding: 6px 8px; }
.output-chart svg, .output-svg svg { max-width: 100%; height: auto; }
.output-html table, .tsprof-table { border-collapse: collapse; font-size: 12.5px; margin: 4px 0; }
.output-html th, .output-html td { padding: 2px 8px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
.output-html thead th { border-bottom: 1px solid #8c959f; }
`;

/** A complete HTML document for an (executed) notebook. */
export async function notebookToHtml(nb: Notebook, options: HtmlReportOptions = {}): Promise<string> {
  const cells: string[] = [];
  for (const cell of nb.cells) cells.push(await renderCell(cell));
  const heading = nb.cells.find((c) => c.cell_type === 'markdown' && /^#\s+\S/m.test(sourceText(c.source)));
  const fromHeading = heading ? /^#\s+(.+)$/m.exec(sourceText(heading.source))?.[1].replace(/[`*_]/g, '').trim() : undefined;
  const title = options.title ?? fromHeading ?? options.name ?? 'notebook';
  const kernel = (nb.metadata.kernelspec as { display_name?: string; name?: string } | undefined) ?? {};
  const about = [options.name, kernel.display_name ?? kernel.name].filter(Boolean).map((s) => escapeHtml(String(s))).join(' · ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="tsprof run --html">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    about ? `<header class="report">${about}</header>` : '',
    cells.filter(Boolean).join('\n'),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
