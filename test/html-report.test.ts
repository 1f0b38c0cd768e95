// `tsprof run --html`: a standalone HTML report of an executed notebook — Markdown rendered, sources
// and text escaped, charts as SVG, images as data URIs, errors as text; no JavaScript, nothing to fetch.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT, TSPROF_BIN, runProcess, transcript } from './helpers/jupyter-env.js';
import { escapeHtml, notebookToHtml, renderBundle, renderMarkdown, renderOutput, stripAnsi } from '../kernel/cli/html-report.js';
import { sourceText, type Notebook } from '../kernel/cli/notebook.js';

const dir = mkdtempSync(join(tmpdir(), 'tsprof-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tsprof = (args: string[], timeoutMs = 120_000) => runProcess(process.execPath, [TSPROF_BIN, 'run', ...args], { cwd: ROOT, timeoutMs });

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function notebook(cells: Array<[kind: 'markdown' | 'code', source: string]>): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tsprof', display_name: 'TypeScript (tsprof)', language: 'typescript' }, language_info: { name: 'typescript' } },
    cells: cells.map(([kind, source], i) => (kind === 'markdown' ? { cell_type: 'markdown', id: `m${i}`, metadata: {}, source } : { cell_type: 'code', id: `c${i}`, metadata: {}, source, execution_count: null, outputs: [] })),
  };
}

/** The rendered outputs of the code cell whose source contains `marker`. */
function cellHtml(html: string, marker: string): string {
  const start = html.indexOf(escapeHtml(marker));
  assert.ok(start >= 0, `no cell with ${JSON.stringify(marker)} in the report`);
  const end = html.indexOf('<section class="cell', start);
  return html.slice(start, end < 0 ? undefined : end);
}

