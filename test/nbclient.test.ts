// nbclient (Debian's python3-nbclient, the engine behind `jupyter nbconvert --execute` and papermill)
// as the judge: it runs examples/quickstart.ipynb through the tsprof kernelspec and must finish with
// no error output, every code cell executed, and the outputs the notebook promises its reader.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PYTHON, PYTHON_FLAGS, ROOT, makeJupyterEnv, runProcess, transcript, type JupyterEnv } from './helpers/jupyter-env.js';
import { joinText, type Cell, type Notebook } from './helpers/notebook.js';

const streams = (c: Cell, name = 'stdout'): string => (c.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === name).map((o) => joinText(o.text)).join('');
const results = (c: Cell): string[] => (c.outputs ?? []).filter((o) => o.output_type === 'execute_result').map((o) => joinText(o.data?.['text/plain']));
const displays = (c: Cell, mime: string): string[] => (c.outputs ?? []).filter((o) => o.output_type === 'display_data' && o.data?.[mime] !== undefined).map((o) => joinText(o.data![mime]));

let jenv: JupyterEnv;
before(() => {
  jenv = makeJupyterEnv('nbclient');
});
after(() => jenv?.cleanup());

test('the quickstart notebook declares the tsprof kernel', () => {
  const nb = JSON.parse(readFileSync(join(ROOT, 'examples', 'quickstart.ipynb'), 'utf8')) as Notebook;
  assert.equal(nb.metadata.kernelspec?.name, 'tsprof');
  assert.equal(nb.metadata.language_info?.name, 'typescript');
  for (const c of nb.cells.filter((x) => x.cell_type === 'code')) {
    assert.deepEqual(c.outputs, [], `cell ${c.id} is committed with outputs`);
    assert.equal(c.execution_count, null, `cell ${c.id} is committed with an execution count`);
  }
});

test('nbclient executes examples/quickstart.ipynb through tsprof without error', { timeout: 180_000 }, async () => {
  const src = join(jenv.work, 'quickstart.ipynb');
  const out = join(jenv.work, 'quickstart.out.ipynb');
  copyFileSync(join(ROOT, 'examples', 'quickstart.ipynb'), src);
  const r = await runProcess(PYTHON, [...PYTHON_FLAGS, join(ROOT, 'test', 'helpers', 'run_nbclient.py'), src, out, '60'], { env: jenv.env, cwd: jenv.work, timeoutMs: 150_000 });
  const why = `\n${transcript(r)}`;
  assert.equal(r.timedOut, false, `nbclient timed out${why}`);
  assert.equal(r.code, 0, `nbclient failed${why}`);

  const nb = JSON.parse(readFileSync(out, 'utf8')) as Notebook;
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  assert.ok(code.length >= 8, `expected at least 8 code cells, found ${code.length}`);
  code.forEach((c, i) => {
    assert.equal(c.execution_count, i + 1, `cell ${c.id}: execution_count ${c.execution_count}, expected ${i + 1}`);
    const errors = (c.outputs ?? []).filter((o) => o.output_type === 'error');
    assert.deepEqual(errors, [], `cell ${c.id} has error output`);
  });
  const cell = (id: string): Cell => {
    const c = nb.cells.find((x) => x.id === id);
    assert.ok(c, `no cell ${id} in the executed notebook`);
    return c;
  };
  const dump = (c: Cell): string => `\ncell ${c.id} outputs: ${JSON.stringify(c.outputs, null, 1)}`;

  // 1. types and an interface; console output
  assert.equal(streams(cell('co-01')), '3 runs loaded\n', dump(cell('co-01')));
  // 2. a const declared again: the second declaration wins
  assert.deepEqual(results(cell('co-02')), ["'min/km'"], dump(cell('co-02')));
  assert.deepEqual(results(cell('co-03')), ["'pace is shown in minutes per kilometre'"], dump(cell('co-03')));
  // 3. top-level await on a timer, import from node: builtins
  const slept = /^slept (\d+) ms on a machine with \d+ CPU\(s\)\n$/.exec(streams(cell('co-04')));
  assert.ok(slept && Number(slept[1]) >= 199 && Number(slept[1]) < 2000, dump(cell('co-04')));
  // 4. stdout lines in order, stderr as its own stream
  assert.equal(
    streams(cell('co-05')),
    'Ada     10.0 km  4.80 minutes per kilometre\nGrace   21.1 km  5.31 minutes per kilometre\nLinus    5.0 km  5.40 minutes per kilometre\n',
    dump(cell('co-05')),
  );
  assert.equal(streams(cell('co-05'), 'stderr'), '(this line went to stderr)\n', dump(cell('co-05')));
  // 5. rich output: a Markdown table and an HTML table
  assert.deepEqual(displays(cell('co-06'), 'text/markdown'), ['| runner | km | pace (min/km) |\n| --- | ---: | ---: |\n| Ada | 10 | 4.80 |\n| Grace | 21.1 | 5.31 |\n| Linus | 5 | 5.40 |'], dump(cell('co-06')));
  assert.equal(displays(cell('co-06'), 'text/html').length, 1, dump(cell('co-06')));
  assert.match(displays(cell('co-06'), 'text/html')[0], /^<table><caption>distance<\/caption>.*<\/table>$/, dump(cell('co-06')));
  // 6. an updatable display: nbclient applied update_display_data, so the output shows the last state
  assert.deepEqual(displays(cell('co-07'), 'text/plain'), ['progress: 4/4 (100%)'], dump(cell('co-07')));
  assert.deepEqual(displays(cell('co-07'), 'text/html'), ['<progress value="4" max="4"></progress> 100%'], dump(cell('co-07')));
  assert.equal(streams(cell('co-07')), 'all steps done\n', dump(cell('co-07')));
  // 7. the last expression is the result
  assert.deepEqual(results(cell('co-08')), ["{ fastest: 'Ada', pace: 4.8 }"], dump(cell('co-08')));
  // 8. a caught error, its stack frame naming the cell and the TypeScript line
  const errCell = cell('co-09');
  assert.deepEqual(displays(errCell, 'text/plain'), [`RangeError: not a distance: "ten km" (thrown at cell-${errCell.execution_count}:3)`], dump(errCell));
  assert.match(displays(errCell, 'text/html')[0] ?? '', new RegExp(`thrown at cell-${errCell.execution_count}:3\\)`), dump(errCell));
  assert.equal(streams(errCell), 'the notebook carries on after a caught error\n', dump(errCell));

  // A cell whose last statement is a display call shows the display, not a dump of its handle
  // (IPython's display() returns None).
  for (const c of code) {
    for (const text of results(c)) assert.doesNotMatch(text, /displayId:/, `cell ${c.id} shows a display handle as its result${dump(c)}`);
  }
});
