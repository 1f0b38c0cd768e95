// A small lexer for cell text: where strings, template text, comments and regular expressions are,
// and which brackets are still open at the end. The main thread uses it to tell what the cursor is
// on without loading TypeScript; is_complete uses it for the continuation indent.

export const Region = { Code: 0, String: 1, Template: 2, Comment: 3, Regex: 4 } as const;

export interface Literal {
  start: number;
  end: number;
  kind: number;
  /** A closed literal ends at its closing delimiter, so a cursor at `end` is outside it. */
  closed: boolean;
}

export interface OpenBracket {
  /** `(`, `[`, `{`, or `${` for a template substitution. */
  char: string;
  at: number;
}

export interface Scan {
  /** Region of every UTF-16 unit (Region.Code for code). */
  regions: Uint8Array;
  literals: Literal[];
  /** Brackets still open at the end, outermost first. */
  open: OpenBracket[];
  /** The literal or comment the text ends inside, if any. */
  unterminated?: 'string' | 'template' | 'comment' | 'regex';
}

// After these tokens a `/` starts a regular expression rather than a division.
const REGEX_AFTER_CHAR = new Set('([{,;:=!&|?+-*%<>~^'.split(''));
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);
const WORD = /[\w$\u0080-\uffff]/;

export function scanCode(code: string): Scan {
  const n = code.length;
  const regions = new Uint8Array(n);
  const literals: Literal[] = [];
  const open: OpenBracket[] = [];
  let unterminated: Scan['unterminated'];
  // The previous significant token: a punctuation character, a word, or '' at the start.
  let prev = '';
  const mark = (start: number, end: number, kind: number, closed: boolean): void => {
    regions.fill(kind, start, end);
    literals.push({ start, end, kind, closed });
  };

  let i = 0;
  let templateFrom = -1; // ≥ 0 while scanning template text that started at this offset (`` ` `` or `}`)
  while (i < n) {
    if (templateFrom >= 0) {
      let j = i;
      for (; j < n; j++) {
        const c = code[j];
        if (c === '\\') j++;
        else if (c === '`' || (c === '$' && code[j + 1] === '{')) break;
      }
      if (j >= n) {
        mark(templateFrom, n, Region.Template, false);
        unterminated = 'template';
        break;
      }
      if (code[j] === '`') {
        mark(templateFrom, j + 1, Region.Template, true);
        i = j + 1;
        prev = 'value';
      } else {
        mark(templateFrom, j, Region.Template, true);
        open.push({ char: '${', at: j });
        i = j + 2;
        prev = '{';
      }
      templateFrom = -1;
      continue;
    }

    const c = code[i];
    if (c === '/' && code[i + 1] === '/') {
      const nl = code.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      mark(i, end, Region.Comment, false);
      i = end;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      if (close < 0) {
        mark(i, n, Region.Comment, false);
        unterminated = 'comment';
        break;
      }
      mark(i, close + 2, Region.Comment, true);
      i = close + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      for (; j < n; j++) {
        const d = code[j];
        if (d === '\\') j++;
        else if (d === c || d === '\n') break;
      }
      if (j < n && code[j] === c) {
        mark(i, j + 1, Region.String, true);
        i = j + 1;
      } else {
        mark(i, Math.min(j, n), Region.String, false);
        if (j >= n) unterminated = 'string';
        i = j;
      }
      prev = 'value';
      continue;
    }
    if (c === '`') {
      templateFrom = i;
      i++;
      continue;
    }
    if (c === '/' && (prev === '' || REGEX_AFTER_CHAR.has(prev) || REGEX_AFTER_WORD.has(prev))) {
      let j = i + 1;
      let inClass = false;
      for (; j < n; j++) {
        const d = code[j];
        if (d === '\\') j++;
        else if (d === '\n') break;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
      }
      if (j < n && code[j] === '/') {
        j++;
        while (j < n && /[a-z]/i.test(code[j])) j++;
        mark(i, j, Region.Regex, true);
      } else {
        mark(i, Math.min(j, n), Region.Regex, false);
        if (j >= n) unterminated = 'regex';
      }
      i = Math.min(j, n);
      prev = 'value';
      continue;
    }
    if (WORD.test(c)) {
      let j = i + 1;
      while (j < n && WORD.test(code[j])) j++;
      prev = code.slice(i, j);
      i = j;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      open.push({ char: c, at: i });
    } else if (c === ')' || c === ']') {
      const want = c === ')' ? '(' : '[';
      if (open.at(-1)?.char === want) open.pop();
    } else if (c === '}') {
      // Close the nearest `{` or `${`, dropping any unclosed `(`/`[` inside it.
      let k = open.length - 1;
      while (k >= 0 && open[k].char !== '{' && open[k].char !== '${') k--;
      if (k >= 0) {
        const closesTemplate = open[k].char === '${';
        open.length = k;
        if (closesTemplate) {
          templateFrom = i;
          i++;
          continue;
        }
      }
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return { regions, literals, open, unterminated };
}

/** The string, template text, comment or regex the cursor at `pos` is inside, if any. */
export function literalAt(scan: Scan, pos: number): Literal | undefined {
  for (const lit of scan.literals) {
    if (lit.start >= pos) break;
    if (pos < lit.end || (pos === lit.end && !lit.closed)) return lit;
  }
  return undefined;
}
