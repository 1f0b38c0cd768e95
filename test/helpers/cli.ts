// Running the `tsprof` command line as a user would (a process of its own), and reading what it prints.
import { spawn, type SpawnOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/tsprof.js', import.meta.url))
export const EXAMPLES = fileURLToPath(new URL('../../../examples/scripts/', import.meta.url))

export interface Ran {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** `tsprof ARGS…` with optional stdin; resolves when it exits (rejects after `timeoutMs`). */
export function tsprof(args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] }
    const child = spawn(process.execPath, [BIN, ...args], spawnOpts)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d))
    child.stderr!.on('data', (d: Buffer) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`tsprof ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 120_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, opts.timeoutMs ?? 120_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin!.end(opts.input ?? '')
  })
}

export interface PstatsRow {
  ncalls?: number
  /** Primitive calls (not from the function itself): the part after the `/`, else ncalls. */
  pcalls?: number
  /** The column as printed: `150049/1`, `5` or `-`. */
  ncallsText: string
  tottime: number
  cumtime: number
  label: string
}

/** The rows of a pstats table as tsprof prun prints it. */
export function pstatsRows(text: string): PstatsRow[] {
  const rows: PstatsRow[] = []
  for (const line of text.split('\n')) {
    const m = /^\s+(-|\d+(?:\/\d+)?)\s+([\d.]+)\s+([\d.]+|-)\s+([\d.]+)\s+([\d.]+|-)\s+(\S.*)$/.exec(line)
    if (!m) continue
    // pstats' `total/primitive` for a recursive function; a lone count is both.
    const [total, primitive] = m[1] === '-' ? [undefined, undefined] : m[1].split('/').map(Number)
    rows.push({ ncalls: total, pcalls: primitive ?? total, ncallsText: m[1], tottime: Number(m[2]), cumtime: Number(m[4]), label: m[6] })
  }
  return rows
}

export interface LineRow {
  line: number
  hits?: number
  time?: number
  contents: string
}

/** The rows of every line_profiler-style table in `text`, by function name. */
export function lineTables(text: string): Map<string, LineRow[]> {
  const tables = new Map<string, LineRow[]>()
  let current: LineRow[] | undefined
  for (const line of text.split('\n')) {
    const fn = /^Function: (\S+) at line \d+/.exec(line)
    if (fn) {
      current = []
      tables.set(fn[1], current)
      continue
    }
    const m = /^\s{0,5}(\d+) ([ \d]{9}) ([ \d.]{12}) /.exec(line)
    if (current && m) current.push({ line: Number(m[1]), hits: m[2].trim() ? Number(m[2]) : undefined, time: m[3].trim() ? Number(m[3]) : undefined, contents: line.slice(49) })
  }
  return tables
}

/** Sieve: the n-th prime. */
export function nthPrime(n: number): number {
  const limit = Math.max(16, Math.ceil(n * (Math.log(n) + Math.log(Math.log(n)) + 2)))
  const composite = new Uint8Array(limit + 1)
  let count = 0
  for (let i = 2; i <= limit; i++) {
    if (composite[i]) continue
    if (++count === n) return i
    for (let j = i * i; j <= limit; j += i) composite[j] = 1
  }
  throw new Error('limit too small')
}
