// Cell text → TypeScript with magics turned into awaited calls, the way IPython turns `%x` into
// `get_ipython().run_line_magic(...)`. Every line stays on its line, so tracebacks still point at
// the right cell line, and code before and after a magic runs in the same scope as usual.
import { RUNTIME } from '../../kernel/session/transpile.js';

const CELL_MAGIC = /^%%([\w$-]+)(\?{0,2})(.*)$/;
const HELP = /^(\s*)%{1,2}([\w$-]+)\?{1,2}\s*$/;
const OBJECT_HELP = /^(\s*)(?:\?{1,2}([\w$.[\]'"]+)|([\w$.[\]'"]+)(\?{1,2}))\s*$/;
const ASSIGN = /^(\s*)((?:const|let|var)\s+)?([\w$]+(?:\s*:\s*[^=]+?)?)\s*=\s*%([\w$-]+)(.*)$/;
const LINE_MAGIC = /^(\s*)%([\w$-]+)(.*)$/;
/** `%time stmt` timed where it stands; declarations go through the magic so they stay in the cell's scope. */
const INLINE_TIME = /^(\s*)%time\s+(?!-)(?!(?:let|const|var|using|function|class|async\s+function|import|export|interface|type|enum|declare|namespace|abstract)\b)(\S.*)$/;

/** Cheap test so cells without magics pay nothing. */
export function mayHaveMagic(code: string): boolean {
  return /^\s*%|=\s*%|\?\s*$|^\s*\?/m.test(code);
}

export function rewriteMagics(code: string): string {
  if (!mayHaveMagic(code)) return code;
  const lines = code.split('\n');
  const call = (fn: string, ...args: unknown[]): string => `await ${RUNTIME}.${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
  const cell = CELL_MAGIC.exec(lines[0]);
  if (cell) {
    const [, name, help, args] = cell;
    const first = help ? `${call('help', name)};` : `${call('magic', name, args.trim(), lines.slice(1).join('\n'), 1)};`;
    return [first, ...lines.slice(1).map(() => '')].join('\n');
  }
  // The block an inline `%time` opens closes at the start of the next line: a `// comment` at the end
  // of the statement cannot swallow it, and every line stays where it was.
  const closeTime = `} finally { ${RUNTIME}.time.end(__tsprof_time); } }`;
  let pending = '';
  const out = lines.map((line, i) => {
    const closing = pending;
    pending = '';
    return closing + rewriteLine(line, i);
  });
  if (pending) out.push(pending);
  return out.join('\n');

  function rewriteLine(line: string, i: number): string {
    const inline = INLINE_TIME.exec(line);
    if (inline) {
      pending = `${closeTime} `;
      return `${inline[1]}{ const __tsprof_time = ${RUNTIME}.time.start(); try { ${inline[2]}`;
    }
    let m = HELP.exec(line);
    if (m) return `${m[1]}${call('help', m[2])};`;
    m = OBJECT_HELP.exec(line);
    if (m && (m[2] !== undefined || m[4] !== undefined)) {
      const expr = m[2] ?? m[3];
      const detail = (m[4] ?? '').length === 2 || /^\s*\?\?/.test(line) ? 1 : 0;
      return `${m[1]}${call('objectHelp', expr, detail)};`;
    }
    m = ASSIGN.exec(line);
    if (m) return `${m[1]}${m[2] ?? ''}${m[3]} = ${call('magic', m[4], m[5].trim(), null, i + 1)};`;
    m = LINE_MAGIC.exec(line);
    if (m && !line.trimStart().startsWith('%%')) return `${m[1]}${call('magic', m[2], m[3].trim(), null, i + 1)};`;
    return line;
  }
}
