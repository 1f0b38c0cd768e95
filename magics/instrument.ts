// Statement probes for a function's source, for the per-line modes of %lprun and %mprun.
//
// Before every statement a probe runs. Two kinds: a recorder's (`P.l(F, LINE)`, each function
// body with its own frame `F = P.e()` closed in a `finally` by `P.x(F)`, so recursion and nested
// functions keep their own "current line") for the modes that time or measure each line, and a bare
// counter (`H[LINE]++` on a typed array the function closes over) for hits alone. Probes are
// inserted without newlines, so every line stays where it was.
import { parse } from 'acorn';

/**
 * What a probe recorder implements: enter a frame, reach a line, exit a frame. `m` marks the lines
 * whose probe needs the recorder (the others only count, inline in the instrumented code: a call
 * per statement is what made probes expensive in V8's interpreter); `h` holds the hits.
 */
export interface Recorder<Frame extends { line: number }> {
  e(): Frame;
  l(frame: Frame, line: number): void;
  x(frame: Frame): void;
  readonly m: Uint8Array;
  readonly h: Float64Array;
}

/** The text a kind of probe inserts: around each function body, and before each statement. */
export interface ProbeStyle {
  /** Opens a block function body (after its directives); `outermost` is the profiled function itself. */
  open(frame: string, outermost: boolean): string;
  /** Closes a block function body. */
  close(frame: string): string;
  /** Wraps the profiled function's expression body (`x => x * 2`), or undefined to leave it. */
  expression?(): [string, string];
  /** Before a statement that starts `line` (0-based). */
  line(frame: string, line: number): string;
}

/** The global (symbol-keyed) slot an instrumented function reads its recorder from. */
export function probeKey(id: string): symbol {
  return Symbol.for(`tsprof.probe.${id}`);
}

/** Probes that call the recorder stored under `probeKey(probeId)` (read once per call). */
export function recorderProbes(probeId: string): ProbeStyle {
  const P = `globalThis[Symbol.for(${JSON.stringify(`tsprof.probe.${probeId}`)})]`;
  return {
    open: (f) => ` const ${f}p = ${P}, ${f} = ${f}p.e(); try {`,
    close: (f) => `} finally { ${f}p.x(${f}); }`,
    // Leaving or reaching a line the recorder watches calls it; otherwise count and move on.
    line: (f, line) => `((${f}p.m[${f}.line] | ${f}p.m[${line}]) ? ${f}p.l(${f}, ${line}) : (${f}p.h[${line}]++, ${f}.line = ${line}));`,
  };
}

/**
 * Bare counters: `variable[LINE]++` before each statement and `variable[callsIndex]++` on each call
 * of the profiled function, on a Float64Array (exact to 2^53; a Uint32Array would wrap after 4e9
 * hits, seconds of a tight loop) the instrumented script receives: `(variable) => (function …)`.
 * Optimized code keeps them to an increment each: 1.1× (calls) to 1.4× (tight loops) where V8's
 * block coverage costs 2–2.7×.
 */
export function countingProbes(variable: string, callsIndex: number): ProbeStyle {
  return {
    open: (_f, outermost) => (outermost ? ` ${variable}[${callsIndex}]++;` : ''),
    close: () => '',
    expression: () => [`(${variable}[${callsIndex}]++, `, ')'],
    line: (_f, line) => `${variable}[${line}]++;`,
  };
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
 * in parentheses). Returns the new script and the 0-based lines that carry a probe.
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
  return { code, probedLines };
}

/** Exact wall time per line, inclusive of callees (line_profiler's semantics), and hits. */
export class TimeRecorder implements Recorder<{ line: number; t: number }> {
  readonly hits: Float64Array;
  readonly time: Float64Array;
  /** Every line is timed. */
  readonly m: Uint8Array;
  readonly h: Float64Array;
  /** Frames entered: calls of the instrumented functions. */
  calls = 0;
  constructor(lines: number) {
    this.hits = new Float64Array(lines);
    this.time = new Float64Array(lines);
    this.m = new Uint8Array(lines).fill(1);
    this.h = this.hits;
  }
  e(): { line: number; t: number } {
    this.calls++;
    return { line: -1, t: 0 };
  }
  l(f: { line: number; t: number }, line: number): void {
    const now = performance.now();
    if (f.line >= 0) this.time[f.line] += now - f.t;
    this.hits[line]++;
    f.line = line;
    f.t = now;
  }
  x(f: { line: number; t: number }): void {
    if (f.line >= 0) this.time[f.line] += performance.now() - f.t;
    f.line = -1;
  }
}
