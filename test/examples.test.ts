// The example notebooks (examples/*.ipynb) are what a new user opens first. Two promises are checked:
// 1. as committed: executed, with outputs — every code cell has the outputs its Markdown talks about
//    (tables, Vega-Lite charts with an SVG fallback, the profile bundle), no error output, and the
//    figures the text explains (1,664,079 calls for fib(30), 17,388 hits, …) are really there;
// 2. re-executed by Debian's nbclient (what `jupyter nbconvert --execute` and papermill use) through
//    the installed tsprof kernelspec: no error output, the same kinds of output in every cell.
// examples/quickstart.ipynb is committed without outputs on purpose (test/nbclient.test.ts checks that
// and its outputs in detail); here it is only re-executed with the others.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_FLAGS, ROOT, makeJupyterEnv, runProcess, transcript, type JupyterEnv } from './helpers/jupyter-env.js';
import { joinText, type Cell, type Notebook } from './helpers/notebook.js';

const EXAMPLES = join(ROOT, 'examples');
const VEGALITE = 'application/vnd.vegalite.v5+json';
const PROFILE = 'application/vnd.tsprof.profile+json';

/** What a cell's outputs must include. `silent`: the cell shows nothing (it only defines things). */
type Kind = 'stdout' | 'result' | 'html' | 'vegalite' | 'profile' | 'text' | 'silent';

/**
 * Every code cell of every executed example, by id, with the outputs it must have. A cell missing
 * here fails the test: a new cell has to say what it shows (or that it is silent on purpose).
 */
const EXPECTED: Record<string, Record<string, Kind[]>> = {
  'timeit-comparison.ipynb': {
    define: ['stdout'],
    't-unshift': ['html', 'vegalite'],
    't-push': ['html', 'vegalite'],
    't-map': ['html', 'vegalite'],
    't-from': ['html', 'vegalite'],
    compare: ['html', 'vegalite'],
    'o-run': ['html', 'vegalite'],
    'o-fields': ['stdout'],
    time: ['stdout', 'result'],
    'time-cell': ['stdout', 'result'],
  },
  'fibonacci-prun.ipynb': {
    define: ['stdout'],
    'prun-naive': ['html', 'profile', 'vegalite'],
    'count-check': ['stdout'],
    'prun-c': ['html', 'profile', 'vegalite'],
    'prun-35': ['html', 'profile', 'vegalite'],
    'prun-memo': ['html', 'profile'],
    program: ['silent'],
    'prun-sort': ['html', 'profile', 'vegalite'],
    'prun-D': ['stdout'],
    'read-profile': ['stdout'],
  },
  'primes-lprun.ipynb': {
    define: ['stdout'],
    timeit: ['html', 'vegalite'],
    lprun: ['html', 'profile'],
    'lprun-big': ['html', 'profile'],
    'lprun-x': ['html', 'profile'],
    'lprun-both': ['html', 'profile'],
  },
  'builder-mprun.ipynb': {
    define: ['silent'],
    mprun: ['html', 'profile'],
  },
  'memit.ipynb': {
    n: ['silent'],
    'typed-fill': ['html'],
    'typed-empty': ['html'],
    'array-from': ['html'],
    'array-push': ['html'],
    spiky: ['silent'],
    'spiky-one': ['html'],
    'spiky-five': ['stdout'],
    o: ['stdout'],
  },
  'leak-hunt.ipynb': {
    service: ['stdout'],
    leaks: ['html'],
    'snap-a': ['text'],
    traffic: ['stdout'],
    'snap-b': ['text'],
    diff: ['html'],
    'snap-stop': ['text'],
    fixed: ['silent'],
    'leaks-fixed': ['html'],
  },
  'http-memory.ipynb': {
    service: ['silent'],
    warm: ['stdout'],
    'mprof-clean': ['html', 'vegalite'],
    'mprof-leaky': ['html', 'vegalite'],
    after: ['stdout'],
  },
};

