// Browser tests: real kernel outputs rendered by JupyterLab's own renderers in headless Chromium
// (Debian's), with tsprof's prebuilt JupyterLab extension installed by `tsprof install`, found by
// jupyterlab_server (JupyterLab's discovery code) and loaded through webpack module federation the
// way JupyterLab's page loads it. Screenshots go to test-output/screenshots/ for people to look at.
//
// Nothing here reaches outside the machine: the page is served from 127.0.0.1, Chromium runs with
// background networking off, and every process started here is stopped by its handle at the end.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import type { Message } from '../kernel/wire/message.js';
import { launchKernel } from '../kernel/client/launch.js';
import { PYTHON, PYTHON_FLAGS, ROOT, makeJupyterEnv, runProcess, transcript, withTimeout, type JupyterEnv } from './helpers/jupyter-env.js';
import type { FederatedExtension, OutputGroup, PageApi, PageReady, RenderedOutput } from './browser/protocol.js';
// Functions passed to page.evaluate run in the browser and reach the page's API as
// `(globalThis as unknown as { tsprofPage: PageApi }).tsprofPage` (this file is compiled without the DOM lib).

const CHROMIUM = process.env.TSPROF_CHROMIUM ?? '/usr/bin/chromium';
const PROFILE_MIME = 'application/vnd.tsprof.profile+json';
const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
const COMPANION_MIME = 'application/vnd.tsprof.companion+json';
const SHOTS = join(ROOT, 'test-output', 'screenshots');

// playwright-core's types, without importing it before the test decides to run
type Playwright = typeof import('playwright-core');
type BrowserContext = import('playwright-core').BrowserContext;
type Page = import('playwright-core').Page;

/** The cells executed by a real kernel; their outputs are what the page renders. */
const DEFINITIONS = `function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function memo(n: number, seen = new Map<number, number>()): number {
  if (n < 2) return n;
  const hit = seen.get(n);
  if (hit !== undefined) return hit;
  const v = memo(n - 1, seen) + memo(n - 2, seen);
  seen.set(n, v);
  return v;
}
function both(n: number): number { return fib(n) + memo(n); }
function primes(n: number): number {
  const found = new Set<number>();
  let candidate = 2;
  let sum = 0;
  while (found.size < n) {
    let isPrime = true;
    for (const p of found) {
      if (p * p > candidate) break;
      if (candidate % p === 0) { isPrime = false; break; }
    }
    if (isPrime) { found.add(candidate); sum += candidate; }
    candidate++;
  }
  return sum;
}
function build(n: number): [number[], Map<number, string>] {
  const list: number[] = [];
  for (let i = 0; i < n; i++) list.push(i);
  const map = new Map<number, string>();
  for (let i = 0; i < n; i++) map.set(i, String(i));
  return [list, map];
}`;
const CELLS: Array<{ code: string; kind?: 'prun' | 'prun-c' | 'lprun' | 'mprun' | 'timeit' | 'compare' | 'memit' }> = [
  { code: DEFINITIONS },
  { code: '%prun both(30)', kind: 'prun' },
  { code: '%prun -c fib(30)', kind: 'prun-c' },
  // Long enough for the sampler (every 500 µs) to give the lines different % Time.
  { code: '%lprun -f primes primes(20000)', kind: 'lprun' },
  { code: '%mprun -f build build(100_000)', kind: 'mprun' },
  { code: '%timeit -n 2000 -r 5 Array.from({ length: 100 }, (_, i) => i * 2)', kind: 'timeit' },
  { code: '%%timeit -n 200 -r 5 --compare\n// push\nconst a: number[] = []; for (let i = 0; i < 1000; i++) a.push(i);\n// Array.from\nArray.from({ length: 1000 }, (_, i) => i);', kind: 'compare' },
  { code: '%memit new Float64Array(2_000_000)', kind: 'memit' },
];

interface Captured extends OutputGroup {
  kind?: string;
}

let jenv: JupyterEnv;
let captured: Captured[] = [];
let federated: FederatedExtension[] = [];
let labextensionsDir = '';
let server: Server | undefined;
let baseUrl = '';
let pageDir = '';
let playwright: Playwright;
let context: BrowserContext | undefined;
const consoleErrors: string[] = [];
const timings: Record<string, number> = {};
const notShownCharts: string[] = [];

