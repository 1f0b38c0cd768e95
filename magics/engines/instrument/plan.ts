// Where probes go, planned on the syntax tree so that they can never change what the program means:
// a probe is a statement of its own (`;probe;`, safe after a line with no semicolon whatever the
// next line begins with), or an operand of a comma expression in parentheses, and a single
// statement that gets a probe in front of it (an `if` branch, a loop body) is put in braces first.
// Nothing inserted holds a newline, so every line stays where it was.
//
// What counts, as a Python line tracer would fire on the equivalent code (line_profiler's Hits,
// memory_profiler's Occurrences); the README's table says the same:
// - a statement counts each of its lines once per execution (nested function bodies count their
//   own lines when they run); a statement on a line already counted just before it (`a(); b()`,
//   `if (x) { y() }`) adds nothing;
// - a loop header counts once per evaluation: `for (;;)` and `while` per test (N+1 for N
//   iterations, N when left by `break`), `for…of`/`for…in` per step of the iteration (each body
//   entry, and once more when the iteration ends by itself), `do…while` its `do` line once per
//   entry and its `while (…)` line per test;
// - `else`, `finally`, case labels, lone brackets and comments count nothing; a `catch` line
//   counts when the handler runs.
import type { ProbeStyle } from '../instrument.js';
import { FUNCTION_TYPES, type Node, type Source } from './source.js';

export interface Insert {
  at: number;
  text: string;
  /** Among inserts at one offset, lower first: closings (outer last) before openings (outer first). */
  order: number;
}

export interface Replace {
  start: number;
  end: number;
  text: string;
}

interface Breakable {
  node: Node;
  labels: string[];
  loop: boolean;
  /** A `break` that leaves this statement goes to this label instead (for…of's completion probe). */
  renamed?: string;
}

export class Planner {
  readonly inserts: Insert[] = [];
  readonly replaces: Replace[] = [];
  readonly probedLines = new Set<number>();
  private seq = 0;
  private frames = 0;
  private labels = 0;
  private breakables: Breakable[] = [];

  constructor(private readonly src: Source, private readonly style: ProbeStyle) {}

  private open(at: number, text: string): void {
    this.inserts.push({ at, text, order: ++this.seq });
  }
  private close(at: number, text: string): void {
    this.inserts.push({ at, text, order: -1e9 - ++this.seq });
  }

  /** The expression that counts `lines` (the first moves the frame's current line, when there is a frame). */
  private probe(lines: number[], frame: string | undefined): string {
    const parts = lines.map((l, i) => {
      this.probedLines.add(l);
      return i === 0 && frame !== undefined ? this.style.line(frame, l).replace(/;\s*$/, '') : this.style.hit(l);
    });
    return parts.join(', ');
  }

  /** The profiled function (or class): the script's only statement, in parentheses. */
  target(node: Node): void {
    if (node.type === 'ClassExpression') this.expression(node, undefined);
    else this.fn(node, undefined, true);
  }

  private fn(fn: Node, _outer: string | undefined, outermost = false): void {
    const body = fn.body as Node;
    const saved = this.breakables;
    this.breakables = [];
    if (body.type !== 'BlockStatement' && outermost && !this.style.expression) {
      // The profiled function is an arrow with an expression body and the probes need a frame
      // (%lprun -x, %mprun): give it a block body on the same lines, `=> {…; return (x * x) …}`.
      const arrow = this.src.find('=>', fn.start, body.start)!;
      const frame = `__tsp${++this.frames}`;
      const line = this.src.line(body.start);
      this.open(arrow.end, ` {;${this.style.open(frame, true)};${this.probe([line], frame)}; return (`);
      this.close(fn.end, `)${this.style.close(frame)}}`);
      this.expression(body, frame);
    } else if (body.type !== 'BlockStatement') {
      const wrap = outermost ? this.style.expression?.() : undefined;
      if (wrap) {
        this.open(body.start, wrap[0]);
        this.close(body.end, wrap[1]);
      }
      // A body on lines of its own counts them per call.
      const head = this.src.line(fn.start);
      const lines = this.src.lines(body.start, body.end).filter((l) => l !== head);
      if (lines.length) {
        this.open(body.start, `(${this.probe(lines, undefined)}, `);
        this.close(body.end, ')');
      }
      this.expression(body, undefined);
    } else this.block(body, (body.body as Node[]).filter((s) => typeof s.directive === 'string'), outermost);
    this.breakables = saved;
  }

