// tsprof in Debian's classic notebook 6 (`jupyter-notebook`), a front end without tsprof's extension and
// without a Vega renderer: the profile tables come as HTML and every chart as its SVG fallback; the
// companion marker (application/vnd.tsprof.companion+json) is an unknown type there and is skipped.
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT, makeJupyterEnv, type JupyterEnv } from './helpers/jupyter-env.js'
import { collectErrors, launchChromium, startServer, until, type BrowserContext, type Page, type Server } from './helpers/lab.js'

const CLASSIC = '/usr/bin/jupyter-notebook'
const PROFILE_MIME = 'application/vnd.tsprof.profile+json'
const COMPANION_MIME = 'application/vnd.tsprof.companion+json'
const SHOTS = join(ROOT, 'test-output', 'lab')

interface Output { output_type: string; data?: Record<string, unknown> }
interface Notebook { cells: Array<{ cell_type: string; outputs?: Output[] }> }

let jenv: JupyterEnv
let root = ''
let server: Server
let context: BrowserContext
const started = performance.now()

before(async () => {
  assert.ok(existsSync(CLASSIC), `${CLASSIC} is missing: scripts/install-test-deps.sh installs Debian's jupyter-notebook`)
  jenv = makeJupyterEnv('classic')
  root = join(jenv.dir, 'root')
  mkdirSync(root)
  for (const nb of ['quickstart.ipynb', 'fibonacci-prun.ipynb']) cpSync(join(ROOT, 'examples', nb), join(root, nb))
  mkdirSync(SHOTS, { recursive: true })
  server = await startServer(CLASSIC, 'NotebookApp', [], jenv, root)
  context = await launchChromium(join(jenv.dir, 'chromium'))
})

after(async () => {
  await context?.close().catch(() => undefined)
  await server?.stop()
  jenv?.cleanup()
  console.log(`# classic notebook suite run time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
})

type Jupyter = { notebook: { kernel?: { is_connected(): boolean; name: string }; kernel_busy?: boolean; dirty: boolean; save_notebook(): Promise<unknown>; get_cells(): Array<{ cell_type: string; input_prompt_number?: number | string | null }> } }

async function runClassic(page: Page, name: string): Promise<Notebook> {
  // nothing leaves the machine (a request to a CDN would hang until its timeout)
  await page.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort())
  await page.goto(`${server.base}notebooks/${name}?token=${server.token}`, { waitUntil: 'domcontentloaded', timeout: 60_000 })
  await until(() => page.evaluate(() => {
    const j = (globalThis as unknown as { Jupyter?: Jupyter }).Jupyter
    return !!j?.notebook?.kernel?.is_connected()
  }), `${name}: kernel connected`, 60_000, 200)
  assert.equal(await page.locator('.kernel_indicator_name').textContent(), 'TypeScript (tsprof)', 'the kernel picked from the notebook')
  // Cell → Run All, as a user would
  await page.locator('#celllink').click()
  await page.locator('#run_all_cells a').click()
  await until(() => page.evaluate(() => {
    const cells = (globalThis as unknown as { Jupyter: Jupyter }).Jupyter.notebook.get_cells()
    return cells.every((c) => c.cell_type !== 'code' || typeof c.input_prompt_number === 'number')
  }), `${name}: every cell run`, 120_000, 250)
  await page.evaluate(async () => { await (globalThis as unknown as { Jupyter: Jupyter }).Jupyter.notebook.save_notebook() })
  await until(() => page.evaluate(() => !(globalThis as unknown as { Jupyter: Jupyter }).Jupyter.notebook.dirty), `${name}: saved`, 20_000)
  return JSON.parse(readFileSync(join(root, name), 'utf8')) as Notebook
}

/** Drawn sizes of the SVG outputs. */
const svgSizes = (page: Page): Promise<Array<{ w: number; h: number }>> => page.evaluate(() => {
  type El = { getBoundingClientRect(): { width: number; height: number } }
  const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } }).document
  return [...doc.querySelectorAll('.output_svg svg')].filter((s) => !(s as unknown as { parentElement: { closest(s: string): unknown } }).parentElement.closest('svg')).map((s) => {
    const b = s.getBoundingClientRect()
    return { w: b.width, h: b.height }
  })
})

test('classic notebook 6 runs fibonacci-prun.ipynb: %prun tables as HTML, flame and top-N charts as SVG, no error', async () => {
  const page = await context.newPage()
  const errors: string[] = []
  collectErrors(page, errors, [])
  const nb = await runClassic(page, 'fibonacci-prun.ipynb')
  const outputs = nb.cells.flatMap((c) => c.outputs ?? [])
  const profiles = outputs.filter((o) => o.data?.[PROFILE_MIME]).length
  const charts = outputs.filter((o) => o.data?.['image/svg+xml']).length
  const covered = outputs.filter((o) => o.data?.[COMPANION_MIME]).length
  assert.ok(profiles >= 5 && covered >= 4, `the example's profiles (${profiles}) and their charts (${covered})`)
  assert.equal(await page.locator('.output_error').count(), 0, 'error outputs')
  // without the extension: the profile as its HTML table, every chart (covered ones too) as SVG
  assert.equal(await page.locator('.output_html .tsprof-prun table').count(), profiles, 'one HTML table per profile')
  const sizes = await svgSizes(page)
  assert.equal(sizes.length, charts, 'one SVG per chart')
  for (const [i, s] of sizes.entries()) assert.ok(s.w > 50 && s.h > 20, `SVG ${i} drawn: ${JSON.stringify(s)}`)
  for (const [i, out] of (await page.locator('.output_area:has(.tsprof-prun), .output_area:has(.output_svg)').all()).slice(0, 3).entries()) {
    await out.screenshot({ path: join(SHOTS, `classic-fibonacci-prun-${i}.png`) })
  }
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), [], 'page errors')
  await page.close()
})

test('classic notebook 6 runs quickstart.ipynb with no error output', async () => {
  const page = await context.newPage()
  const errors: string[] = []
  collectErrors(page, errors, [])
  const nb = await runClassic(page, 'quickstart.ipynb')
  assert.equal(nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error').length, 0, 'error outputs')
  assert.equal(await page.locator('.output_error').count(), 0, 'error outputs shown')
  assert.equal(await page.locator('.output_markdown table tbody tr, .rendered_html table tbody tr').count() >= 3, true, 'the Markdown table')
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), [], 'page errors')
  await page.close()
})