async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/install-test-deps.sh installs Debian's chromium`);
  mkdirSync(SHOTS, { recursive: true });
  // `tsprof install --prefix TMP`: the kernelspec and the prebuilt extension (built from labextension/ if stale)
  jenv = await timed('install', async () => makeJupyterEnv('browser'));
  labextensionsDir = join(jenv.jupyterPath, 'labextensions');
  federated = await timed('discover', discoverExtensions);
  pageDir = join(jenv.dir, 'page');
  await timed('bundlePage', () => bundlePage(pageDir));
  captured = await timed('kernelOutputs', captureKernelOutputs);
  captured.push(...exampleOutputs());
  server = await startServer();
  playwright = await import('playwright-core');
  context = await timed('launchChromium', () =>
    playwright.chromium.launchPersistentContext(join(jenv.dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1200, height: 900 },
      deviceScaleFactor: 1,
      // as root Chromium needs --no-sandbox; nothing outside this machine is reachable, so no background traffic
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', '--disable-dev-shm-usage'],
    }),
  );
});

after(async () => {
  try {
    if (context) await withTimeout(context.close(), 20_000, 'close chromium').catch((e: unknown) => console.log(`# ${String(e)}`));
  } finally {
    // a Chromium that did not close: its processes carry our profile directory on their command line
    if (jenv) killChromium(join(jenv.dir, 'chromium-profile'));
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    jenv?.cleanup();
    console.log(`# browser timings (ms): ${JSON.stringify(timings)}`);
    if (notShownCharts.length) console.log(`# charts JupyterLab would not show (another MIME type of the bundle wins):\n#   ${notShownCharts.join('\n#   ')}`);
  }
});