function assertSelfContained(html: string): void {
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
  assert.doesNotMatch(html, /<script\b/i, 'the report must need no JavaScript');
  assert.doesNotMatch(html, /<(?:img|link|iframe)[^>]+(?:src|href)="(?:https?:)?\/\//i, 'the report must load nothing from the network');
}

test('tsprof run examples/quickstart.ipynb --html: sources, Markdown, streams, HTML and Markdown outputs, results', { timeout: 180_000 }, async () => {
  const html = join(dir, 'quickstart.html');
  const out = join(dir, 'quickstart.out.ipynb');
  const r = await tsprof(['examples/quickstart.ipynb', '--out', out, '--html', html, '--quiet']);
  assert.equal(r.code, 0, transcript(r));
  assert.ok(existsSync(out), 'the executed notebook is written too');
  const page = readFileSync(html, 'utf8');
  assertSelfContained(page);
  assert.match(page, /<title>tsprof quickstart<\/title>/);
  // Markdown cells are rendered
  assert.match(page, /<h1>tsprof quickstart<\/h1>/);
  assert.match(page, /<h2>1\. Types and interfaces<\/h2>/);
  assert.match(page, /<strong>tsprof<\/strong> is a Jupyter kernel/);
  // code cells show their source, escaped, with the execution count
  assert.match(page, /In&nbsp;\[1\]:<\/div><pre class="source"><code>interface Run \{\n {2}runner: string;/);
  assert.ok(page.includes('&#39;text/html&#39;: `&lt;progress value=&quot;${this.done}&quot; max=&quot;${this.total}&quot;&gt;&lt;/progress&gt; ${pct}%`'), 'HTML inside a cell source is escaped');
  // streams, stdout and stderr
  assert.ok(page.includes('<pre class="output-stream stdout">3 runs loaded\n</pre>'));
  assert.match(cellHtml(page, "console.error('(this line went to stderr)');"), /<pre class="output-stream stderr">\(this line went to stderr\)\n<\/pre>/);
  // rich outputs: HTML as is, Markdown rendered, the final state of an updated display
  assert.match(page, /<div class="output-html"><table><caption>distance<\/caption><tr><td>Ada<\/td>/);
  assert.match(page, /<div class="output-markdown"><table>\n<thead>\n<tr>\n<th>runner<\/th>/);
  assert.ok(page.includes('<progress value="4" max="4"></progress> 100%'));
  // the last expression's value, escaped, with its Out prompt
  assert.match(page, /Out&nbsp;\[8\]:<\/div><div class="output-body"><pre class="output-text">\{ fastest: &#39;Ada&#39;, pace: 4\.8 \}<\/pre>/);
});

test('--html with --out-dir writes a report beside each notebook: charts as SVG, images, errors, escaping', { timeout: 180_000 }, async () => {
  const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', data: { values: [{ k: 'a', v: 3 }, { k: 'b', v: 5 }] }, mark: 'bar', encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } };
  const kitchen = notebook([
    ['markdown', '# Kitchen sink\n\nA *report* with `code` and a table:\n\n| a | b |\n| - | - |\n| 1 | 2 |'],
    ['code', '%timeit -n 20 -r 3 [1, 2, 3].map((x) => x * 2)'],
    ['code', `display.svg('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle id="dot" cx="10" cy="10" r="5"/></svg>');`],
    ['code', `display.png('${PNG}');`],
    ['code', `display.vegalite(${JSON.stringify(spec)});`],
    ['code', `console.log('<script>alert(1)</script> & more');`],
    ['code', `function explode(): never {\n  throw new TypeError('boom <b>not bold</b>');\n}\nexplode();`],
    ['code', `console.log('after the error');`],
  ]);
  const second = notebook([['code', 'const answer: number = 6 * 7;\nanswer']]);
  writeFileSync(join(dir, 'kitchen.ipynb'), JSON.stringify(kitchen));
  writeFileSync(join(dir, 'second.ipynb'), JSON.stringify(second));
  const outDir = join(dir, 'out');
  const r = await tsprof([join(dir, 'kitchen.ipynb'), join(dir, 'second.ipynb'), '--out-dir', outDir, '--html', '--allow-errors']);
  assert.equal(r.code, 1, `one notebook had an error cell, so the exit code is 1\n${transcript(r)}`);
  assert.match(r.stdout, /wrote .*out\/kitchen\.html/);
  assert.ok(existsSync(join(outDir, 'kitchen.ipynb')) && existsSync(join(outDir, 'second.ipynb')));

  const page = readFileSync(join(outDir, 'kitchen.html'), 'utf8');
  assertSelfContained(page);
  assert.match(page, /<title>Kitchen sink<\/title>/);
  assert.match(page, /<em>report<\/em> with <code>code<\/code>/);
  // %timeit: its HTML table and its chart, the SVG fallback the magic sent beside the Vega-Lite spec
  const timeit = cellHtml(page, '%timeit -n 20 -r 3');
  assert.match(timeit, /<div class="output-html"><div class="tsprof-timeit">.*per loop \(mean ± std\. dev\. of 3 runs, 20 loops each\)/s);
  assert.match(timeit, /<div class="output-chart"><svg [^>]*class="marks"[\s\S]*<\/svg><\/div>/);
  // an SVG output inline, a PNG as a data URI
  assert.match(cellHtml(page, 'display.svg('), /<div class="output-svg"><svg [^>]*><circle id="dot" cx="10" cy="10" r="5"\/><\/svg><\/div>/);
  assert.ok(cellHtml(page, 'display.png(').includes(`<img alt="" src="data:image/png;base64,${PNG}">`));
  // a Vega-Lite output with no fallback of its own: rendered to SVG by the report (two bars)
  const vl = cellHtml(page, 'display.vegalite(');
  assert.match(vl, /<div class="output-chart"><svg /);
  assert.equal((vl.match(/aria-roledescription="bar"/g) ?? []).length, 2, `two bars expected in ${vl.slice(0, 300)}`);
  // text is escaped, never interpreted
  assert.ok(page.includes('<pre class="output-stream stdout">&lt;script&gt;alert(1)&lt;/script&gt; &amp; more\n</pre>'));
  // the error as text: type, message (escaped), the cell line; no terminal colour codes
  const err = cellHtml(page, 'function explode(): never {');
  assert.match(err, /<pre class="output-error">[^<]*TypeError[^<]*boom &lt;b&gt;not bold&lt;\/b&gt;[\s\S]*cell-\d+:2/);
  assert.doesNotMatch(page, /\x1b\[/);
  assert.match(cellHtml(page, "console.log('after the error');"), /after the error/);

  const page2 = readFileSync(join(outDir, 'second.html'), 'utf8');
  assertSelfContained(page2);
  assert.match(page2, /Out&nbsp;\[1\]:<\/div><div class="output-body"><pre class="output-text">42<\/pre>/);
});

test('--no-execute --html-dir writes the reports of the committed examples without a kernel', { timeout: 120_000 }, async () => {
  const htmlDir = join(dir, 'reports');
  const r = await tsprof(['examples/timeit-comparison.ipynb', 'examples/fibonacci-prun.ipynb', 'examples/http-memory.ipynb', '--no-execute', '--html-dir', htmlDir]);
  assert.equal(r.code, 0, transcript(r));
  for (const name of ['timeit-comparison', 'fibonacci-prun', 'http-memory']) {
    const page = readFileSync(join(htmlDir, `${name}.html`), 'utf8');
    assertSelfContained(page);
    const nb = JSON.parse(readFileSync(join(ROOT, 'examples', `${name}.ipynb`), 'utf8')) as Notebook;
    const charts = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => 'data' in o && o.data['application/vnd.vegalite.v5+json'] !== undefined).length;
    assert.ok(charts > 0, `${name} has charts`);
    assert.equal((page.match(/<div class="output-chart"><svg /g) ?? []).length, charts, `${name}: one SVG per chart`);
    const firstSource = sourceText(nb.cells.find((c) => c.cell_type === 'code')!.source);
    assert.ok(page.includes(escapeHtml(firstSource)), `${name}: the first code cell's source`);
  }
});

test('tsprof run rejects option combinations that cannot be honoured', async () => {
  const two = await tsprof(['examples/quickstart.ipynb', 'examples/memit.ipynb', '--html', join(dir, 'x.html')], 30_000);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /--html FILE takes one notebook/);
  const noHtml = await tsprof(['examples/quickstart.ipynb', '--no-execute'], 30_000);
  assert.equal(noHtml.code, 2);
  assert.match(noHtml.stderr, /--no-execute only writes HTML reports/);
  assert.equal(existsSync(join(dir, 'x.html')), false);
});

test('renderBundle and renderOutput: the representation a static page can show', async () => {
  // text/plain is escaped; colour codes are dropped
  assert.equal(await renderBundle({ 'text/plain': '\x1b[31m<b>red</b>\x1b[0m' }), '<pre class="output-text">&lt;b&gt;red&lt;/b&gt;</pre>');
  // an image with its size from the output metadata
  assert.equal(await renderBundle({ 'image/png': PNG, 'text/plain': '<PNG image>' }, { 'image/png': { width: 64 } }), `<div class="output-image"><img alt="" src="data:image/png;base64,${PNG}" width="64"></div>`);
  // Markdown output rendered; JSON pretty-printed when there is no text/plain
  assert.equal(await renderBundle({ 'text/markdown': '**bold**' }), '<div class="output-markdown"><p><strong>bold</strong></p>\n</div>');
  assert.equal(await renderBundle({ 'application/json': { a: [1] } }), '<pre class="output-json">{\n  &quot;a&quot;: [\n    1\n  ]\n}</pre>');
  // tsprof's profile bundle is for the JupyterLab extension: the HTML beside it is what the page shows
  assert.equal(await renderBundle({ 'application/vnd.tsprof.profile+json': { version: 1 }, 'text/html': '<table></table>', 'text/plain': 'x' }), '<div class="output-html"><table></table></div>');
  // a Vega-Lite spec that cannot be compiled leaves its text
  assert.equal(await renderBundle({ 'application/vnd.vegalite.v5+json': { mark: 'no-such-mark' }, 'text/plain': 'a chart' }), '<pre class="output-text">a chart</pre>');
  // errors and streams
  assert.equal(await renderOutput({ output_type: 'error', ename: 'E', evalue: 'v', traceback: ['\x1b[0;31mE\x1b[0m: v <here>'] }), '<pre class="output-error">E: v &lt;here&gt;</pre>');
  assert.equal(await renderOutput({ output_type: 'stream', name: 'stderr', text: 'a < b' }), '<pre class="output-stream stderr">a &lt; b</pre>');
  assert.equal(stripAnsi('\x1b[1;32mok\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07'), 'ok link');
  // Markdown with an attached image (Jupyter stores pasted images in the cell)
  assert.equal(renderMarkdown('![dot](attachment:dot.png)', { 'dot.png': { 'image/png': PNG } }), `<p><img src="data:image/png;base64,${PNG}" alt="dot"></p>\n`);
  // a whole notebook: title from the first heading, kernel name in the header
  const page = await notebookToHtml(notebook([['markdown', '# A `title` here'], ['code', 'x < 1']]), { name: 'n.ipynb' });
  assert.match(page, /<title>A title here<\/title>/);
  assert.match(page, /<header class="report">n\.ipynb · TypeScript \(tsprof\)<\/header>/);
  assert.match(page, /<pre class="source"><code>x &lt; 1<\/code><\/pre>/);
});
