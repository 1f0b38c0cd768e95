// Where statement probes go in a function's source, for the per-line modes of %lprun and %mprun.
//
// The instrumenter decides where a probe goes (before which statements, on which lines); a
// ProbeStyle (probes.ts) decides what a probe is. What the probes use reaches the function as
// parameters of a factory the instrumented script evaluates to, `(params) => (function …)`: closure
// slots, read without a lookup. Probes are inserted without newlines, so every line stays where it was.
import { parse } from 'acorn';

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
  /** Before a statement that starts `line` (0-based). */
  line(frame: string, line: number): string;
}

/** How to compile an instrumented copy: the probes' text, and the values the factory receives. */
export interface Instrumentation {
  style: ProbeStyle;
  args: unknown[];
}

interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number } };
  body?: Node | Node[];
  consequent?: Node | Node[];
  alternate?: Node | null;
  expression?: Node | boolean;
  directive?: string;
  [key: string]: unknown;
}

type Edit = { at: number; text: string; order: number };

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const LOOP_BODY = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement', 'LabeledStatement', 'WithStatement']);

/**
 * Instrument the function expression in `script` (a script whose only statement is that function,
 * in parentheses). Returns a script that evaluates to the factory `(style.params) => (function …)`,
 * on the same lines, and the 0-based lines that carry a probe.
 */
export function instrumentScript(script: string, style: ProbeStyle): { code: string; probedLines: Set<number> } {
  let ast: Node;
  try {
    ast = parse(script, { ecmaVersion: 'latest', locations: true, allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true }) as unknown as Node;
  } catch (e) {
    throw new Error(`cannot parse the function for instrumentation: ${(e as Error).message}`);
  }
  const edits: Edit[] = [];
  const probedLines = new Set<number>();
  let frames = 0;

  const probe = (stmt: Node, frame: string): string => {
    const line = stmt.loc.start.line - 1;
    probedLines.add(line);
    return style.line(frame, line);
  };

  // A frame variable per function body (the recorder's probes keep the current line in it).
  const instrumentFunction = (fn: Node, outermost = false): void => {
    const body = fn.body as Node;
    if (body.type !== 'BlockStatement') {
      const wrap = outermost ? style.expression?.() : undefined;
      if (wrap) {
        edits.push({ at: body.start, text: wrap[0], order: 0 });
        edits.push({ at: body.end, text: wrap[1], order: 2 });
      }
      visit(body, undefined);
      return;
    }
    const frame = `__tsp${++frames}`;
    const stmts = body.body as Node[];
    let first = 0;
    while (first < stmts.length && typeof stmts[first].directive === 'string') first++;
    const openAt = first > 0 ? stmts[first - 1].end : body.start + 1;
    edits.push({ at: openAt, text: style.open(frame, outermost), order: 0 });
    edits.push({ at: body.end - 1, text: style.close(frame), order: 2 });
    const outer = currentLine;
    currentLine = -1;
    statementList(stmts.slice(first), frame);
    currentLine = outer;
  };

  // A line counts once per visit, as line_profiler's line events do: a statement that starts on
  // the line of the statement around it (`if (x) { y = 1; break; }`) or of the one before it gets no probe.
  let currentLine = -1;
  const statementList = (stmts: Node[], frame: string): void => {
    const outer = currentLine;
    let last = outer;
    for (const s of stmts) {
      const line = s.loc.start.line - 1;
      if (line !== last) edits.push({ at: s.start, text: probe(s, frame), order: 1 });
      last = line;
      currentLine = line;
      visit(s, frame);
    }
    currentLine = outer;
  };

  /** A single statement where a list could be (if/else branch, loop body): wrap it in a block with its probe. */
  const single = (s: Node | null | undefined, frame: string | undefined): void => {
    if (!s) return;
    if (s.type === 'BlockStatement' || !frame || s.loc.start.line - 1 === currentLine) {
      visit(s, frame);
      return;
    }
    const outer = currentLine;
    edits.push({ at: s.start, text: `{${probe(s, frame)}`, order: 1 });
    edits.push({ at: s.end, text: '}', order: -1 });
    currentLine = s.loc.start.line - 1;
    visit(s, frame);
    currentLine = outer;
  };

  const visit = (node: Node | null | undefined, frame: string | undefined): void => {
    if (!node || typeof node !== 'object') return;
    if (FUNCTION_TYPES.has(node.type)) {
      instrumentFunction(node);
      return;
    }
    switch (node.type) {
      case 'BlockStatement':
      case 'StaticBlock':
        if (frame) statementList(node.body as Node[], frame);
        else for (const s of node.body as Node[]) visit(s, frame);
        return;
      case 'SwitchCase':
        visit(node.test as Node, frame);
        if (frame) statementList(node.consequent as Node[], frame);
        return;
      case 'IfStatement':
        visit(node.test as Node, frame);
        single(node.consequent as Node, frame);
        single(node.alternate, frame);
        return;
    }
    if (LOOP_BODY.has(node.type)) {
      for (const [key, child] of Object.entries(node)) {
        if (key === 'body') single(child as Node, frame);
        else if (child && typeof child === 'object' && key !== 'loc') visitChild(child, frame);
      }
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (key === 'loc' || !child || typeof child !== 'object') continue;
      visitChild(child, frame);
    }
  };
  const visitChild = (child: unknown, frame: string | undefined): void => {
    if (Array.isArray(child)) for (const c of child) visit(c as Node, frame);
    else if (typeof (child as Node).type === 'string') visit(child as Node, frame);
  };

  const program = ast.body as Node[];
  const expr = program[0]?.type === 'ExpressionStatement' ? (program[0].expression as Node) : undefined;
  if (!expr || !FUNCTION_TYPES.has(expr.type)) throw new Error('expected a single function expression');
  instrumentFunction(expr, true);

  edits.sort((a, b) => b.at - a.at || b.order - a.order);
  let code = script;
  for (const e of edits) code = code.slice(0, e.at) + e.text + code.slice(e.at);
  const at = program[0].start;
  code = `${code.slice(0, at)}((${style.params.join(', ')}) => ${code.slice(at)})`;
  return { code, probedLines };
}

