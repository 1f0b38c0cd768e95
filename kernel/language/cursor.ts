// What the cursor is on, from the text alone: the identifier fragment a completion replaces, the
// `a.b` before a `.`, and the name to inspect. Runs on the main thread, so no TypeScript here.
import { literalAt, Region, type Scan } from './scan.js';

const ID_START = /^[\p{ID_Start}$_]$/u;
const ID_PART = /^[\p{ID_Continue}$\u200C\u200D]$/u;
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;

export interface Span {
  start: number;
  end: number;
}

export function isIdentifierName(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** The identifier characters around `pos` (UTF-16 offsets); empty when there are none. */
export function identifierSpanAt(code: string, pos: number): Span {
  let start = pos;
  while (start > 0) {
    const ch = charBefore(code, start);
    if (!ID_PART.test(ch)) break;
    start -= ch.length;
  }
  let end = pos;
  while (end < code.length) {
    const ch = String.fromCodePoint(code.codePointAt(end)!);
    if (!ID_PART.test(ch)) break;
    end += ch.length;
  }
  // `1.5`, `0x1f`: a number, not a name.
  if (start < end && !ID_START.test(String.fromCodePoint(code.codePointAt(start)!))) return { start: pos, end: pos };
  return { start, end };
}

/** True when the cursor is inside a string, template text, comment or regex. */
export function inLiteral(scan: Scan, pos: number): boolean {
  return literalAt(scan, pos) !== undefined;
}

/**
 * The expression before the `.` that precedes `start`, e.g. `a.b` for `a.b.c|`; undefined when
 * `start` does not follow a member access. Calls and indexing stay in (`a.f(1).`): peek only
 * evaluates them if V8 proves them free of side effects.
 */
export function memberReceiver(code: string, scan: Scan, start: number): string | undefined {
  let i = skipSpaceBack(code, start);
  if (code[i - 1] !== '.' || scan.regions[i - 1] !== Region.Code) return undefined;
  if (code[i - 2] === '.') return undefined; // spread `...x`
  let end = i - 1;
  if (code[end - 1] === '?') end--; // optional chaining `a?.`
  const begin = chainStart(code, scan, end);
  if (begin === undefined) return undefined;
  const receiver = code.slice(begin, end).trim();
  // `1.` is a decimal point.
  return receiver && !/^[\d.]/.test(receiver) ? receiver : undefined;
}

export interface InspectTarget {
  /** The name's span (UTF-16). */
  start: number;
  end: number;
  /** The name with the member chain before it, e.g. `fs.readFile`. */
  expression: string;
}

/**
 * The name to inspect: the identifier under or just before the cursor, else (inside a call's
 * parentheses, as IPython does) the function being called.
 */
export function inspectTarget(code: string, scan: Scan, pos: number): InspectTarget | undefined {
  if (inLiteral(scan, pos)) return calleeTarget(code, scan, pos);
  const span = identifierSpanAt(code, pos);
  if (span.start < span.end) return withChain(code, scan, span);
  return calleeTarget(code, scan, pos);
}

function calleeTarget(code: string, scan: Scan, pos: number): InspectTarget | undefined {
  let depth = 0;
  for (let i = pos - 1, limit = Math.max(0, pos - 5000); i >= limit; i--) {
    if (scan.regions[i] !== Region.Code) continue;
    const c = code[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '[' || c === '{') {
      if (depth === 0) return undefined;
      depth--;
    } else if (c === '(') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const nameEnd = skipSpaceBack(code, i);
      const span = identifierSpanAt(code, nameEnd);
      if (span.start === span.end || span.end !== nameEnd) return undefined;
      return withChain(code, scan, span);
    } else if (c === ';' && depth === 0) return undefined;
  }
  return undefined;
}

function withChain(code: string, scan: Scan, span: Span): InspectTarget {
  const name = code.slice(span.start, span.end);
  const receiver = memberReceiver(code, scan, span.start);
  return { ...span, expression: receiver === undefined ? name : `${receiver}.${name}` };
}

/** Where the member chain ending at `end` begins: identifiers joined by `.`/`?.`, with `(...)`/`[...]`. */
function chainStart(code: string, scan: Scan, end: number): number | undefined {
  let i = skipSpaceBack(code, end);
  for (;;) {
    const c = code[i - 1];
    if ((c === ')' || c === ']') && scan.regions[i - 1] === Region.Code) {
      const open = matchingOpen(code, scan, i - 1);
      if (open === undefined) return undefined;
      i = open;
      // `(a + b).` is a parenthesised expression: it starts here. `f(x).` continues to `f`.
      const before = skipSpaceBack(code, i);
      if (!ID_PART.test(charBefore(code, before)) && code[before - 1] !== ')' && code[before - 1] !== ']') return i;
      i = before;
      continue;
    }
    const span = identifierSpanAt(code, i);
    if (span.start === span.end || span.end !== i) return undefined;
    i = span.start;
    const before = skipSpaceBack(code, i);
    if (code[before - 1] === '.' && code[before - 2] !== '.' && scan.regions[before - 1] === Region.Code) {
      i = skipSpaceBack(code, code[before - 2] === '?' ? before - 2 : before - 1);
      continue;
    }
    return span.start;
  }
}

function matchingOpen(code: string, scan: Scan, close: number): number | undefined {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (scan.regions[i] !== Region.Code) continue;
    const c = code[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

function skipSpaceBack(code: string, i: number): number {
  while (i > 0 && /\s/.test(code[i - 1])) i--;
  return i;
}

function charBefore(code: string, i: number): string {
  if (i <= 0) return '';
  const lo = code.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = code.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return code.slice(i - 2, i);
  }
  return code[i - 1];
}
