// The display API: display(value), the MIME helpers, updatable handles and objects that choose
// their own bundle. Every bundle carries text/plain.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import type { Message } from '../kernel/wire/message.js';
import { content, ofType, typeOf, type DisplayContent } from './helpers/kernel.js';

let k: LaunchedKernel;
const published: Message[] = [];
before(async () => {
  k = await launchKernel();
  k.client.onIopub((m) => {
    if (['display_data', 'update_display_data', 'execute_result'].includes(typeOf(m))) published.push(m);
  });
});
after(() => k?.stop());

/** Run a cell (must succeed) and return its display_data / update_display_data / execute_result contents in order. */
async function outputs(code: string): Promise<Array<{ type: string } & DisplayContent>> {
  const r = await k.client.execute(code);
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  return r.iopub
    .filter((m) => ['display_data', 'update_display_data', 'execute_result'].includes(typeOf(m)))
    .map((m) => ({ type: typeOf(m), ...content<DisplayContent>(m) }));
}

async function onlyDisplay(code: string): Promise<DisplayContent> {
  const outs = await outputs(code);
  assert.deepEqual(outs.map((o) => o.type), ['display_data'], `one display_data from ${code}`);
  return outs[0];
}

test('display(obj) publishes display_data with util.inspect text', async () => {
  const d = await onlyDisplay('display({ a: 1, list: [1, 2, 3], s: "x" }); undefined');
  assert.equal(d.data['text/plain'], inspect({ a: 1, list: [1, 2, 3], s: 'x' }));
  assert.deepEqual(d.transient ?? {}, {}, 'no display_id unless asked for');
  const s = await onlyDisplay('display("a string"); undefined');
  assert.equal(s.data['text/plain'], inspect('a string'));
});

test('a cell ending in display(x) shows the display only, not the returned handle as its result', async () => {
  // As in IPython (display() returns None): the user asked for one output, not an Out[n] dump of a handle.
  const d = await onlyDisplay('display({ shown: true })');
  assert.equal(d.data['text/plain'], inspect({ shown: true }));
  const h = await onlyDisplay('display.html("<b>x</b>")');
  assert.equal(h.data['text/html'], '<b>x</b>');
});

test('display.html / markdown / svg carry their MIME type and text/plain', async () => {
  const html = await onlyDisplay('display.html("<b>bold</b>"); undefined');
  assert.equal(html.data['text/html'], '<b>bold</b>');
  const md = await onlyDisplay('display.markdown("# Title\\n*em*"); undefined');
  assert.equal(md.data['text/markdown'], '# Title\n*em*');
  const svgSrc = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
  const svg = await onlyDisplay(`display.svg(${JSON.stringify(svgSrc)}); undefined`);
  assert.equal(svg.data['image/svg+xml'], svgSrc);
  for (const d of [html, md, svg]) assert.equal(typeof d.data['text/plain'], 'string');
});

test('display.png(Buffer) sends base64 of exactly those bytes', async () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 250, 251, 255]);
  const d = await onlyDisplay(`display.png(Buffer.from(${JSON.stringify([...bytes])})); undefined`);
  assert.equal(d.data['image/png'], bytes.toString('base64'));
  assert.deepEqual(Buffer.from(d.data['image/png'] as string, 'base64'), bytes);
  const u8 = await onlyDisplay(`display.png(new Uint8Array(${JSON.stringify([...bytes])})); undefined`);
  assert.equal(u8.data['image/png'], bytes.toString('base64'));
  assert.equal(typeof d.data['text/plain'], 'string');
});

test('display.json sends application/json as JSON, display.vegalite the spec unchanged', async () => {
  const value = { n: 1, list: [true, null, 'x'], nested: { k: 2.5 } };
  const j = await onlyDisplay(`display.json(${JSON.stringify(value)}); undefined`);
  assert.deepEqual(j.data['application/json'], value);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values: [{ a: 'A', b: 28 }, { a: 'B', b: 55 }] },
    mark: 'bar',
    encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } },
  };
  const v = await onlyDisplay(`display.vegalite(${JSON.stringify(spec)}); undefined`);
  assert.deepEqual(v.data['application/vnd.vegalite.v5+json'], spec);
  for (const d of [j, v]) assert.equal(typeof d.data['text/plain'], 'string');
});

