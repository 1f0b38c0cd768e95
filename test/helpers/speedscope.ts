// speedscope itself (the npm package's app) reading a profile in headless Chromium, as a user
// would open it: what its Sandwich view lists, function by function (total and self, in ms).
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RELEASE = fileURLToPath(new URL('../../../node_modules/speedscope/dist/release/', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png' }
export const CHROMIUM = process.env.TSPROF_CHROMIUM ?? '/usr/bin/chromium'

/** What the page functions read (this file is compiled without the DOM library). */
interface BrowserGlobals {
  document: { title: string; body: { innerText: string } }
}

export interface SandwichRow {
  name: string
  totalMs: number
  selfMs: number
}

const ms = (text: string): number => {
  const m = /([\d.]+)(ns|µs|ms|s)/.exec(text)
  if (!m) return NaN
  return Number(m[1]) * { ns: 1e-6, µs: 1e-3, ms: 1, s: 1e3 }[m[2] as 'ns' | 'µs' | 'ms' | 's']
}

/** Open each file in speedscope (served from 127.0.0.1) and read its Sandwich table. */
export async function readWithSpeedscope(files: string[]): Promise<Map<string, SandwichRow[]>> {
  const { chromium } = await import('playwright-core')
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    try {
      if (path.startsWith('/profile/')) res.end(readFileSync(files[Number(path.split('/')[2])]))
      else {
        res.setHeader('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
        res.end(readFileSync(join(RELEASE, path)))
      }
    } catch {
      res.statusCode = 404
      res.end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  const out = new Map<string, SandwichRow[]>()
  try {
    for (const [i, file] of files.entries()) {
      const page = await browser.newPage()
      await page.goto(`${base}/index.html#profileURL=${encodeURIComponent(`${base}/profile/${i}/${basename(file)}`)}`)
      await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.title.endsWith(' - speedscope'), null, { timeout: 30_000 })
      await page.getByText('Sandwich').click()
      await page.waitForSelector('text=Symbol Name')
      const text = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.innerText)
      const lines = text.split('\n').map((l: string) => l.trim()).filter(Boolean)
      const rows: SandwichRow[] = []
      for (let k = lines.indexOf('Total\tSelf\tSymbol Name') + 1; k + 2 < lines.length; k += 3) {
        if (!/^[\d.]+(ns|µs|ms|s) \(/.test(lines[k])) break
        rows.push({ totalMs: ms(lines[k]), selfMs: ms(lines[k + 1]), name: lines[k + 2] })
      }
      out.set(file, rows)
      await page.close()
    }
  } finally {
    await browser.close()
    server.close()
  }
  return out
}
