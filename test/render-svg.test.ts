// The SVG fallback of every chart is rendered by vega in a thread of its own: it answers, reports a
// broken spec as an error, keeps vega's console warnings out of the output, and never keeps a
// process alive (a `tsprof run --html` must exit when done).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renderSvg, renderVegaSvg, spec } from '../magics/render/vegalite.js';

const BAR = spec({ data: { values: [{ k: 'a', v: 3 }, { k: 'b', v: 5 }] }, mark: 'bar', encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } });

test('a Vega-Lite spec renders to SVG with one bar per value', async () => {
  const svg = await renderSvg(BAR);
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/class="mark-rect role-mark/g) ?? []).length, 1, 'one group of rect marks');
  assert.deepEqual(svg.match(/<path aria-label="k: [ab]; v: \d"/g), ['<path aria-label="k: a; v: 3"', '<path aria-label="k: b; v: 5"'], 'a bar per value');
});

test('a plain Vega spec renders too: one rect per datum', async () => {
  const svg = await renderVegaSvg({
    width: 40, height: 20,
    data: [{ name: 't', values: [{ v: 1 }, { v: 2 }, { v: 3 }] }],
    marks: [{ type: 'rect', from: { data: 't' }, encode: { enter: { x: { field: 'v' }, width: { value: 1 }, y: { value: 0 }, height: { value: 5 } } } }],
  });
  const group = /<g class="mark-rect role-mark[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  assert.ok(group, 'a group of rect marks');
  assert.equal((group[1].match(/<path /g) ?? []).length, 3);
});

test('a broken spec is a rejected promise, and the next chart still renders', async () => {
  await assert.rejects(renderSvg(spec({ mark: 'no-such-mark' })));
  assert.match(await renderSvg(BAR), /^<svg/);
});

test('the renderer thread keeps nothing alive and prints nothing', () => {
  const url = new URL('../magics/render/vegalite.js', import.meta.url).href;
  // A shape channel on a bar makes vega-lite warn on the console: it must not reach stdout or stderr.
  const script = `import { renderSvg, spec } from ${JSON.stringify(url)};
const svg = await renderSvg(spec({ data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'quantitative' }, shape: { field: 'a', type: 'nominal' } } }));
process.stdout.write(svg.startsWith('<svg') ? 'rendered' : 'no svg');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(r.signal, null, 'the process exited by itself (not killed at the timeout)');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'rendered', 'only its own output on stdout');
  assert.equal(r.stderr, '', 'no warning on stderr');
});