/** SIGKILL the Chromium processes started with this (temporary, ours only) profile directory. */
function killChromium(profile: string): void {
  // Chromium's helpers rewrite their command line into one space-separated string
  const marker = `--user-data-dir=${profile}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const at = cmdline.indexOf(marker);
      const end = cmdline[at + marker.length];
      if (at >= 0 && (end === undefined || end === ' ' || end === '\0')) process.kill(Number(entry), 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

/** The federated extensions JupyterLab's page config would list, from jupyterlab_server's own code. */
async function discoverExtensions(): Promise<FederatedExtension[]> {
  const script = [
    'import json, logging',
    'from jupyter_core.paths import jupyter_path',
    'from jupyterlab_server.config import get_federated_extensions, get_page_config',
    'path = jupyter_path("labextensions")',
    'exts = get_federated_extensions(path)',
    'page = get_page_config(path, logger=logging.getLogger("tsprof-test"))',
    'print(json.dumps({"path": path, "found": {k: v["ext_path"] for k, v in exts.items()}, "federated": page["federated_extensions"]}))',
  ].join('\n');
  const r = await runProcess(PYTHON, [...PYTHON_FLAGS, '-c', script], { env: jenv.env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `jupyterlab_server could not list the extensions:\n${transcript(r)}`);
  const out = JSON.parse(r.stdout) as { path: string[]; found: Record<string, string>; federated: FederatedExtension[] };
  assert.equal(out.found.tsprof, join(labextensionsDir, 'tsprof'), `jupyterlab_server found: ${JSON.stringify(out.found)} in ${out.path.join(', ')}`);
  // other extensions installed on this machine are not the subject here (the page shares only what ours needs)
  return out.federated.filter((e) => e.name === 'tsprof');
}

/** Type-check the page (its own tsconfig, with the DOM) and bundle it with esbuild. */
async function bundlePage(outdir: string): Promise<void> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const check = await runProcess(process.execPath, [tsc, '-p', join(ROOT, 'test', 'browser', 'tsconfig.json')], { timeoutMs: 120_000 });
  assert.equal(check.code, 0, `the test page does not type-check:\n${transcript(check)}`);
  const versions: Record<string, string> = {};
  for (const name of ['@lumino/widgets', '@lumino/coreutils', '@lumino/messaging', '@lumino/signaling', '@lumino/algorithm', '@jupyterlab/rendermime']) {
    versions[name] = (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  }
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(ROOT, 'test', 'browser', 'page.ts')],
    bundle: true,
    outdir,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    sourcemap: 'linked',
    define: { SHARED_VERSIONS: JSON.stringify(versions), 'process.env.NODE_ENV': '"production"' },
    loader: { '.svg': 'dataurl', '.png': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl' },
    logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
}

/** Run the cells through a real kernel and keep each cell's final outputs (display updates applied). */
async function captureKernelOutputs(): Promise<Captured[]> {
  const k = await launchKernel({ cwd: jenv.work });
  try {
    const groups: Captured[] = [];
    for (const cell of CELLS) {
      const r = await k.client.execute(cell.code, { timeoutMs: 180_000 });
      assert.equal(r.reply.content.status, 'ok', `cell failed: ${cell.code}\n${JSON.stringify(r.reply.content)}\n${k.stderr()}`);
      if (!cell.kind) continue;
      groups.push({ title: cell.code, kind: cell.kind, outputs: finalOutputs(r.iopub) });
    }
    return groups;
  } finally {
    await k.stop();
  }
}

/** What a notebook keeps of a cell's iopub traffic: display_data / execute_result, update_display_data applied by display_id. */
function finalOutputs(iopub: readonly Message[]): OutputGroup['outputs'] {
  const outputs: Array<{ data: Record<string, unknown>; metadata: Record<string, unknown>; displayId?: string }> = [];
  for (const m of iopub) {
    const c = m.content as { data?: Record<string, unknown>; metadata?: Record<string, unknown>; transient?: { display_id?: string } };
    const displayId = c.transient?.display_id;
    if (m.header.msg_type === 'display_data' || m.header.msg_type === 'execute_result') {
      outputs.push({ data: c.data ?? {}, metadata: c.metadata ?? {}, displayId });
    } else if (m.header.msg_type === 'update_display_data') {
      for (const o of outputs) if (displayId && o.displayId === displayId) Object.assign(o, { data: c.data ?? {}, metadata: c.metadata ?? {} });
    }
  }
  return outputs.map(({ data, metadata }) => ({ data, metadata }));
}

/** Outputs of the executed example notebooks, if they carry any (as JupyterLab reads them: multiline strings joined). */
function exampleOutputs(): Captured[] {
  const dir = join(ROOT, 'examples');
  if (!existsSync(dir)) return [];
  const groups: Captured[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort()) {
    const nb = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cells: Array<{ cell_type: string; source: string | string[]; outputs?: Array<{ output_type: string; data?: Record<string, unknown>; metadata?: Record<string, unknown> }> }> };
    for (const cell of nb.cells) {
      const outputs = (cell.outputs ?? []).filter((o) => (o.output_type === 'display_data' || o.output_type === 'execute_result') && o.data);
      if (!outputs.length) continue;
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      groups.push({
        title: `${file}: ${source.split('\n').slice(0, 3).join('\n')}`,
        kind: `example`,
        outputs: outputs.map((o) => ({ data: joinMultiline(o.data!), metadata: o.metadata ?? {} })),
      });
    }
  }
  return groups;
}

function joinMultiline(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(data)) out[mime] = Array.isArray(v) && !/json$/.test(mime) ? v.join('') : v;
  return out;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** A static server on 127.0.0.1: the page, the theme variables and the installed labextensions (as /lab/extensions/). */
async function startServer(): Promise<Server> {
  const themes: Record<string, string> = {
    light: join(ROOT, 'node_modules', '@jupyterlab', 'theme-light-extension', 'style', 'variables.css'),
    dark: join(ROOT, 'node_modules', '@jupyterlab', 'theme-dark-extension', 'style', 'variables.css'),
  };
  const config = JSON.stringify({ fullLabextensionsUrl: '/lab/extensions', federated_extensions: federated }).replace(/</g, '\\u003c');
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const file = (root: string, rel: string): void => {
      const path = normalize(join(root, decodeURIComponent(rel)));
      if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) return send(404, 'text/plain', 'not found');
      send(200, CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', readFileSync(path));
    };
    if (url.pathname === '/') {
      const theme = url.searchParams.get('theme') === 'dark' ? 'dark' : 'light';
      return send(200, CONTENT_TYPES['.html'], `<!doctype html>
<html><head><meta charset="utf-8"><title>tsprof outputs (${theme})</title>
<script id="jupyter-config-data" type="application/json">${config}</script>
<link rel="stylesheet" href="/theme/${theme}.css"><link rel="stylesheet" href="/page.css">
</head><body data-jp-theme-light="${theme === 'light'}" data-jp-theme-name="JupyterLab ${theme === 'light' ? 'Light' : 'Dark'}">
<main id="outputs"></main><script src="/page.js"></script></body></html>`);
    }
    if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
    const theme = /^\/theme\/(light|dark)\.css$/.exec(url.pathname);
    if (theme) return send(200, CONTENT_TYPES['.css'], readFileSync(themes[theme[1]]));
    if (url.pathname.startsWith('/lab/extensions/')) return file(labextensionsDir, url.pathname.slice('/lab/extensions/'.length));
    return file(pageDir, url.pathname.slice(1));
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
  return s;
}

/** A fresh tab on the page in a theme, with every console error, page error and failed request recorded. */
async function openPage(theme: 'light' | 'dark'): Promise<{ page: Page; ready: PageReady }> {
  const page = await context!.newPage();
  page.setDefaultTimeout(30_000);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`[${theme}] console: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`[${theme}] page error: ${e.message}`));
  page.on('requestfailed', (r) => consoleErrors.push(`[${theme}] request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`[${theme}] HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${baseUrl}?theme=${theme}`, { waitUntil: 'load' });
  const ready = await page.evaluate(() => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.ready);
  return { page, ready };
}

function renderGroups(page: Page, groups: OutputGroup[]): Promise<RenderedOutput[][]> {
  return page.evaluate((g) => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.render(g), groups);
}

const groupOf = (kind: string): Captured => {
  const g = captured.find((c) => c.kind === kind);
  assert.ok(g, `no captured outputs for ${kind}`);
  return g;
};
const profileOf = <T>(kind: string): T => groupOf(kind).outputs.find((o) => o.data[PROFILE_MIME])!.data[PROFILE_MIME] as T;

/** Rows of the HTML tables in an HTML string (body rows: those with a <td>). */
function htmlTableRows(html: string): number {
  return (html.match(/<tr[\s>][\s\S]*?<\/tr>/g) ?? []).filter((tr) => /<td[\s>]/.test(tr)).length;
}

let lightPage: Page | undefined;
let lightReports: RenderedOutput[][] = [];

test('tsprof install puts the prebuilt extension where JupyterLab looks, and jupyterlab_server lists it', () => {
  const dir = join(labextensionsDir, 'tsprof');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; jupyterlab: { mimeExtension: unknown; _build: { load: string; mimeExtension: string; style: string } } };
  assert.equal(pkg.name, 'tsprof');
  assert.match(pkg.jupyterlab._build.load, /^static\/remoteEntry\.[0-9a-f]+\.js$/);
  assert.ok(existsSync(join(dir, pkg.jupyterlab._build.load)), 'remoteEntry file exists');
  assert.equal(pkg.jupyterlab._build.mimeExtension, './mimeExtension');
  assert.equal(pkg.jupyterlab._build.style, './style');
  assert.ok(existsSync(join(dir, 'install.json')), 'install.json (shown by `jupyter labextension list`)');
  assert.deepEqual(federated.map((e) => [e.name, e.load, e.mimeExtension]), [['tsprof', pkg.jupyterlab._build.load, './mimeExtension']]);
});

test('JupyterLab\'s renderers show every captured output: charts draw marks, tables have their rows', async () => {
  const { page, ready } = await openPage('light');
  lightPage = page;
  assert.deepEqual(ready.failed, [], 'federated extensions that failed to load');
  assert.deepEqual(ready.loaded, ['tsprof']);
  assert.deepEqual(ready.mimeExtensions, ['tsprof:profile-renderer']);
  assert.ok(ready.mimeTypes.indexOf(PROFILE_MIME) < ready.mimeTypes.indexOf('text/html'), `profile renderer ranks before HTML: ${ready.mimeTypes.join(', ')}`);

  lightReports = await timed('renderLight', () => renderGroups(page, captured));
  let charts = 0;
  let htmlTables = 0;
  let profiles = 0;
  for (const [gi, group] of captured.entries()) {
    const reports = lightReports[gi];
    const primary = reports.filter((r) => !r.secondary);
    assert.equal(primary.length, group.outputs.length, `${group.title}: one rendered output per output`);
    for (const [oi, output] of group.outputs.entries()) {
      const r = primary[oi];
      const where = `${group.title.split('\n')[0]} output ${oi} (${r.mimeTypes.join(', ')})`;
      assert.ok(r.mimeType, `${where}: no renderer`);
      if (output.data[PROFILE_MIME]) assert.equal(r.mimeType, PROFILE_MIME, `${where}: the profile renderer is preferred`);
      // a chart the profile view covers carries the companion marker: the extension renders it as nothing
      if (output.data[COMPANION_MIME]) assert.equal(r.mimeType, COMPANION_MIME, `${where}: the companion marker wins`)
      else if (output.data[VEGALITE_MIME] && r.mimeType !== VEGALITE_MIME) notShownCharts.push(`${where}: JupyterLab shows ${r.mimeType}`);
      if (r.mimeType === 'text/html' && /<table/.test(String(output.data['text/html']))) {
        const expected = htmlTableRows(String(output.data['text/html']));
        const rows = await page.locator(`#${r.id} table tbody tr`).count();
        assert.equal(rows, expected, `${where}: HTML table rows`);
        htmlTables++;
      }
      if (r.mimeType === PROFILE_MIME) {
        const b = output.data[PROFILE_MIME] as { kind: string; rows?: unknown[]; flame?: { totalMs: number; children: unknown[] }; functions?: Array<{ lines: unknown[] }> };
        if (b.kind === 'prun') {
          assert.equal(await page.locator(`#${r.id} .tsprof-pstats tbody tr`).count(), b.rows!.length, `${where}: pstats rows`);
          // a statement shorter than the sampling interval has no samples: then only the root, and a note
          if (b.flame!.totalMs > 0 && b.flame!.children.length) assert.ok((await page.locator(`#${r.id} .tsprof-flame-frame`).count()) > 1, `${where}: flame frames`);
          else assert.match(await page.locator(`#${r.id} .tsprof-flame-help`).innerText(), /no samples/);
        } else {
          const tables = page.locator(`#${r.id} section.tsprof-function table`);
          assert.equal(await tables.count(), b.functions!.length, `${where}: one source table per function`);
          for (const [fi, fn] of b.functions!.entries()) assert.equal(await tables.nth(fi).locator('tbody tr').count(), fn.lines.length, `${where}: source lines`);
          assert.ok((await page.locator(`#${r.id} .tsprof-heat-fill`).count()) > 0, `${where}: heat bars`);
        }
        profiles++;
      }
    }
    for (const r of reports.filter((x) => x.vega)) {
      const v = r.vega!;
      assert.ok(v.markItems > 0, `${group.title.split('\n')[0]}: Vega-Lite chart has mark items (${JSON.stringify(v)})`);
      assert.ok(v.painted > 0 || v.svgMarks > 0, `${group.title.split('\n')[0]}: Vega-Lite chart painted something (${JSON.stringify(v)})`);
      charts++;
    }
  }
  // every kind of output was there to check
  assert.ok(charts >= 5, `Vega-Lite charts checked: ${charts}`);
  assert.ok(profiles >= 4, `profile outputs checked: ${profiles}`);
  assert.ok(htmlTables >= 1, `HTML tables checked: ${htmlTables}`);
  timings.charts = charts;
  await page.screenshot({ path: join(SHOTS, 'outputs-light.png'), fullPage: true });
  for (const kind of ['prun', 'lprun', 'mprun']) {
    const gi = captured.findIndex((c) => c.kind === kind);
    await page.locator('section.cell').nth(gi).screenshot({ path: join(SHOTS, `${kind}-light.png`) });
  }
  // the example notebooks' profile outputs, one picture each
  for (const [gi, group] of captured.entries()) {
    if (group.kind !== 'example' || !group.outputs.some((o) => o.data[PROFILE_MIME])) continue;
    const name = group.title.split(':')[0].replace(/\.ipynb$/, '');
    const n = captured.slice(0, gi).filter((g) => g.title.startsWith(`${name}.ipynb:`) && g.outputs.some((o) => o.data[PROFILE_MIME])).length + 1;
    await page.locator('section.cell').nth(gi).screenshot({ path: join(SHOTS, `example-${name}-${n}.png`) });
  }
});

