// Jupyter (protocol 5.2+) counts cursor positions in Unicode code points; JavaScript strings index
// UTF-16 code units. Every position crossing the protocol boundary goes through these two functions.

const SURROGATE = /[\uD800-\uDFFF]/;

/** The UTF-16 index of code point `cp` in `s` (clamped to the string's end). */
export function codePointToUtf16(s: string, cp: number): number {
  if (cp <= 0) return 0;
  if (!SURROGATE.test(s)) return Math.min(cp, s.length);
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) i += isPairAt(s, i) ? 2 : 1;
  return i;
}

/** The code point index of UTF-16 index `i` in `s`. */
export function utf16ToCodePoint(s: string, i: number): number {
  if (i <= 0) return 0;
  if (!SURROGATE.test(s)) return Math.min(i, s.length);
  let n = 0;
  for (let j = 0; j < i && j < s.length; n++) j += isPairAt(s, j) ? 2 : 1;
  return n;
}

function isPairAt(s: string, i: number): boolean {
  const hi = s.charCodeAt(i);
  if (hi < 0xd800 || hi > 0xdbff || i + 1 >= s.length) return false;
  const lo = s.charCodeAt(i + 1);
  return lo >= 0xdc00 && lo <= 0xdfff;
}
