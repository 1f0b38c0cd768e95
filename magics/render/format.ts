// Numbers in the formats users know from IPython and the Python profilers.

// IPython's units, with its Greek mu (U+03BC), so outputs match character for character.
const UNITS = ['s', 'ms', '\u03bcs', 'ns'];
const SCALE = [1, 1e3, 1e6, 1e9];

/** IPython's `_format_time`: 3 significant digits in s/ms/µs/ns; hours and minutes past a minute. */
export function formatTime(seconds: number, precision = 3): string {
  if (seconds >= 60) {
    const parts: string[] = [];
    let left = seconds;
    for (const [suffix, length] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]] as const) {
      const value = Math.floor(left / length);
      if (value > 0) {
        left %= length;
        parts.push(`${value}${suffix}`);
      }
      if (left < 1) break;
    }
    return parts.join(' ');
  }
  const order = seconds > 0 ? Math.min(-Math.floor(Math.floor(Math.log10(seconds)) / 3), 3) : 3;
  const k = Math.max(0, order);
  return `${toPrecision(seconds * SCALE[k], precision)} ${UNITS[k]}`;
}

/** Python's `%.*g`: significant digits, no trailing zeros, exponent only for extreme magnitudes. */
export function toPrecision(value: number, precision: number): string {
  if (value === 0) return '0';
  const strip = (m: string): string => (m.includes('.') ? m.replace(/\.?0+$/, '') : m);
  const exponent = (s: string): string => {
    const [m, e] = s.split('e');
    const n = Number(e);
    return `${strip(m)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  };
  const s = value.toPrecision(precision);
  if (s.includes('e')) return exponent(s);
  return Math.abs(Number(s)) < 1e-4 ? exponent(value.toExponential(precision - 1)) : strip(s);
}

/** `100000000` → `100,000,000` (Python's `{:,}`). */
export function thousands(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function plural(n: number, word: string): string {
  return `${word}${n === 1 ? '' : 's'}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
