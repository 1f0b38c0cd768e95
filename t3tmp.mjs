import v8 from 'node:v8';
import fs from 'node:fs';
if (process.argv[2]) { await import('vega'); await import('vega-lite'); await import('typescript'); }
for (let i = 0; i < 3; i++) { let t = performance.now(); gc(); console.log('gc', performance.now() - t); }
console.log(process.memoryUsage().heapUsed / 1e6);
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const f = v8.writeHeapSnapshot('/tmp/lk/b.heapsnapshot');
  console.log('write', performance.now() - t, fs.statSync(f).size);
}
