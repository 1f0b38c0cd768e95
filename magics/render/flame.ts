// Flame graph (icicle: callers above callees) as a Vega-Lite spec: the layout is computed here,
// so the spec is plain rects and text that any Vega-Lite 5 renderer draws.
import type { TreeNode } from '../engines/v8/calltree.js';
import { labelOf } from '../engines/pstats.js';
import { spec, type VegaLiteSpec } from './vegalite.js';

export interface FlameCell {
  name: string;
  label: string;
  depth: number;
  /** Start and end as a fraction of the whole profile. */
  x0: number;
  x1: number;
  selfMs: number;
  totalMs: number;
  file: string;
}

/** Lay out the tree; nodes under `minFraction` of the total are left out to keep the chart legible. */
export function flameLayout(root: TreeNode, minFraction = 0.002): FlameCell[] {
  const cells: FlameCell[] = [];
  const total = root.total || 1;
  const visit = (n: TreeNode, depth: number, x0: number): void => {
    let x = x0;
    const kids = [...n.children.values()].sort((a, b) => b.total - a.total);
    for (const c of kids) {
      const w = c.total / total;
      if (w < minFraction) continue;
      cells.push({ name: c.fn.name, label: labelOf(c.fn), depth, x0: x, x1: x + w, selfMs: c.self / 1e3, totalMs: c.total / 1e3, file: labelOf(c.fn).replace(/:\d+\(.*$/, '') });
      visit(c, depth + 1, x);
      x += w;
    }
  };
  visit(root, 0, 0);
  return cells;
}

export function flameSpec(cells: FlameCell[], title: string): VegaLiteSpec {
  const depth = Math.max(1, ...cells.map((c) => c.depth + 1));
  return spec({
    title,
    width: 640,
    height: Math.min(22 * depth, 600),
    data: { values: cells.map((c) => ({ ...c, y0: c.depth, y1: c.depth + 1, text: c.x1 - c.x0 > 0.06 ? c.name : '' })) },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'x0', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
          x2: { field: 'x1' },
          y: { field: 'y0', type: 'quantitative', axis: null, scale: { domain: [0, depth], reverse: true } },
          y2: { field: 'y1' },
          color: { field: 'file', type: 'nominal', legend: { title: 'file', orient: 'bottom' }, scale: { scheme: 'tableau10' } },
          tooltip: [
            { field: 'label', title: 'function' },
            { field: 'selfMs', title: 'self ms', format: '.2f' },
            { field: 'totalMs', title: 'total ms', format: '.2f' },
          ],
        },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 10, color: 'white', clip: true },
        encoding: {
          x: { field: 'x0', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
          y: { field: 'y0', type: 'quantitative', axis: null, scale: { domain: [0, depth], reverse: true } },
          yOffset: { value: 11 },
          text: { field: 'text' },
        },
      },
    ],
  });
}

/** The functions with the most self time, with their cumulative time beside. */
export function topSpec(rows: Array<{ label: string; tottime: number; cumtime: number }>, n = 15): VegaLiteSpec {
  const top = rows.slice(0, n);
  const values = top.flatMap((r) => [
    { fn: r.label, kind: 'self (tottime)', ms: r.tottime * 1e3 },
    { fn: r.label, kind: 'cumulative (cumtime)', ms: r.cumtime * 1e3 },
  ]);
  return spec({
    title: `top ${top.length} functions by self time`,
    width: 360,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'fn', type: 'nominal', sort: top.map((r) => r.label), title: null },
      yOffset: { field: 'kind' },
      x: { field: 'ms', type: 'quantitative', title: 'ms' },
      color: { field: 'kind', type: 'nominal', title: null, scale: { range: ['#3178c6', '#9ecae1'] }, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'fn' }, { field: 'kind' }, { field: 'ms', format: '.3f' }],
    },
  });
}
