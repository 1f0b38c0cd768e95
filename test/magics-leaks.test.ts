// %%leaks, %heapsnap and %heapdiff through a real kernel, against leaks whose size the test knows:
// a module-level cache that only grows, closures that each keep a large array, event listeners
// never removed, and a loop that allocates and releases. Plus the snapshot parser and the graph
// algorithms on inputs with known answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { launchKernel, type LaunchedKernel } from '../kernel/client/launch.js';
import { formatPath, HeapSnapshot, readHeapSnapshot, SnapshotParser } from '../magics/engines/v8/heapsnapshot.js';
import { classRetained } from '../magics/engines/v8/heapleaks.js';
import { assertAlive, content, errorOf, evalOk, ofType, type DisplayContent } from './helpers/kernel.js';

let k: LaunchedKernel;
const dir = mkdtempSync(join(tmpdir(), 'tsprof-leaks-test-'));
before(async () => {
  k = await launchKernel({ cwd: dir });
});
after(async () => {
  await k.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Exec = Awaited<ReturnType<LaunchedKernel['client']['execute']>>;

const shown = (r: Exec): Array<Record<string, unknown>> => ofType(r.iopub, 'display_data').map((m) => content<DisplayContent>(m).data);

function unescape(s: string): string {
  return s.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** The HTML tables of a bundle as rows of cell texts, keyed by header. */
function tables(html: string): Array<Array<Record<string, string>>> {
  return [...html.matchAll(/<table[\s\S]*?<\/table>/g)].map(([t]) => {
    const headers = [...t.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((m) => unescape(m[1]));
    return [...t.matchAll(/<tr><td[\s\S]*?<\/tr>/g)].map(([row]) => {
      const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => unescape(m[1]));
      return Object.fromEntries(headers.map((h, i) => [h, cells[i]]));
    });
  });
}

async function leaks(code: string): Promise<{ r: Exec; text: string; rows: Array<Record<string, string>>; ms: number; count: number }> {
  const t = performance.now();
  const r = await k.client.execute(code, { timeoutMs: 120_000 });
  const ms = performance.now() - t;
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  const [bundle] = shown(r);
  assert.ok(bundle, 'a report is displayed');
  const text = String(bundle['text/plain']);
  const html = String(bundle['text/html']);
  const first = tables(html)[0] ?? [];
  const rows = first.length && Object.hasOwn(first[0], 'constructor') ? first : [];
  return { r, text, rows, ms, count: Number(r.reply.content.execution_count) };
}

const row = (rows: Array<Record<string, string>>, cls: string): Record<string, string> | undefined => rows.find((x) => String(x['constructor']) === cls);

/** "+78.1 KiB" → bytes. */
function bytes(s: string): number {
  const m = /^([+-]?)([\d.]+) (B|KiB|MiB|GiB)$/.exec(s.trim());
  assert.ok(m, `a size: ${s}`);
  const scale = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[3] as 'B']!;
  return (m[1] === '-' ? -1 : 1) * Number(m[2]) * scale;
}

test('%%leaks finds a module-level cache that only grows: Entry, +K per run, its path through the Map, the cell that allocated it', async () => {
  const setup = await k.client.execute(`class Entry { constructor(public id: number, public payload: string) {} }
const cache = new Map<number, Entry>();
let nextId = 0;`);
  assert.equal(setup.reply.content.status, 'ok');
  const K = 37;
  const { text, rows, ms, count } = await leaks(`%%leaks
for (let i = 0; i < ${K}; i++) { const id = nextId++; cache.set(id, new Entry(id, 'payload ' + id)); }`);
  const entry = row(rows, 'Entry');
  assert.ok(entry, `Entry is reported:\n${text}`);
  assert.equal(entry['count/run'], `+${K}`, 'count growth per run is exactly what the cell adds');
  const self = bytes(entry['bytes/run']);
  assert.ok(self >= K * 24 && self <= K * 128, `self bytes per run are K instances' worth: ${self}`);
  assert.ok(bytes(entry['retained/run']) >= self, 'retained ≥ self (each Entry keeps its payload string)');
  assert.match(entry['retainer path'], /^cache \(Map\) → table → Entry$/, 'the path goes through the cache');
  assert.equal(entry['allocated at'], `cell-${count}:1(<cell>)`, 'allocated by the top level of the %%leaks cell');
  assert.match(text, /^Entry\s+\+37\s/m, 'the text table has the row too');
  assert.ok(ms < 30_000, `finished in ${ms.toFixed(0)} ms`);
  // The cache really holds warm-up + 5 runs of entries: the magic ran the cell 6 times.
  assert.equal(await evalOk(k, 'cache.size'), String(6 * K));
});

test('%%leaks finds closures that each keep a large array: the closure and the Array, ~78 KiB retained per run, the captured variable, the factory', async () => {
  const setup = await k.client.execute(`const handlers: Array<() => number> = [];
function makeHandler(n: number) {
  const big = new Array(10000).fill(n);
  return function keepBig() { return big.length; };
}`);
  assert.equal(setup.reply.content.status, 'ok');
  const setupCell = Number(setup.reply.content.execution_count);
  const { text, rows } = await leaks(`%%leaks
handlers.push(makeHandler(1));`);
  // (A unique function name: the kernel has closures of its own called `handler`.)
  const closure = row(rows, 'keepBig (closure)');
  const array = row(rows, 'Array');
  assert.ok(closure && array, `the closure and the Array are reported:\n${text}`);
  assert.equal(closure['count/run'], '+1');
  assert.equal(array['count/run'], '+1');
  // 10,000 elements of 8 bytes plus the FixedArray header: 80,016 bytes = 78.1 KiB per run
  // (shown to 0.1 KiB; the closure adds itself and its scope, ~100 bytes).
  for (const r of [closure, array]) {
    const kept = bytes(r['retained/run']);
    assert.ok(kept >= 78.1 * 1024 && kept <= 79 * 1024, `${String(r['constructor'])} retains ~78 KiB per run: ${r['retained/run']}`);
  }
  assert.match(closure['retainer path'], /^handlers \(Array\) → \[\d+\] → ƒ keepBig \[captures big: Array 78\.\d KiB\]$/, closure['retainer path']);
  assert.match(array['retainer path'], /^handlers \(Array\) → \[\d+\] → ƒ keepBig → captured big \(Array\)$/, array['retainer path']);
  assert.equal(closure['allocated at'], `cell-${setupCell}:2(makeHandler)`, 'the closure was allocated by makeHandler (line 2 of its cell)');
  assert.equal(array['allocated at'], `cell-${setupCell}:2(makeHandler)`);
  const elements = row(rows, '(array elements)');
  assert.ok(elements && bytes(elements['bytes/run']) >= 78.1 * 1024, 'the backing store shows the 78 KiB per run as self size');
});

test('%%leaks finds event listeners never removed, with a retainer path through the emitter', async () => {
  const setup = await k.client.execute(`import { EventEmitter } from 'node:events';
const bus = new EventEmitter();
bus.setMaxListeners(0);`);
  assert.equal(setup.reply.content.status, 'ok');
  const { text, rows, count } = await leaks(`%%leaks -n 4
bus.on('tick', function onTick() { return 1; });`);
  const listener = row(rows, 'onTick (closure)');
  assert.ok(listener, `the listener is reported:\n${text}`);
  assert.equal(listener['count/run'], '+1');
  assert.match(listener['retainer path'], /^bus \(EventEmitter\) → _events \(Object\) → tick \(Array\) → \[\d\] → ƒ onTick$/);
  assert.equal(listener['allocated at'], `cell-${count}:1(<cell>)`);
  assert.match(text, /every one of 4 runs/, '-n sets the number of runs');
  assert.equal(await evalOk(k, "bus.listenerCount('tick')"), '5', 'warm-up + 4 runs');
});

test('%%leaks reports "no growth found" for a loop that allocates and releases', async () => {
  const { text, rows } = await leaks(`%%leaks
let total = 0;
for (let i = 0; i < 2000; i++) { const a = new Array(100).fill(i); const o = { a, s: 'x' + i }; total += o.a.length + o.s.length; }`);
  assert.equal(rows.length, 0, `nothing grows:\n${text}`);
  assert.match(text, /no growth found in 5 runs/);
});

test('%%leaks -o returns a LeakResult; the sampled table lists the allocating function', async () => {
  await evalOk(k, 'class Item { constructor(public i: number, public tag: string) {} }\nfunction grow() { for (let i = 0; i < 200; i++) kept.push(new Item(i, "t" + i)); }\nconst kept: Item[] = [];');
  const r = await k.client.execute('%%leaks -o -q -n 3\ngrow();', { timeoutMs: 120_000 });
  assert.equal(r.reply.content.status, 'ok', JSON.stringify(r.reply.content));
  assert.equal(shown(r).length, 0, '-q shows nothing');
  const res = ofType(r.iopub, 'execute_result');
  assert.equal(res.length, 1, 'the result is the cell value');
  const text = String(content<DisplayContent>(res[0]).data['text/plain']);
  assert.match(text, /^Item\s+\+200\s.*kept \(Array\) → \[\d+\] → Item\s+cell-\d+:2\(grow\)$/m, '200 items per run, held by kept, allocated by grow');
  assert.match(text, /Surviving allocations by function[\s\S]*cell-\d+:2\(grow\)/, 'the sampled table names grow (line 2 of its cell)');
});

test('%heapsnap a / %heapsnap b / %heapdiff a b: the class allocated in between comes first with its exact count', async () => {
  await evalOk(k, 'class Parcel { constructor(public id: number, public label: string) {} }\nconst parcels: Parcel[] = [];');
  const a = await k.client.execute('%heapsnap -t a');
  assert.equal(a.reply.content.status, 'ok', JSON.stringify(a.reply.content));
  assert.match(String(shown(a)[0]['text/plain']), /^heap snapshot 'a': [\d,]+ objects, [\d.]+ [KMG]?i?B, .*\nallocation sampling: on, every 1,024 bytes$/);
  await evalOk(k, 'function fillParcels() { for (let i = 0; i < 1500; i++) parcels.push(new Parcel(i, "b")); }\nfillParcels();');
  const b = await k.client.execute('%heapsnap b');
  assert.equal(b.reply.content.status, 'ok');
  const d = await k.client.execute('%heapdiff a b');
  assert.equal(d.reply.content.status, 'ok', JSON.stringify(d.reply.content));
  const bundle = shown(d)[0];
  const text = String(bundle['text/plain']);
  const [byClass, bySite] = tables(String(bundle['text/html']));
  assert.equal(byClass[0].class, 'Parcel', `Parcel grew the most:\n${text}`);
  assert.equal(byClass[0]['count diff'], '+1,500');
  assert.equal(byClass[0].count, '1,500');
  assert.match(text, /^By class:\nParcel: size=[\d.]+ KiB \(\+[\d.]+ KiB\), count=1,500 \(\+1,500\), average=\d+ B$/m, 'tracemalloc StatisticDiff format');
  assert.ok(bySite && bySite.length > 0, `sites were sampled:\n${text}`);
  assert.match(bySite[0]['allocation site'], /^cell-\d+:1\(fillParcels\)/, 'the top site is the function that allocated them');
  const stop = await k.client.execute('%heapsnap --stop');
  assert.match(String(shown(stop)[0]['text/plain']), /allocation sampling: off/);
  // Without sampling, a diff still works by class and says why there is no site table.
  await evalOk(k, 'fillParcels();');
  await evalOk(k, '%heapsnap -q c');
  const d2 = await k.client.execute('%heapdiff b c');
  const t2 = String(shown(d2)[0]['text/plain']);
  assert.match(t2, /^Parcel: size=.*count=3,000 \(\+1,500\)/m);
  assert.match(t2, /By allocation site: no allocation sampling was active for c/);
});

test('bad input is a UsageError and the kernel stays alive', async () => {
  const cases: Array<[string, RegExp]> = [
    ['%heapsnap', /a snapshot NAME is required/],
    ['%heapdiff a nope', /no snapshot named 'nope'; known: 'a', 'b', 'c'/],
    ['%heapdiff a', /two snapshot names are needed/],
    ['%%leaks -n 0\nlet x = 1;', /option -n needs an integer ≥ 2, got "0"/],
    ['%%leaks\n', /the cell is empty/],
    ['%%leaks -z\n1', /option -z not recognized/],
  ];
  for (const [code, message] of cases) {
    const err = errorOf(await k.client.execute(code));
    assert.equal(err.ename, 'UsageError', code);
    assert.match(err.evalue, message, code);
  }
  // A cell that throws inside %%leaks: the error is the cell's, and the next run works.
  const thrown = errorOf(await k.client.execute('%%leaks -n 3\nthrow new RangeError("boom")'));
  assert.equal(thrown.ename, 'RangeError');
  await assertAlive(k);
  const again = await leaks('%%leaks -n 3\nlet y = [1, 2, 3].map((v) => v * 2);');
  assert.match(again.text, /no growth found in 3 runs/);
});

test('%%leaks while %heapsnap -t keeps a sampler running: it reads that sampler and still finds the growth', async () => {
  await evalOk(k, 'class Crate { constructor(public n: number) {} }\nconst crates: Crate[] = [];\nfunction addCrates() { for (let i = 0; i < 25; i++) crates.push(new Crate(i)); }');
  await evalOk(k, '%heapsnap -t -q s1');
  const { text, rows } = await leaks('%%leaks -n 3\naddCrates();');
  const crate = row(rows, 'Crate');
  assert.ok(crate, `Crate is reported:\n${text}`);
  assert.equal(crate['count/run'], '+25');
  assert.match(crate['allocated at'], /^cell-\d+:3\(addCrates\)$/);
  assert.match(text, /sampled every 1,024 bytes/, "the persistent sampler's interval");
  const stop = await k.client.execute('%heapsnap --stop');
  assert.match(String(shown(stop)[0]['text/plain']), /allocation sampling: off/);
});

// -- The parser and the graph algorithms, in this process.

test('the streaming parser reads a real snapshot exactly as JSON.parse does, whatever the chunk size', () => {
  const file = join(dir, 'self.heapsnapshot');
  v8.writeHeapSnapshot(file);
  const text = readFileSync(file);
  const json = JSON.parse(text.toString('utf8')) as { snapshot: { meta: { node_fields: string[] }; node_count: number; edge_count: number }; nodes: number[]; edges: number[]; strings: string[]; locations: number[] };
  const NF = json.snapshot.meta.node_fields.length;
  const whole = readHeapSnapshot(file);
  for (const size of [1 << 20, 4096, 61]) {
    const p = new SnapshotParser();
    for (let i = 0; i < text.length; i += size) p.write(text.subarray(i, i + size));
    const s = p.finish();
    assert.equal(s.nodeCount, json.snapshot.node_count);
    assert.equal(s.edgeCount, json.snapshot.edge_count);
    assert.deepEqual(s.a.strings, json.strings, `strings, chunk ${size}`);
    assert.deepEqual(Array.from(s.a.locations), json.locations);
    for (let i = 0; i < s.nodeCount; i++) {
      const o = i * NF;
      if (s.a.nodeTypes[i] !== json.nodes[o] || s.a.nodeNames[i] !== json.nodes[o + 1] || s.a.nodeIds[i] !== json.nodes[o + 2] || s.a.selfSizes[i] !== json.nodes[o + 3] || s.a.firstEdge[i + 1] - s.a.firstEdge[i] !== json.nodes[o + 4]) {
        assert.fail(`node ${i} differs (chunk ${size})`);
      }
    }
    for (let e = 0; e < s.edgeCount; e++) {
      if (s.a.edgeTypes[e] !== json.edges[e * 3] || s.a.edgeNames[e] !== json.edges[e * 3 + 1] || s.a.edgeTo[e] * NF !== json.edges[e * 3 + 2]) assert.fail(`edge ${e} differs (chunk ${size})`);
    }
  }
  // Every node is reachable from the root or not; the root retains everything it reaches.
  const dom = whole.dominators();
  let reachableSelf = 0;
  for (let k2 = 0; k2 < dom.reachable; k2++) reachableSelf += whole.selfSize(dom.order[k2]);
  assert.equal(dom.retained[0], reachableSelf);
});

/** A snapshot from a hand-written graph: nodes [type, name, selfSize], edges [from, type, name, to]. */
function graph(nodes: Array<[string, string, number]>, edges: Array<[number, string, string | number, number]>): HeapSnapshot {
  const nodeTypes = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'];
  const edgeTypes = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
  const strings: string[] = [];
  const str = (s: string): number => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1);
  const out = new Map<number, Array<[string, string | number, number]>>();
  for (const [from, type, name, to] of edges) out.set(from, [...(out.get(from) ?? []), [type, name, to]]);
  const flatNodes: number[] = [];
  const flatEdges: number[] = [];
  nodes.forEach(([type, name, size], i) => {
    const es = out.get(i) ?? [];
    flatNodes.push(nodeTypes.indexOf(type), str(name), 2 * i + 1, size, es.length, 0, 0);
    for (const [t, n, to] of es) flatEdges.push(edgeTypes.indexOf(t), typeof n === 'number' ? n : str(n), to * 7);
  });
  const json = JSON.stringify({
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'], node_types: [nodeTypes, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'], edge_types: [edgeTypes, 'string_or_number', 'node'], location_fields: ['object_index', 'script_id', 'line', 'column'],
      },
      node_count: nodes.length, edge_count: flatEdges.length / 3, trace_function_count: 0,
    },
    nodes: flatNodes, edges: flatEdges, trace_function_infos: [], trace_tree: [], samples: [], locations: [], strings,
  });
  const p = new SnapshotParser();
  p.write(Buffer.from(json));
  return p.finish();
}

