// `jupyter console` (Debian's jupyter-console) as the judge: it starts tsprof from the kernelspec,
// runs lines piped on stdin, prints Out[n] results, and exits cleanly at end of input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PYTHON, PYTHON_FLAGS, makeJupyterEnv, processesUsing, runProcess, sleep, transcript, type JupyterEnv } from './helpers/jupyter-env.js';

let jenv: JupyterEnv;
before(() => {
  jenv = makeJupyterEnv('console');
});
after(() => jenv?.cleanup());

test('jupyter console --kernel tsprof runs piped TypeScript and exits at end of input', { timeout: 90_000 }, async () => {
  const input = [
    'let a: number = 20',
    'console.log(`a is ${a}`)',
    'a * 2 + 2',
    'notDefinedAnywhere',
    "'still ' + 'alive'",
  ].join('\n') + '\n';
  const r = await runProcess(
    PYTHON,
    [...PYTHON_FLAGS, '-m', 'jupyter_console', '--kernel', 'tsprof', '--simple-prompt'],
    {
      // unbuffered, so the transcript keeps the order the console printed it in
      env: { ...jenv.env, PYTHONUNBUFFERED: '1' },
      cwd: jenv.work,
      input,
      // jupyter console 6.4 sends the first execute as soon as kernel_info is answered, without
      // checking that its iopub SUB socket is subscribed yet (jupyter_client's wait_for_ready does
      // check; the console does not). ZeroMQ reconnects every 100 ms, so a fast kernel can publish the
      // first cell's "idle" before the subscription lands and the console then waits for it forever.
      // ipykernel shows the same race. A human types slower than that; wait 1 s after the first prompt.
      inputAfter: { pattern: /In \[1\]: /, delayMs: 1000 },
      timeoutMs: 60_000,
    },
  );
  const why = `\n${transcript(r)}`;
  assert.equal(r.timedOut, false, `jupyter console did not finish${why}`);
  assert.equal(r.code, 0, `jupyter console failed${why}`);
  const out = r.stdout;
  assert.match(out, /tsprof .* TypeScript/, `no tsprof banner${why}`);
  // piped input is not echoed, so output follows the prompt on its line ("In [2]: a is 20")
  assert.match(out, /(^|\]: )a is 20$/m, `console.log output missing${why}`);
  assert.match(out, /Out\[3\]: 42\b/, `the result 42 is missing${why}`);
  // jupyter console prints tracebacks on its stderr
  assert.match(r.stderr, /ReferenceError: notDefinedAnywhere is not defined\s+at cell-4:1/, `the error is missing${why}`);
  assert.match(out, /Out\[5\]: 'still alive'/, `the kernel did not go on after the error${why}`);
  assert.match(out, /Shutting down kernel/, `the console did not shut the kernel down${why}`);
  // the kernel it started (its connection file is in our runtime dir) has ended
  for (let i = 0; i < 50 && processesUsing(jenv.dir).length; i++) await sleep(100);
  assert.deepEqual(processesUsing(jenv.dir), [], 'the kernel outlived jupyter console');
});

// A real terminal: jupyter console in tmux (private socket), typed into as a user does.
const TMUX = ['-L', `tsprof-console-${process.pid}`]
const tmux = (...args: string[]): string => execFileSync('tmux', [...TMUX, ...args], { encoding: 'utf8' })
/** The whole pane, scrollback included, wrapped lines joined. */
const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'console')

async function until<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the terminal shows:\n${screen().trimEnd().split('\n').slice(-40).join('\n')}`)
    await sleep(50)
  }
}

test('jupyter console in a terminal: 50 cells that print, display and return show every output in order; input() is answered by typing', { timeout: 240_000 }, async () => {
  const script = join(jenv.dir, 'console.sh')
  const env = Object.entries(jenv.env).filter(([k]) => /^(JUPYTER|IPYTHONDIR|TSPROF|PYDEVD|PYTHON|PATH|HOME)/.test(k)).map(([k, v]) => `export ${k}='${v}'`).join('\n')
  writeFileSync(script, `${env}\ncd '${jenv.work}'\nexec '${PYTHON}' ${PYTHON_FLAGS.join(' ')} -m jupyter_console --kernel tsprof --simple-prompt --no-confirm-exit\n`)
  tmux('new-session', '-d', '-s', 'console', '-x', '160', '-y', '50', `bash --norc --noprofile '${script}'`)
  try {
    await until('the first prompt', () => /In \[1\]: /.test(screen()), 60_000)
    // See the first test: the console's iopub subscription must land before the first cell.
    await sleep(1000)
    const cells = Number(process.env.CELLS ?? 50)
    for (let i = 1; i <= cells; i++) {
      tmux('send-keys', '-t', 'console', '-l', `console.log("printed ${i}"); display("shown ${i}"); "returned ${i}"`)
      tmux('send-keys', '-t', 'console', 'Enter')
      await until(`prompt ${i + 1}`, () => new RegExp(`In \\[${i + 1}\\]: $`, 'm').test(screen()))
    }
    const lines = screen().split('\n')
    let at = 0
    for (let i = 1; i <= cells; i++) {
      for (const expected of [`printed ${i}`, `'shown ${i}'`, `Out[${i}]: 'returned ${i}'`]) {
        const found = lines.findIndex((l, n) => n >= at && (l === expected || l.endsWith(expected)) && !l.includes('console.log'))
        assert.ok(found >= 0, `cell ${i}: "${expected}" missing or out of order after line ${at}:\n${lines.slice(Math.max(0, at - 5), at + 10).join('\n')}`)
        at = found + 1
      }
    }
    // input(): the console asks on the terminal; the answer is typed.
    tmux('send-keys', '-t', 'console', '-l', 'const who = await input("your name? "); `hello ${who}`')
    tmux('send-keys', '-t', 'console', 'Enter')
    await until('the input prompt', () => /your name\? $/m.test(screen()))
    tmux('send-keys', '-t', 'console', '-l', 'Ada Lovelace')
    tmux('send-keys', '-t', 'console', 'Enter')
    await until('the greeting', () => new RegExp(`Out\\[${cells + 1}\\]: 'hello Ada Lovelace'`).test(screen()))
    // and prompt(), synchronous, in the next cell
    tmux('send-keys', '-t', 'console', '-l', 'prompt("again? ").toUpperCase()')
    tmux('send-keys', '-t', 'console', 'Enter')
    await until('the prompt() question', () => /again\? $/m.test(screen()))
    tmux('send-keys', '-t', 'console', '-l', 'yes')
    tmux('send-keys', '-t', 'console', 'Enter')
    await until('the answer', () => new RegExp(`Out\\[${cells + 2}\\]: 'YES'`).test(screen()))
    // Ctrl-D on an empty line ends the console, which shuts the kernel down.
    tmux('send-keys', '-t', 'console', 'C-d')
    await until('the console to shut the kernel down', () => processesUsing(jenv.dir).length === 0, 30_000)
  } finally {
    try {
      tmux('kill-server')
    } catch {
      /* already gone */
    }
  }
})
