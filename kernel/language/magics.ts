// IPython-style magics (`%timeit x + 1`, `%%time`) are not TypeScript. Before any code reaches the
// TypeScript parser their lines become spaces, so positions and line numbers stay where they were.

const MAGIC_LINE = /^%[^\n]*/gm;

/** True when the line (without its newline) is a line or cell magic. */
export function isMagicLine(line: string): boolean {
  return line.startsWith('%');
}

/**
 * Replace every magic line with spaces of the same UTF-16 length.
 * `keepArgsAt`: a position whose magic line keeps its arguments (only `%name` is blanked), so
 * completing or inspecting inside `%timeit Math.fl` still sees `Math.fl` as code.
 */
export function blankMagicLines(code: string, keepArgsAt?: number): string {
  if (!code.includes('%')) return code;
  return code.replace(MAGIC_LINE, (line, offset: number) => {
    if (keepArgsAt !== undefined && keepArgsAt >= offset && keepArgsAt <= offset + line.length) {
      const name = /^%%?[^\s]*/.exec(line)![0];
      return ' '.repeat(name.length) + line.slice(name.length);
    }
    return ' '.repeat(line.length);
  });
}
