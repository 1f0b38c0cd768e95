// Statement probes in a function's source, for the per-line modes of %lprun and %mprun.
//
// The planner (instrument/plan.ts) decides where probes go, on acorn's syntax tree; a ProbeStyle
// (probes.ts) decides what a probe is. The edits are applied with magic-string. What the probes use
// reaches the function as parameters of a factory the instrumented script evaluates to,
// `(params) => (function …)`: closure slots, read without a lookup. Nothing inserted holds a
// newline, so every line stays where it was.
import MagicStringModule from 'magic-string';
import { Planner } from './instrument/plan.js';
import { FUNCTION_TYPES, Source, type Node } from './instrument/source.js';

// magic-string 0.25 is CommonJS (`module.exports = MagicString`) typed as an ES default export.
const MagicString = MagicStringModule as unknown as typeof MagicStringModule.default;

/** The text a kind of probe inserts: around each function body, and before each statement. */
export interface ProbeStyle {
  /** Names the factory passes the function: what its probes use. */
  params: string[];
  /** Opens a block function body (after its directives); `outermost` is the profiled function itself. */
  open(frame: string, outermost: boolean): string;
  /** Closes a block function body. */
  close(frame: string): string;
  /** Wraps the profiled function's expression body (`x => x * 2`), or undefined to leave it. */
  expression?(): [string, string];
  /** An expression statement reached when `line` (0-based) starts running: counts it and makes it the frame's current line. */
  line(frame: string, line: number): string;
  /** An expression that counts a hit of `line` and nothing more (the other lines of a multi-line statement, code with no frame). */
  hit(line: number): string;
}

/** How to compile an instrumented copy: the probes' text, and the values the factory receives. */
export interface Instrumentation {
  style: ProbeStyle;
  args: unknown[];
}

/**
 * Instrument the function (or class) expression in `script` (a script whose only statement is that
 * expression, in parentheses). Returns a script that evaluates to the factory
 * `(style.params) => (function …)`, on the same lines, and the 0-based lines that carry a probe.
 */
export function instrumentScript(script: string, style: ProbeStyle): { code: string; probedLines: Set<number> } {
  const { s, at, probedLines } = probed(script, style);
  s.appendLeft(at, `((${style.params.join(', ')}) => `);
  s.append(')');
  return { code: s.toString(), probedLines };
}

/**
 * The probes alone, no factory: the script with the same expression, instrumented, and nothing
 * before or after it changed. For a function recompiled in place (its probes then reach what they
 * use as globals, `style.params` empty).
 */
export function instrumentExpression(script: string, style: ProbeStyle): { code: string; probedLines: Set<number> } {
  const { s, probedLines } = probed(script, style);
  return { code: s.toString(), probedLines };
}

function probed(script: string, style: ProbeStyle): { s: InstanceType<typeof MagicString>; at: number; probedLines: Set<number> } {
  const source = new Source(script);
  const program = source.ast.body as Node[];
  const expr = program.length === 1 && program[0].type === 'ExpressionStatement' ? (program[0].expression as Node) : undefined;
  if (!expr || !(FUNCTION_TYPES.has(expr.type) || expr.type === 'ClassExpression')) throw new Error('expected a single function or class expression');
  const planner = new Planner(source, style);
  planner.target(expr);

  const s = new MagicString(script);
  for (const r of planner.replaces) s.overwrite(r.start, r.end, r.text);
  const inserts = [...planner.inserts].sort((a, b) => a.at - b.at || a.order - b.order);
  for (const e of inserts) s.appendLeft(e.at, e.text);
  return { s, at: program[0].start, probedLines: planner.probedLines };
}
