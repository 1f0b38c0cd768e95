// Small DOM and number-formatting helpers. Every text goes in through textContent: the renderer
// never parses markup from the bundle, so it is safe for untrusted notebooks.

type Child = Node | string | null | undefined | false;

/** `el('div', { class: 'a', title: 't' }, child, 'text')` */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

const group = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 242785 → `242,785` */
export function count(n: number | undefined): string {
  return n === undefined ? '–' : group.format(n);
}

/** A duration in milliseconds with a unit that keeps 3 significant digits: `812 ns`, `4.20 ms`, `1.33 s`. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 1000) return `${sig(value / 1000)} s`;
  if (abs >= 1) return `${sig(value)} ms`;
  if (abs >= 1e-3) return `${sig(value * 1e3)} µs`;
  return `${sig(value * 1e6)} ns`;
}

/** Seconds, shown as `ms()` shows milliseconds. */
export const seconds = (value: number | undefined): string => (value === undefined ? '–' : ms(value * 1000));

/** MiB with one decimal, as memory_profiler prints them (`-0.2 MiB` stays negative). */
export function mib(value: number | undefined, signed = false): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const s = value.toFixed(value !== 0 && Math.abs(value) < 0.1 ? 3 : 1);
  return `${signed && value > 0 ? '+' : ''}${s} MiB`;
}

export function percent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(1)}%`;
}

function sig(v: number): string {
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
}
