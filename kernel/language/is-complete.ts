// is_complete: would running this code now make sense, or is the user still typing it?
// Only the parser is involved (createSourceFile, ~0.1 ms for a cell), never the LanguageService.
//
// - No parse errors: complete.
// - Every parse error sits at the end of the code (after its last non-blank character): the code
//   stops mid-construct (open bracket, template literal, comment, trailing operator or `=>`), so
//   incomplete.
// - Any error earlier: invalid.
// One exception: a '…' or "…" string cannot continue on the next line unless the line ends with a
// backslash, so an unterminated one is invalid, not incomplete (waiting would never help).
import { ts } from './typescript.js';
import type { IsCompleteReply } from '../wire/message.js';
import { blankMagicLines } from './magics.js';
import { parseDiagnostics } from './notebook-file.js';
import { scanCode } from './scan.js';

const INDENT = '    ';

export function isComplete(code: string): IsCompleteReply {
  const text = blankMagicLines(code);
  const end = text.trimEnd().length;
  if (end === 0) return { status: 'complete' };
  const sf = ts.createSourceFile('cell.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const diagnostics = parseDiagnostics(sf);
  if (diagnostics.length === 0) return { status: 'complete' };
  if (diagnostics.some((d) => d.start === undefined || d.start < end)) return { status: 'invalid' };
  const scan = scanCode(text);
  if (scan.unterminated === 'regex') return { status: 'invalid' };
  if (scan.unterminated === 'string' && !text.trimEnd().endsWith('\\')) return { status: 'invalid' };
  // Indent from the code as typed (a magic line counts as a line); offsets are the same in both.
  return { status: 'incomplete', indent: continuationIndent(code, scan.open.at(-1)?.at) };
}

/** The last non-blank line's indent, plus one level when that line opened the innermost open bracket. */
function continuationIndent(text: string, innermostOpen: number | undefined): string {
  const trimmed = text.trimEnd();
  const lineStart = trimmed.lastIndexOf('\n') + 1;
  const indent = /^[ \t]*/.exec(trimmed.slice(lineStart))![0];
  return innermostOpen !== undefined && innermostOpen >= lineStart ? indent + INDENT : indent;
}
