// An interactive icicle flame graph of %prun's call tree: callers above callees, width = total time.
// Click a frame to zoom into it (it then spans the full width); click a frame above it, or a step of
// the path, to zoom back out. Hovering a frame shows its label, self and total time and calls.
import type { FlameNode } from './bundle';
import { count, el, ms } from './dom';

const ROW_PX = 20;
/** Frames narrower than this fraction of the zoomed frame are not drawn (sub-pixel at any width). */
const MIN_FRACTION = 0.0015;

interface Frame {
  id: number;
  node: FlameNode;
  parent: Frame | undefined;
  depth: number;
  children: Frame[];
}

export interface FlameGraph {
  node: HTMLElement;
  /** Zoom to the frame with this id (0 is the root). */
  zoom(id: number): void;
  /** Outline the frames of one function (from the table), or none. */
  highlight(label: string | undefined): void;
}

export function flameGraph(root: FlameNode): FlameGraph {
  const frames: Frame[] = [];
  const build = (node: FlameNode, parent: Frame | undefined, depth: number): Frame => {
    const frame: Frame = { id: frames.length, node, parent, depth, children: [] };
    frames.push(frame);
    frame.children = (node.children ?? []).map((c) => build(c, frame, depth + 1));
    return frame;
  };
  const top = build(root, undefined, 0);
  const grandTotal = root.totalMs;

  const crumbs = el('nav', { class: 'tsprof-flame-crumbs', 'aria-label': 'zoom path' });
  const graph = el('div', { class: 'tsprof-flame-graph', role: 'group', 'aria-label': 'flame graph' });
  const tooltip = el('div', { class: 'tsprof-flame-tooltip', role: 'tooltip' });
  tooltip.hidden = true;
  const help = grandTotal > 0
    ? 'Flame graph: width is total time, callers above callees. Click a frame to zoom in; click a frame above or a step of the path to zoom out.'
    : 'Flame graph: no samples (the statement ran for less than the sampling interval; try a larger input, or %prun -i with a smaller interval).';
  const wrapper = el(
    'div',
    { class: 'tsprof-flame' },
    el('div', { class: 'tsprof-flame-help' }, help),
    crumbs,
    el('div', { class: 'tsprof-flame-stage' }, graph, tooltip),
  );

  const elements = new Map<number, HTMLElement>();
  let current = top;
  let highlighted: string | undefined;

  function frameElement(frame: Frame): HTMLElement {
    let div = elements.get(frame.id);
    if (div) return div;
    const n = frame.node;
    div = el('div', {
      class: `tsprof-flame-frame tsprof-flame-${category(n)}`,
      'data-frame-id': frame.id,
      'data-label': n.label,
      role: 'button',
      tabindex: 0,
      'aria-label': `${n.label}: total ${ms(n.totalMs)}, self ${ms(n.selfMs)}`,
    }, el('span', { class: 'tsprof-flame-text' }, frame.id === 0 ? `all (${ms(n.totalMs)})` : n.name || n.label));
    div.style.setProperty('--tsprof-hue', String(hue(n)));
    div.style.top = `${frame.depth * ROW_PX}px`;
    elements.set(frame.id, div);
    return div;
  }

  function render(): void {
    const visible = new Map<number, { x: number; w: number }>();
    // the path to the zoomed frame: full width, dimmed above it
    for (let f: Frame | undefined = current; f; f = f.parent) visible.set(f.id, { x: 0, w: 1 });
    const total = current.node.totalMs;
    const lay = (frame: Frame, x: number): void => {
      let cx = x;
      for (const child of frame.children) {
        const w = total > 0 ? child.node.totalMs / total : 0;
        if (w >= MIN_FRACTION) {
          visible.set(child.id, { x: cx, w });
          lay(child, cx);
        }
        cx += w;
      }
    };
    lay(current, 0);

    let maxDepth = 0;
    const keep = new Set<number>();
    for (const [id, { x, w }] of visible) {
      const frame = frames[id];
      const div = frameElement(frame);
      // percentages keep the graph as wide as the output area, whatever it is resized to
      div.style.left = `${(x * 100).toFixed(4)}%`;
      div.style.width = `${(Math.min(w, 1 - x) * 100).toFixed(4)}%`;
      div.classList.toggle('tsprof-flame-ancestor', frame.depth < current.depth);
      div.classList.toggle('tsprof-flame-zoomed', frame === current);
      div.classList.toggle('tsprof-flame-match', highlighted !== undefined && frame.node.label === highlighted);
      if (!div.parentNode) graph.append(div);
      keep.add(id);
      maxDepth = Math.max(maxDepth, frame.depth);
    }
    for (const [id, div] of elements) {
      if (!keep.has(id)) {
        div.remove();
        elements.delete(id);
      }
    }
    graph.style.height = `${(maxDepth + 1) * ROW_PX}px`;

    const path: Frame[] = [];
    for (let f: Frame | undefined = current; f; f = f.parent) path.unshift(f);
    // a deep path (recursion) keeps its first two and last five steps; the frames above zoom out too
    const shown: Array<Frame | number> = path.length > 9 ? [path[0], path[1], path.length - 7, ...path.slice(-5)] : path;
    crumbs.replaceChildren(
      ...shown.flatMap((f, i) => {
        const sep = i === 0 ? [] : [el('span', { class: 'tsprof-flame-sep', 'aria-hidden': 'true' }, '›')];
        if (typeof f === 'number') return [...sep, el('span', { class: 'tsprof-flame-elided', title: `${f} more` }, '…')];
        const button = el('button', { type: 'button', class: 'tsprof-flame-crumb', 'data-frame-id': f.id, title: f.node.label }, f.id === 0 ? 'all' : f.node.name || f.node.label);
        if (f === current) button.setAttribute('aria-current', 'true');
        button.addEventListener('click', () => zoom(f.id));
        return [...sep, button];
      }),
    );
  }

  function zoom(id: number): void {
    const frame = frames[id];
    if (!frame || frame === current) return;
    current = frame;
    render();
  }

  const frameOf = (target: EventTarget | null): Frame | undefined => {
    const div = (target as Element | null)?.closest?.('.tsprof-flame-frame');
    const id = div?.getAttribute('data-frame-id');
    return id === null || id === undefined ? undefined : frames[Number(id)];
  };

  graph.addEventListener('click', (e) => {
    const frame = frameOf(e.target);
    if (frame) zoom(frame.id);
  });
  graph.addEventListener('keydown', (e) => {
    const frame = frameOf(e.target);
    if (frame && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      zoom(frame.id);
    } else if (e.key === 'Escape' && current.parent) {
      zoom(current.parent.id);
    }
  });
  graph.addEventListener('mousemove', (e) => {
    const frame = frameOf(e.target);
    if (!frame) {
      tooltip.hidden = true;
      return;
    }
    showTooltip(frame);
    const stage = graph.parentElement!.getBoundingClientRect();
    const x = e.clientX - stage.left + 14;
    const y = e.clientY - stage.top + 16;
    // keep it inside the stage: flip to the left of the cursor near the right edge
    const width = tooltip.offsetWidth;
    tooltip.style.left = `${x + width > stage.width ? Math.max(0, x - width - 28) : x}px`;
    tooltip.style.top = `${y}px`;
  });
  graph.addEventListener('mouseleave', () => (tooltip.hidden = true));
  graph.addEventListener('focusin', (e) => {
    const frame = frameOf(e.target);
    if (!frame) return;
    showTooltip(frame);
    const div = elements.get(frame.id)!;
    tooltip.style.left = `${div.offsetLeft}px`;
    tooltip.style.top = `${div.offsetTop + ROW_PX + 2}px`;
  });
  graph.addEventListener('focusout', () => (tooltip.hidden = true));

  let shown: Frame | undefined;
  function showTooltip(frame: Frame): void {
    tooltip.hidden = false;
    if (shown === frame) return;
    shown = frame;
    const n = frame.node;
    const share = (v: number, of: number): string => (of > 0 ? ` (${((v / of) * 100).toFixed(1)}%)` : '');
    const lines: Array<HTMLElement | null> = [
      el('div', { class: 'tsprof-flame-tooltip-label' }, frame.id === 0 ? 'all' : n.label),
      el('div', {}, `total ${ms(n.totalMs)}${share(n.totalMs, grandTotal)}`),
      el('div', {}, `self ${ms(n.selfMs)}${share(n.selfMs, grandTotal)}`),
      n.calls !== undefined ? el('div', {}, `calls ${count(n.calls)}`) : null,
      frame !== current && current.id !== 0 && frame.depth > current.depth ? el('div', { class: 'tsprof-dim' }, `${share(n.totalMs, current.node.totalMs).trim()} of ${current.node.name}`) : null,
    ];
    tooltip.replaceChildren(...lines.filter((x): x is HTMLElement => x !== null));
  }

  function highlight(label: string | undefined): void {
    highlighted = label;
    for (const div of elements.values()) div.classList.toggle('tsprof-flame-match', label !== undefined && div.getAttribute('data-label') === label);
  }

  render();
  return { node: wrapper, zoom, highlight };
}

/** Colour family by where the code lives: notebook cells warm, Node and V8 cool, packages green. */
function category(n: FlameNode): 'cell' | 'native' | 'module' {
  if (n.file.startsWith('cell-')) return 'cell';
  if (!n.file || n.file.startsWith('node:') || n.name.startsWith('(')) return 'native';
  return 'module';
}

function hue(n: FlameNode): number {
  let h = 0;
  for (let i = 0; i < n.name.length; i++) h = (h * 31 + n.name.charCodeAt(i)) >>> 0;
  const spread = h % 40;
  switch (category(n)) {
    case 'cell':
      return 5 + spread; // red to orange
    case 'native':
      return 200 + spread / 2; // blue-grey
    default:
      return 85 + spread; // green
  }
}
