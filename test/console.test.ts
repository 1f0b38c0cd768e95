// `jupyter console` (Debian's jupyter-console) as the judge: it starts tsprof from the kernelspec,
// runs lines piped on stdin, prints Out[n] results, and exits cleanly at end of input.
import assert from 'node:assert/strict';
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