/** Figures the Markdown explains, as they must appear in a cell's text (text/plain and streams). */
const FIGURES: Record<string, Record<string, RegExp[]>> = {
  'timeit-comparison.ipynb': {
    't-unshift': [/ per loop \(mean ± std\. dev\. of 3 runs, [\d,]+ loops each\)/],
    compare: [/^push .*fastest$/m, /^unshift .*× slower$/m],
    'o-fields': [/loops × repeat : 1000 × 5/, /all_runs\[0\] \/ loops = timings\[0\]: true/],
    time: [/CPU times: user .*total: /, /Wall time: /, /^2000000$/m],
  },
  'fibonacci-prun.ipynb': {
    'count-check': [/C\(30\) by brute force: 1,664,079;  2·F\(30\) − 1 = 1,664,079/],
    'prun-c': [/^ *1664079\/1 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ cell-\d+:2\(fib\)$/m],
    'prun-memo': [/^ +57\/1 +[\d.]+ .*\(fibMemo\)$/m],
    'prun-sort': [/Ordered by: cumulative time/, /\(program\)/],
    'read-profile': [/fib30\.cpuprofile: [\d,]+ bytes/, /fib +\d+ samples on top of the stack/],
  },
  'primes-lprun.ipynb': {
    define: [/sum of the first 2,000 primes: 16,274,627/],
    lprun: [/^ +5 +17388 .*let isPrime = true;$/m, /^ +14 +2000 .*found\.add\(n\);$/m, /^ +7 +87901 /m, /^ +9 +15388 /m],
    'lprun-x': [/^ +15 +2000 .*yield n;$/m],
    'lprun-both': [/Function: primes at line 2/, /Function: sumOfPrimes at line 20/],
  },
  'builder-mprun.ipynb': {
    // the forced collection: memory in use goes down, nothing allocated
    mprun: [/Mem usage +Increment +Allocated +Occurrences/, /^ +17 +[\d.]+ MiB +-[\d.]+ MiB +0\.0 MiB +1 +gc\(\);/m,
      // one-line loops: an occurrence per step, and the Map's tables without the probes' garbage (it read 48.6 MiB)
      /^ +11 +[\d.]+ MiB +-?[\d.]+ MiB +1\d\.\d MiB +100001 +for \(const item of items\)/m, /^ +13 +[\d.]+ MiB +-?[\d.]+ MiB +0\.\d MiB +100001 +for \(let i = 0/m],
  },
  'memit.ipynb': {
    'typed-fill': [/peak memory: [\d.]+ MiB, increment: 7\d\.\d\d MiB/],
    'typed-empty': [/zero-filled buffers take physical memory only when their pages are first written/],
    'spiky-five': [/the poller missed most of the spike in \d of 5 tries/],
  },
  'leak-hunt.ipynb': {
    leaks: [/^Report +\+100 .*reportCache \(Map\)/m, /^LiveView +\+100 .*clock \(EventEmitter\)/m, /^DashboardState +\+1 /m],
    traffic: [/2401 cached reports, 2401 tick listeners/],
    diff: [/^Report: .*count=2,401 \(\+2,000\)/m, /By allocation site/],
    'leaks-fixed': [/no growth found/],
  },
  'http-memory.ipynb': {
    'mprof-clean': [/cleanHandler: 300 calls/],
    'mprof-leaky': [/leakyHandler: 300 calls/, /⚠ memory only grows/],
    after: [/300 pages cached/],
  },
};

const read = (file: string): Notebook => JSON.parse(readFileSync(file, 'utf8')) as Notebook;
const codeCells = (nb: Notebook): Cell[] => nb.cells.filter((c) => c.cell_type === 'code');

function kindsOf(c: Cell): Set<Kind> {
  const kinds = new Set<Kind>();
  for (const o of c.outputs ?? []) {
    if (o.output_type === 'stream' && o.name === 'stdout') kinds.add('stdout');
    if (o.output_type === 'execute_result') kinds.add('result');
    const d = o.data ?? {};
    if (d['text/html'] !== undefined) kinds.add('html');
    if (d[VEGALITE] !== undefined) kinds.add('vegalite');
    if (d[PROFILE] !== undefined) kinds.add('profile');
    if (o.output_type === 'display_data' && Object.keys(d).length === 1 && d['text/plain'] !== undefined) kinds.add('text');
  }
  return kinds;
}

/** All text a reader sees in a cell: streams and text/plain. */
const cellText = (c: Cell): string => (c.outputs ?? []).map((o) => (o.output_type === 'stream' ? joinText(o.text) : joinText(o.data?.['text/plain']))).join('\n');
const dump = (c: Cell): string => `\ncell ${c.id} outputs:\n${JSON.stringify((c.outputs ?? []).map((o) => ({ ...o, data: o.data && Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, k === 'text/plain' ? v : `(${k})`])) })), null, 1).slice(0, 4000)}`;

/** The checks both the committed and the re-executed notebook must pass. */
function checkOutputs(file: string, nb: Notebook, figures: boolean): void {
  const expected = EXPECTED[file];
  const cells = codeCells(nb);
  for (const c of cells) {
    const errors = (c.outputs ?? []).filter((o) => o.output_type === 'error');
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), [], `${file}: cell ${c.id} has an error output`);
    const want = expected[c.id];
    assert.ok(want, `${file}: code cell ${c.id} is not listed in EXPECTED (say what it shows, or 'silent')`);
    const got = kindsOf(c);
    if (want.includes('silent')) assert.equal((c.outputs ?? []).length, 0, `${file}: cell ${c.id} should show nothing${dump(c)}`);
    for (const k of want.filter((k) => k !== 'silent')) assert.ok(got.has(k), `${file}: cell ${c.id} has no ${k} output (has ${[...got].join(', ') || 'none'})${dump(c)}`);
    // Charts render everywhere: a Vega-Lite output carries its SVG fallback and a text/plain.
    for (const o of c.outputs ?? []) {
      if (o.data?.[VEGALITE] === undefined) continue;
      assert.match(joinText(o.data['image/svg+xml']), /^<svg[\s\S]*<\/svg>\s*$/, `${file}: cell ${c.id}: a Vega-Lite output without an SVG fallback`);
      assert.ok(joinText(o.data['text/plain']).trim(), `${file}: cell ${c.id}: a Vega-Lite output without text/plain`);
    }
    if (figures) for (const re of FIGURES[file]?.[c.id] ?? []) assert.match(cellText(c), re, `${file}: cell ${c.id}${dump(c)}`);
  }
  for (const id of Object.keys(expected)) assert.ok(cells.some((c) => c.id === id), `${file}: no code cell ${id}`);
}

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ipynb')).sort();

