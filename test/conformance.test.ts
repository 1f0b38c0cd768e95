// The official Jupyter kernel conformance suite (Debian's python3-jupyter-kernel-test) as the judge:
// test/conformance/test_tsprof.py subclasses jupyter_kernel_test.KernelTests for tsprof; this file
// runs it with Debian's Python and requires every check that has a sample to run and pass.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PYTHON, PYTHON_FLAGS, ROOT, makeJupyterEnv, runProcess, transcript, type JupyterEnv } from './helpers/jupyter-env.js';

/** The standard checks of jupyter_kernel_test 0.4.5; test_tsprof.py gives every one of them samples. */
const STANDARD_CHECKS = [
  'test_kernel_info',
  'test_execute_stdout',
  'test_execute_stderr',
  'test_completion',
  'test_is_complete',
  'test_error',
  'test_execute_result',
  'test_display_data',
  'test_history',
  'test_inspect',
  'test_clear_output',
  'test_pager',
];
/** tsprof's own checks in the same class, validated with the suite's message schema. */
const EXTRA_CHECKS = ['test_tsprof_comm_info', 'test_tsprof_interrupt_keeps_state', 'test_tsprof_execution_count'];
const ALLOWED_SKIPS = new Set<string>();

let jenv: JupyterEnv;
before(() => {
  jenv = makeJupyterEnv('conformance');
});
after(() => jenv?.cleanup());

test('jupyter_kernel_test.KernelTests pass for tsprof', { timeout: 240_000 }, async () => {
  const r = await runProcess(
    PYTHON,
    [...PYTHON_FLAGS, '-m', 'unittest', 'discover', '-v', '-s', 'test/conformance', '-p', 'test_tsprof.py'],
    { cwd: ROOT, env: { ...jenv.env, TSPROF_TEST_TMP: jenv.dir }, timeoutMs: 200_000 },
  );
  const out = r.stdout + r.stderr;
  const why = `\n${transcript(r)}`;
  assert.equal(r.timedOut, false, `the conformance suite timed out${why}`);

  const results = parseVerbose(out);
  const ran = /^Ran (\d+) tests? in [\d.]+s$/m.exec(out);
  assert.ok(ran, `no "Ran N tests" line${why}`);
  const expected = [...STANDARD_CHECKS, ...EXTRA_CHECKS];
  assert.ok(Number(ran[1]) >= expected.length, `ran ${ran[1]} tests, expected at least ${expected.length}${why}`);

  const skipped = [...results].filter(([, s]) => s.startsWith('skipped')).map(([name]) => name);
  const badSkips = skipped.filter((name) => !ALLOWED_SKIPS.has(name));
  assert.deepEqual(badSkips, [], `checks that have samples were skipped${why}`);
  for (const name of expected) assert.ok(results.has(name), `${name} did not run${why}`);

  const summary = /^(OK|FAILED)(?: \(([^)]*)\))?$/m.exec(out);
  assert.ok(summary, `no OK/FAILED summary${why}`);
  assert.equal(summary[1], 'OK', `the conformance suite failed: ${summary[2] ?? ''}${why}`);
  assert.equal(r.code, 0, `unittest exited with ${r.code}${why}`);
  const skippedCount = Number(/skipped=(\d+)/.exec(summary[2] ?? '')?.[1] ?? 0);
  assert.ok(Number(ran[1]) - skippedCount >= expected.length, `only ${Number(ran[1]) - skippedCount} checks really ran${why}`);
});

/**
 * unittest -v prints "test_x (module.Class.test_x) ... ok"; a docstring's first line, if any, comes on
 * its own line before " ... ok"; a test with subtests ends its line at "... " and lists them indented.
 */
function parseVerbose(out: string): Map<string, string> {
  const results = new Map<string, string>();
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(test_\w+) \([\w.]+\)(.*)$/.exec(lines[i]);
    if (!m) continue;
    const rest = m[2].includes('...') ? m[2] : (lines[i + 1] ?? '');
    const status = /\.\.\. ?(.*)$/.exec(rest)?.[1]?.trim();
    results.set(m[1], status || 'subtests');
  }
  return results;
}