test('a handle with a displayId updates in place: update_display_data with the same transient.display_id', async () => {
  const outs = await outputs('const h = display({ step: 1 }, { displayId: true });\nh.update({ step: 2 });\nh.displayId');
  assert.deepEqual(outs.map((o) => o.type), ['display_data', 'update_display_data', 'execute_result']);
  const id = outs[0].transient?.display_id;
  assert.equal(typeof id, 'string');
  assert.ok(id);
  assert.equal(outs[1].transient?.display_id, id);
  assert.equal(outs[2].data['text/plain'], inspect(id), 'handle.displayId is the id on the wire');
  assert.equal(outs[0].data['text/plain'], inspect({ step: 1 }));
  assert.equal(outs[1].data['text/plain'], inspect({ step: 2 }));

  // An explicit id, updated from a later cell.
  const first = await outputs('const h2 = display.html("<i>v1</i>", { displayId: "my-progress" }); undefined');
  assert.equal(first[0].transient?.display_id, 'my-progress');
  assert.equal(first[0].data['text/html'], '<i>v1</i>');
  const later = await outputs('h2.update("v2 text"); undefined');
  assert.deepEqual(later.map((o) => o.type), ['update_display_data']);
  assert.equal(later[0].transient?.display_id, 'my-progress');
  assert.equal(later[0].data['text/plain'], inspect('v2 text'));
});

test('an object with [Symbol.for("tsprof.mimebundle")]() chooses its own bundle', async () => {
  const code = [
    'const custom = {',
    "  [Symbol.for('tsprof.mimebundle')]() { return { 'text/html': '<b>custom</b>', 'text/plain': 'Custom()' }; },",
    '};',
    'display(custom);',
    'custom',
  ].join('\n');
  const outs = await outputs(code);
  assert.deepEqual(outs.map((o) => o.type), ['display_data', 'execute_result']);
  for (const o of outs) {
    assert.equal(o.data['text/html'], '<b>custom</b>');
    assert.equal(o.data['text/plain'], 'Custom()');
  }
  // Without text/plain of its own, the bundle still gets one.
  const noPlain = await outputs("({ [display.mimebundle]() { return { 'text/markdown': '**md**' }; } })");
  assert.equal(noPlain[0].data['text/markdown'], '**md**');
  assert.equal(typeof noPlain[0].data['text/plain'], 'string');
});

test('an object with _repr_html_() chooses text/html, in display and as the result', async () => {
  const outs = await outputs('class Table { _repr_html_() { return "<table><tr><td>1</td></tr></table>"; } }\ndisplay(new Table());\nnew Table()');
  assert.deepEqual(outs.map((o) => o.type), ['display_data', 'execute_result']);
  for (const o of outs) {
    assert.equal(o.data['text/html'], '<table><tr><td>1</td></tr></table>');
    assert.equal(o.data['text/plain'], 'Table {}');
  }
});

test('display from a timer goes to the cell that scheduled it', async () => {
  const r = await k.client.execute('setTimeout(() => display.html("<p>later</p>"), 100); 0');
  const id = r.reply.parent_header.msg_id as string;
  const late = await new Promise<Message>((resolve) => {
    const off = k.client.onIopub((m) => {
      if (typeOf(m) === 'display_data') { off(); resolve(m); }
    });
  });
  assert.equal((late.parent_header as { msg_id: string }).msg_id, id);
  assert.equal(content<DisplayContent>(late).data['text/html'], '<p>later</p>');
});

test('a result whose own repr method throws is a clear error in that cell, and the kernel lives on', async () => {
  for (const code of [
    "({ _repr_html_() { throw new Error('repr fail') } })",
    "({ [Symbol.for('tsprof.mimebundle')]() { throw new Error('bundle fail') } })",
  ]) {
    const r = await k.client.execute(code, { stop_on_error: false });
    const c = r.reply.content;
    assert.equal(typeof c.execution_count, 'number', `execute_reply carries execution_count (${JSON.stringify(c)})`);
    const shown = r.iopub.filter((m) => ['error', 'stream', 'execute_result'].includes(typeOf(m))).map((m) => JSON.stringify(m.content)).join('\n');
    assert.match(shown, /(repr|bundle) fail/, `the user sees why in the cell's output: ${JSON.stringify(r.iopub.map(typeOf))}`);
  }
  const ok = await k.client.execute('"alive"');
  assert.equal(ok.reply.content.status, 'ok');
});

test('a user_expression whose repr throws fails alone; the cell still succeeds', async () => {
  const r = await k.client.execute('"cell value"', { user_expressions: { bad: "({ _repr_html_() { throw new Error('ue repr') } })", good: '1 + 1' } });
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const ue = r.reply.content.user_expressions as Record<string, { status: string; data?: Record<string, unknown> }>;
  assert.equal(ue.bad.status, 'error');
  assert.equal(ue.good.data?.['text/plain'], '2');
});

test('every bundle published in this file had text/plain', () => {
  assert.ok(published.length >= 20, `saw ${published.length} bundles`);
  for (const m of published) {
    const d = content<DisplayContent>(m).data;
    assert.equal(typeof d['text/plain'], 'string', `${typeOf(m)} ${JSON.stringify(d).slice(0, 200)}`);
  }
  assert.ok(ofType(published, 'update_display_data').length >= 2);
});
