// The parsed script the instrumenter plans on: acorn's tree, its tokens, and which lines a stretch
// of source puts code on (comments and blank lines put none; nested function bodies are left out,
// they count their own lines when they run).
import { parse } from 'acorn';
import { lineAt, lineStarts } from '../v8/lines.js';

/** An ESTree node as acorn gives it (fields read by the planner are typed at their use). */
export interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface Token {
  start: number;
  end: number;
  label: string;
  line: number;
}

export class Source {
  readonly ast: Node;
  private readonly tokens: Token[] = [];
  private readonly starts: number[];
  /** [start, end) of every function body and static block: code there runs when it is called. */
  private readonly bodies: Array<[number, number, boolean]> = [];

  constructor(readonly text: string) {
    this.starts = lineStarts(text);
    const raw: Array<{ start: number; end: number; type: { label: string } }> = [];
    try {
      // A method recompiled in place may use its class's private names: parsed alone here to be probed.
      this.ast = parse(text, { ecmaVersion: 'latest', allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true, checkPrivateFields: false, onToken: (t) => void raw.push(t) }) as unknown as Node;
    } catch (e) {
      throw new Error(`cannot parse the function for instrumentation: ${(e as Error).message}`);
    }
    for (const t of raw) if (t.type.label !== 'eof') this.tokens.push({ start: t.start, end: t.end, label: t.type.label, line: lineAt(this.starts, t.start) });
    const collect = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(collect);
      const node = n as Node;
      if (typeof node.type !== 'string') return;
      if (FUNCTION_TYPES.has(node.type)) this.bodies.push([(node.body as Node).start, (node.body as Node).end, (node.body as Node).type !== 'BlockStatement']);
      if (node.type === 'StaticBlock') this.bodies.push([node.start, node.end, false]);
      for (const k in node) if (k !== 'type') collect(node[k]);
    };
    collect(this.ast);
  }

  line(offset: number): number {
    return lineAt(this.starts, offset);
  }

  /** Index of the first token starting at or after `offset`. */
  private tokenAt(offset: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid].start < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first token at or after `offset` with this label (`;`, `{`, …). */
  find(label: string, offset: number, before = Infinity): { start: number; end: number } | undefined {
    for (let i = this.tokenAt(offset); i < this.tokens.length && this.tokens[i].start < before; i++) if (this.tokens[i].label === label) return this.tokens[i];
    return undefined;
  }

  /**
   * The lines that tokens in [from, to) start on, in order, leaving out the bodies of functions
   * (and static blocks) that lie wholly inside the stretch, and after the first line, the lines
   * an arrow's expression body is on (`(a, b) =>⏎ a + b, 0)`: that line runs per call).
   */
  lines(from: number, to: number): number[] {
    const inner = this.bodies.filter(([s, e]) => s >= from && e <= to && !(s === from && e === to));
    const out: number[] = [];
    const perCall = new Set<number>();
    for (let i = this.tokenAt(from); i < this.tokens.length && this.tokens[i].start < to; i++) {
      const t = this.tokens[i];
      const body = inner.find(([s, e]) => t.start >= s && t.start < e);
      if (body?.[2]) perCall.add(t.line);
      // A semicolon alone on a line (`;[a, b] = [b, a]` style) ends the statement before it: no code of its own.
      if (t.label === ';' || body) continue;
      if (out[out.length - 1] !== t.line) out.push(t.line);
    }
    return out.filter((l, i) => i === 0 || !perCall.has(l));
  }
}

export const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
