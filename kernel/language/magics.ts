// IPython-style magic syntax is not TypeScript. Before code reaches the TypeScript parser, magic
// lines become spaces of the same length, so positions and line numbers stay where they were.
// The patterns follow the session's rewriter (magics/rewrite.ts):
//   %%name args      first line of a cell magic (the body stays: %%time and %%timeit run it as code)
//   %name args       line magic, possibly indented
//   x = %name args   a magic's value assigned: the magic becomes MAGIC_VALUE, typed `any`
//   name? name?? ?name %name?   help requests

/** Stands in for an assigned magic's value (`const r = %timeit -o f()`); declared `any` in the notebook file. */
export const MAGIC_VALUE = 'ℳ';

const LINE_MAGIC = /^[ \t]*%%?[\w$-]/;
const HELP = /^\s*%{1,2}[\w$-]+\?{1,2}\s*$/;
const OBJECT_HELP = /^\s*(?:\?{1,2}[\w$.[\]'"]+|[\w$.[\]'"]+\?{1,2})\s*$/;
const ASSIGN = /^(\s*(?:(?:const|let|var)\s+)?[\w$]+(?:\s*:\s*[^=]+?)?\s*=\s*)%[\w$-]/;

/**
 * Blank the magic syntax in `code`, keeping its UTF-16 length and line breaks.
 * `keepArgsAt`: a position whose line keeps the code in it (only `%name` or the `?`s are blanked),
 * so completing or inspecting inside `%timeit Math.fl` or `Math.floor?` still sees the code.
 */
export function blankMagicLines(code: string, keepArgsAt?: number): string {
  if (!code.includes('%') && !code.includes('?')) return code;
  let offset = 0;
  return code
    .split('\n')
    .map((line) => {
      const start = offset;
      offset += line.length + 1;
      const cursorHere = keepArgsAt !== undefined && keepArgsAt >= start && keepArgsAt <= start + line.length;
      return blankLine(line, cursorHere);
    })
    .join('\n');
}

function blankLine(line: string, cursorHere: boolean): string {
  if (HELP.test(line)) return spaces(line);
  if (OBJECT_HELP.test(line)) return cursorHere ? line.replace(/\?/g, ' ') : spaces(line);
  const assign = ASSIGN.exec(line);
  if (assign) {
    const lhs = assign[1];
    return lhs + MAGIC_VALUE + ' '.repeat(line.length - lhs.length - MAGIC_VALUE.length);
  }
  if (LINE_MAGIC.test(line)) {
    if (!cursorHere) return spaces(line);
    // Keep what follows the magic's name: `%timeit Math.fl` → `        Math.fl`.
    return line.replace(/^([ \t]*)(%%?[^\s]*)/, (_, indent: string, name: string) => indent + ' '.repeat(name.length));
  }
  return line;
}

function spaces(line: string): string {
  return ' '.repeat(line.length);
}