test('dominators, retained sizes, class retained sizes and readable paths on a graph with known answers', () => {
  // root → global → cache(Map) → table → e1, e2 (Entry) → strings; a weak edge from global to e2
  // must not change anything; `shared` is held by e1 and e2, so only the table dominates it.
  const s = graph(
    [
      ['synthetic', '', 0], // 0 root
      ['object', 'global', 10], // 1
      ['object', 'Map', 20], // 2 cache
      ['array', '', 30], // 3 table
      ['object', 'Entry', 40], // 4 e1
      ['object', 'Entry', 40], // 5 e2
      ['string', 'p1', 5], // 6
      ['string', 'p2', 5], // 7
      ['string', 'shared', 7], // 8
      ['object', 'Entry', 40], // 9 an Entry held only by another Entry
    ],
    [
      [0, 'shortcut', 'global', 1],
      [1, 'property', 'cache', 2],
      [1, 'weak', 'w', 5],
      [2, 'internal', 'table', 3],
      [3, 'internal', '1', 4],
      [3, 'internal', '3', 5],
      [4, 'property', 'payload', 6],
      [5, 'property', 'payload', 7],
      [4, 'property', 'tag', 8],
      [5, 'property', 'tag', 8],
      [4, 'property', 'next', 9],
    ],
  );
  const dom = s.dominators();
  assert.deepEqual(Array.from(dom.idom), [-1, 0, 1, 2, 3, 3, 4, 5, 3, 4]);
  assert.equal(dom.retained[4], 40 + 5 + 40, 'e1 retains itself, its payload and the Entry only it holds');
  assert.equal(dom.retained[3], 30 + 85 + 45 + 7, 'the table retains both entries and the shared string');
  assert.equal(dom.retained[0], 197);
  // Class retained: Entry #9 is inside e1's retained size, so it is not counted twice.
  assert.equal(classRetained(s, dom).get('Entry'), 85 + 45);
  const paths = s.shortestPaths();
  assert.equal(formatPath(s.pathTo(7, paths)), 'globalThis → cache (Map) → table → Entry → payload (string)');
  assert.equal(formatPath(s.pathTo(9, paths)), 'globalThis → cache (Map) → table → Entry → next (Entry)');
});