  /** A function body or a static block: a frame for the recorder, then its statements. */
  private block(body: Node, directives: Node[], outermost: boolean): void {
    const frame = `__tsp${++this.frames}`;
    const stmts = (body.body as Node[]).slice(directives.length);
    const brace = body.type === 'StaticBlock' ? this.src.find('{', body.start)!.end : body.start + 1;
    const openAt = directives.length ? directives[directives.length - 1].end : brace;
    this.open(openAt, `;${this.style.open(frame, outermost)}`);
    this.close(body.end - 1, this.style.close(frame));
    this.list(stmts, frame, -1);
  }

  private list(stmts: Node[], frame: string | undefined, prevLine: number): void {
    for (const s of stmts) {
      const last = this.statement(s, frame, prevLine, []);
      // A compound statement all on one line (`if (x) y = 1; z = 2`): what follows on it is counted.
      const line = this.src.line(s.start);
      prevLine = last === -1 && s.type !== 'BlockStatement' && this.src.line(s.end - 1) === line ? line : last;
    }
  }

  /** A statement where one statement must stay one (branch, loop body): braces if it gets probes. */
  private single(s: Node, frame: string | undefined, prevLine: number): void {
    if (s.type === 'BlockStatement') return this.list(s.body as Node[], frame, prevLine);
    if (s.type === 'EmptyStatement') return;
    this.open(s.start, '{');
    this.close(s.end, '}');
    this.statement(s, frame, prevLine, []);
  }

  /** Probe `lines` before the statement starting at `at`; returns the last line counted. */
  private before(at: number, lines: number[], frame: string | undefined, prevLine: number): number {
    const counted = lines[0] === prevLine ? lines.slice(1) : lines;
    if (counted.length) this.open(at, `;${this.probe(counted, frame)};`);
    return lines.length ? lines[lines.length - 1] : prevLine;
  }