test('the flame graph zooms into a clicked frame, zooms out from the path, and shows a tooltip on hover', async () => {
  const page = lightPage!;
  assert.ok(page, 'the light page was rendered');
  const gi = captured.findIndex((c) => c.kind === 'prun');
  const out = page.locator('section.cell').nth(gi).locator('.tsprof-prun');
  const frames = await page.evaluate((cell) => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.frames(cell), gi);
  const graphWidth = frames[0]?.graphWidth ?? 0;
  assert.ok(graphWidth > 300, `the flame graph is laid out (${graphWidth} px)`);
  // a frame narrower than the graph (at least 40 px) with callees below it: the shallowest such one
  const hasCallees = (f: (typeof frames)[number]): boolean => frames.some((c) => c.top > f.top && c.left >= f.left - 0.5 && c.left < f.left + f.width);
  const target = frames.filter((f) => f.width >= 40 && f.width < graphWidth * 0.9 && hasCallees(f)).sort((a, b) => a.top - b.top || b.width - a.width)[0];
  assert.ok(target, `a frame to zoom into among ${JSON.stringify(frames.slice(0, 12))}`);
  const frame = out.locator(`.tsprof-flame-frame[data-frame-id="${target.id}"]`);

  // hover: the tooltip names the function and gives its times
  await frame.hover();
  const tooltip = out.locator('.tsprof-flame-tooltip');
  await tooltip.waitFor({ state: 'visible', timeout: 5000 });
  const tip = await tooltip.innerText();
  assert.ok(tip.includes(target.label), `tooltip ${JSON.stringify(tip)} names ${target.label}`);
  assert.match(tip, /total [\d.]+ (ms|µs|s)/);
  assert.match(tip, /self [\d.]+ (ms|µs|s|ns)|self 0/);
  await out.screenshot({ path: join(SHOTS, 'flame-tooltip.png') });

  // click: the frame zooms to the full width of the graph
  await frame.click();
  // (frames move with a short transition: wait until it has settled at the full width)
  await page.waitForFunction(({ cell, id }) => {
    const f = (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.frame(cell, id);
    return !!f && f.zoomed && Math.abs(f.width - f.graphWidth) <= 1 && Math.abs(f.left) <= 1;
  }, { cell: gi, id: target.id }, { timeout: 5000 });
  const zoomed = (await page.evaluate(({ cell, id }) => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.frame(cell, id), { cell: gi, id: target.id }))!;
  assert.ok(Math.abs(zoomed.width - graphWidth) <= 1, `zoomed frame spans the graph: ${JSON.stringify(zoomed)}`);
  // its children were laid out again across the full width below it
  const below = (await page.evaluate((cell) => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.frames(cell), gi)).filter((f) => f.top > zoomed.top);
  assert.ok(below.length > 0, 'frames below the zoomed one');
  assert.equal(await out.locator('.tsprof-flame-crumb[aria-current="true"]').getAttribute('data-frame-id'), target.id);
  await page.mouse.move(0, 0);
  await out.screenshot({ path: join(SHOTS, 'flame-zoomed.png') });

  // the path's first step ("all") zooms back out
  await out.locator('.tsprof-flame-crumb').first().click();
  await page.waitForFunction(({ cell, id, width }) => {
    const f = (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.frame(cell, id);
    return !!f && !f.zoomed && Math.abs(f.width - width) <= 1;
  }, { cell: gi, id: target.id, width: target.width }, { timeout: 5000 });
  assert.equal(await out.locator('.tsprof-flame-crumb').count(), 1);

  // exact counts (%prun -c) show in the tooltip as calls
  const gc = captured.findIndex((c) => c.kind === 'prun-c');
  const counted = page.locator('section.cell').nth(gc).locator('.tsprof-flame-frame[data-label*="(fib)"]').first();
  await counted.hover();
  const tipC = page.locator('section.cell').nth(gc).locator('.tsprof-flame-tooltip');
  await tipC.waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await tipC.innerText(), /calls [\d,]+/);
  await page.mouse.move(0, 0);
});

test('tables reorder when a column header is clicked', async () => {
  const page = lightPage!;
  assert.ok(page, 'the light page was rendered');
  const cellOf = (kind: string) => page.locator('section.cell').nth(captured.findIndex((c) => c.kind === kind));
  const column = (table: ReturnType<Page['locator']>, index: number) =>
    table.locator(`tbody tr td:nth-child(${index + 1})`).allInnerTexts();
  const header = (table: ReturnType<Page['locator']>, title: string) => table.locator('thead button.tsprof-sort', { hasText: title });

  // pstats: by label (ascending first for text), then ncalls (largest first) on the counted profile
  const pstats = cellOf('prun-c').locator('.tsprof-pstats');
  const rowsC = profileOf<{ rows: Array<{ label: string; ncalls?: number }> }>('prun-c').rows;
  assert.ok(rowsC.length >= 2, 'at least two pstats rows');
  await header(pstats, 'filename:lineno(function)').click();
  assert.deepEqual(await column(pstats, 6), rowsC.map((r) => r.label).sort((a, b) => a.localeCompare(b)));
  await header(pstats, 'filename:lineno(function)').click();
  assert.deepEqual(await column(pstats, 6), rowsC.map((r) => r.label).sort((a, b) => b.localeCompare(a)));
  await header(pstats, 'ncalls').click();
  const byCalls = rowsC.slice().sort((a, b) => (b.ncalls ?? 0) - (a.ncalls ?? 0)).map((r) => r.label);
  assert.deepEqual((await column(pstats, 6)), byCalls);
  assert.equal(await pstats.locator('th[aria-sort="descending"]').innerText().then((t) => t.replace(/\s*[▲▼]/, '')), 'ncalls');

  // %lprun source view: hottest line first by % Time, back to source order by Line #
  const lp = cellOf('lprun').locator('.tsprof-source-table').first();
  const lines = profileOf<{ functions: Array<{ lines: Array<{ line: number; percent?: number }> }> }>('lprun').functions[0].lines;
  const sourceOrder = lines.map((l) => String(l.line));
  assert.deepEqual(await column(lp, 0), sourceOrder);
  await header(lp, '% Time').click();
  const hottest = lines.slice().sort((a, b) => (b.percent ?? 0) - (a.percent ?? 0))[0];
  assert.equal((await column(lp, 0))[0], String(hottest.line));
  assert.notDeepEqual(await column(lp, 0), sourceOrder, 'the order changed');
  await header(lp, 'Line #').click();
  assert.deepEqual(await column(lp, 0), sourceOrder);

  // %mprun: largest allocation first
  const mp = cellOf('mprun').locator('.tsprof-source-table').first();
  const mlines = profileOf<{ functions: Array<{ lines: Array<{ line: number; allocated?: number }> }> }>('mprun').functions[0].lines;
  await header(mp, 'Allocated').click();
  const biggest = mlines.slice().sort((a, b) => (b.allocated ?? 0) - (a.allocated ?? 0))[0];
  assert.equal((await column(mp, 0))[0], String(biggest.line));
});

test('the dark theme renders the profile views and charts readably', async () => {
  const { page, ready } = await openPage('dark');
  try {
    assert.deepEqual(ready.failed, []);
    const groups = ['prun', 'lprun', 'mprun', 'compare'].map(groupOf);
    const reports = await renderGroups(page, groups);
    for (const r of reports.flat().filter((x) => x.vega)) assert.ok(r.vega!.markItems > 0 && r.vega!.painted > 0, `dark chart drew: ${JSON.stringify(r.vega)}`);
    const colours = await page.evaluate(() => (globalThis as unknown as { tsprofPage: PageApi }).tsprofPage.colours());
    assert.ok(colours.body < 0.3, `dark background: ${JSON.stringify(colours)}`);
    assert.ok(colours.frameText > colours.frameBg + 0.3, `frame text contrasts with its frame: ${JSON.stringify(colours)}`);
    assert.ok(colours.tableText > 0.6, `table text is light on dark: ${JSON.stringify(colours)}`);
    await page.screenshot({ path: join(SHOTS, 'outputs-dark.png'), fullPage: true });
    await page.locator('section.cell').first().screenshot({ path: join(SHOTS, 'prun-dark.png') });
  } finally {
    await page.close();
  }
});

test('no console errors, page errors or failed requests', () => {
  assert.deepEqual(consoleErrors, []);
});

test('JupyterLab shows the chart of every bundle that carries one', () => {
  assert.deepEqual(notShownCharts, []);
});