test('examples/ holds the seven profiling notebooks and the quickstart', () => {
  assert.deepEqual(files, [...Object.keys(EXPECTED), 'quickstart.ipynb'].sort());
});

describe('committed notebooks', () => {
  for (const file of files) {
    test(`${file}: nbformat 4, the tsprof kernel, TypeScript, unique cell ids`, () => {
      const nb = read(join(EXAMPLES, file));
      assert.equal(nb.nbformat, 4);
      assert.equal(nb.metadata.kernelspec?.name, 'tsprof');
      assert.equal(nb.metadata.language_info?.name, 'typescript');
      const ids = nb.cells.map((c) => c.id);
      assert.equal(new Set(ids).size, ids.length, `duplicate cell ids in ${file}`);
      assert.ok(nb.cells.some((c) => c.cell_type === 'markdown'), `${file} explains nothing`);
    });
    if (file === 'quickstart.ipynb') continue;
    test(`${file}: executed in order, every cell with the outputs its text describes`, () => {
      const nb = read(join(EXAMPLES, file));
      codeCells(nb).forEach((c, i) => assert.equal(c.execution_count, i + 1, `${file}: cell ${c.id} has execution_count ${c.execution_count}, expected ${i + 1} (run the notebook top to bottom with tsprof run --out)`));
      checkOutputs(file, nb, true);
    });
  }

  test('every committed Vega-Lite spec compiles under vega-lite 5', async () => {
    const { compile } = await import('vega-lite');
    let count = 0;
    for (const file of files) {
      for (const c of codeCells(read(join(EXAMPLES, file)))) {
        for (const o of c.outputs ?? []) {
          const spec = o.data?.[VEGALITE] as { $schema?: string } | undefined;
          if (!spec) continue;
          assert.match(spec.$schema ?? '', /vega-lite\/v5(\.\d+)*\.json$/, `${file}: cell ${c.id}: not a v5 spec`);
          assert.doesNotThrow(() => compile(spec as Parameters<typeof compile>[0]), `${file}: cell ${c.id}: the spec does not compile`);
          count++;
        }
      }
    }
    assert.ok(count >= 15, `expected at least 15 charts across the examples, found ${count}`);
  });
});

describe('nbclient re-executes every example through the tsprof kernelspec', () => {
  let jenv: JupyterEnv;
  before(() => {
    jenv = makeJupyterEnv('examples');
  });
  after(() => jenv?.cleanup());

  for (const file of files) {
    // Each notebook runs in under ~30 s here; the limits leave room for a loaded CI machine.
    test(`${file}`, { timeout: 300_000 }, async () => {
      const src = join(jenv.work, file);
      const out = join(jenv.work, file.replace(/\.ipynb$/, '.out.ipynb'));
      copyFileSync(join(EXAMPLES, file), src);
      const r = await runProcess(PYTHON, [...PYTHON_FLAGS, join(ROOT, 'test', 'helpers', 'run_nbclient.py'), src, out, '150'], { env: jenv.env, cwd: jenv.work, timeoutMs: 280_000 });
      const why = `\n${transcript(r)}`;
      assert.equal(r.timedOut, false, `nbclient timed out${why}`);
      assert.equal(r.code, 0, `nbclient failed${why}`);
      const nb = read(out);
      const cells = codeCells(nb);
      assert.ok(cells.length > 0);
      cells.forEach((c, i) => assert.equal(c.execution_count, i + 1, `${file}: cell ${c.id} was not executed in order`));
      if (file === 'quickstart.ipynb') {
        for (const c of cells) assert.deepEqual((c.outputs ?? []).filter((o) => o.output_type === 'error'), [], `${file}: cell ${c.id} has an error output`);
        return;
      }
      // The same kinds of output as committed; of the figures, only those that do not depend on timing.
      checkOutputs(file, nb, false);
      const deterministic: Record<string, Record<string, RegExp[]>> = {
        'fibonacci-prun.ipynb': { 'prun-c': FIGURES['fibonacci-prun.ipynb']['prun-c'], 'prun-memo': FIGURES['fibonacci-prun.ipynb']['prun-memo'] },
        'primes-lprun.ipynb': { lprun: FIGURES['primes-lprun.ipynb'].lprun },
        'leak-hunt.ipynb': { traffic: FIGURES['leak-hunt.ipynb'].traffic, leaks: [/reportCache \(Map\)/, /clock \(EventEmitter\)/] },
        'http-memory.ipynb': { 'mprof-leaky': [/leakyHandler: 300 calls/] },
      };
      for (const [id, res] of Object.entries(deterministic[file] ?? {})) {
        const c = cells.find((x) => x.id === id)!;
        for (const re of res) assert.match(cellText(c), re, `${file}: cell ${id} after nbclient${dump(c)}`);
      }
    });
  }
});