  /** Returns the line on which the statement ends, if a statement right after it on that line is already counted. */
  private statement(s: Node, frame: string | undefined, prevLine: number, labels: Node[]): number {
    const src = this.src;
    const at = labels.length ? labels[0].start : s.start;
    const names = labels.map((l) => (l.label as Node & { name: string }).name);
    switch (s.type) {
      case 'LabeledStatement':
        return this.statement(s.body as Node, frame, prevLine, [...labels, s]);
      case 'EmptyStatement':
        return prevLine;
      case 'BlockStatement':
        this.breakables.push({ node: s, labels: names, loop: false });
        this.list(s.body as Node[], frame, prevLine);
        this.breakables.pop();
        return -1;
      case 'ForStatement':
      case 'WhileStatement': {
        const body = s.body as Node;
        const head = src.lines(s.start, body.start);
        this.expression(s.init as Node | null, frame);
        const test = s.test as Node | null;
        if (test) {
          this.open(test.start, `(${this.probe(head, frame)}, `);
          this.close(test.end, ')');
          this.expression(test, frame);
        } else {
          const from = (s.init as Node | null)?.end ?? s.start;
          const semi = src.find(';', from, body.start)!;
          this.open(semi.end, `(${this.probe(head, frame)}, true)`);
        }
        this.expression(s.update as Node | null, frame);
        this.loopBody(s, names, frame, head[head.length - 1]);
        return -1;
      }
      case 'DoWhileStatement': {
        const body = s.body as Node;
        const head = src.lines(s.start, body.start);
        this.before(at, head, frame, prevLine);
        this.loopBody(s, names, frame, head[head.length - 1]);
        const test = s.test as Node;
        const tail = src.lines(body.end, s.end);
        this.open(test.start, `(${this.probe(tail, frame)}, `);
        this.close(test.end, ')');
        this.expression(test, frame);
        return -1;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const body = s.body as Node;
        const head = src.lines(s.start, body.start);
        this.expression(s.left as Node, frame);
        this.expression(s.right as Node, frame);
        // Each step of the iteration: every body entry, and the step that finds the end. A `break`
        // leaves through a label around the loop, past the count of that last step.
        const label = `__tspb${++this.labels}`;
        this.open(at, `${label}: {`);
        this.close(s.end, `;${this.probe(head, frame)};}`);
        if (body.type === 'BlockStatement') this.open(body.start + 1, `;${this.probe(head, frame)};`);
        else {
          this.open(body.start, `{;${this.probe(head, frame)};`);
          this.close(body.end, '}');
        }
        this.loopBody(s, names, frame, head[head.length - 1], label, body.type !== 'BlockStatement');
        return -1;
      }
      case 'IfStatement': {
        const consequent = s.consequent as Node;
        const head = src.lines(s.start, consequent.start);
        this.before(at, head, frame, prevLine);
        this.expression(s.test as Node, frame);
        this.single(consequent, frame, head[head.length - 1]);
        const alternate = s.alternate as Node | null;
        if (alternate) this.single(alternate, frame, -1);
        return -1;
      }
      case 'SwitchStatement': {
        const brace = src.find('{', (s.discriminant as Node).end)!;
        this.before(at, src.lines(s.start, brace.start), frame, prevLine);
        this.expression(s.discriminant as Node, frame);
        this.breakables.push({ node: s, labels: names, loop: false });
        for (const c of s.cases as Node[]) {
          this.expression(c.test as Node | null, frame);
          this.list(c.consequent as Node[], frame, -1);
        }
        this.breakables.pop();
        return -1;
      }
      case 'TryStatement': {
        const block = s.block as Node;
        const head = src.lines(s.start, block.start);
        this.before(at, head, frame, prevLine);
        this.list(block.body as Node[], frame, head[head.length - 1]);
        const handler = s.handler as Node | null;
        if (handler) {
          const hbody = handler.body as Node;
          const catchLines = src.lines(handler.start, hbody.start);
          this.open(hbody.start + 1, `;${this.probe(catchLines, frame)};`);
          this.list(hbody.body as Node[], frame, catchLines[catchLines.length - 1]);
        }
        const finalizer = s.finalizer as Node | null;
        if (finalizer) this.list(finalizer.body as Node[], frame, -1);
        return -1;
      }
      case 'WithStatement': {
        const body = s.body as Node;
        const head = src.lines(s.start, body.start);
        this.before(at, head, frame, prevLine);
        this.expression(s.object as Node, frame);
        this.single(body, frame, head[head.length - 1]);
        return -1;
      }
      case 'BreakStatement': {
        this.redirect(s);
        return this.before(at, src.lines(s.start, s.end), frame, prevLine);
      }
      default: {
        // A simple statement (expression, declaration, return, throw, continue, function or class declaration).
        const last = this.before(at, src.lines(s.start, s.end), frame, prevLine);
        this.expression(s, frame);
        return last;
      }
    }
  }

  /** A loop's body: its statements, with the loop as the target of `break` and `continue`. */
  private loopBody(loop: Node, labels: string[], frame: string | undefined, headLine: number, renamed?: string, braced = false): void {
    this.breakables.push({ node: loop, labels, loop: true, renamed });
    const body = loop.body as Node;
    if (braced) this.statement(body, frame, headLine, []);
    else this.single(body, frame, headLine);
    this.breakables.pop();
  }

  /** A `break` out of a for…of/for…in goes to the label around it, past its completion count. */
  private redirect(s: Node): void {
    const label = s.label as (Node & { name: string }) | null;
    let target: Breakable | undefined;
    for (let i = this.breakables.length - 1; i >= 0 && !target; i--) {
      const b = this.breakables[i];
      if (label ? b.labels.includes(label.name) : b.loop || b.node.type === 'SwitchStatement') target = b;
    }
    if (!target?.renamed) return;
    if (label) this.replaces.push({ start: label.start, end: label.end, text: target.renamed });
    else this.replaces.push({ start: s.start, end: s.start + 'break'.length, text: `break ${target.renamed}` });
  }

  /** Functions and classes inside an expression (or a simple statement) get their own probes. */
  expression(node: Node | null | undefined, frame: string | undefined): void {
    if (!node || typeof node !== 'object') return;
    if (FUNCTION_TYPES.has(node.type)) return this.fn(node, frame);
    if (node.type === 'StaticBlock') {
      const saved = this.breakables;
      this.breakables = [];
      this.block(node, [], false);
      this.breakables = saved;
      return;
    }
    for (const key in node) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      const child = node[key];
      if (Array.isArray(child)) for (const c of child) this.expression(c as Node, frame);
      else if (child && typeof child === 'object' && typeof (child as Node).type === 'string') this.expression(child as Node, frame);
    }
  }
}
