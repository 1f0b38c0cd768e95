// The functions of a module's source, found statically: their names as a user would write them
// with -f (`primes`, `Cache.get`), where their text is, and whether a `@profile` decorator or a
// `// @tsprof-profile` comment marks them (as kernprof's @profile does in Python).
import { parse } from 'acorn';

export interface FoundFunction {
  /** `primes`, `Cache.get`, `handler`. */
  name: string;
  /** The bare name (`get` for `Cache.get`). */
  short: string;
  /** The function's text in the source: [start, end). For a method, from its parameter list. */
  start: number;
  end: number;
  /** 0-based lines of the function's text. */
  firstLine: number;
  lastLine: number;
  /** 0-based line where its declaration begins (`export const f = …`, a method's key): marks sit above it. */
  anchorLine: number;
  /** A method's value: text starts at `(`, so compiling it alone needs `function` in front. */
  method?: { async: boolean; generator: boolean };
  /** Has a block body (an arrow with an expression body has none). */
  block: boolean;
}

interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number }; end: { line: number } };
  [key: string]: unknown;
}

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function keyName(key: Node | undefined, computed: unknown): string | undefined {
  if (!key || computed) return undefined;
  if (key.type === 'Identifier') return key.name as string;
  if (key.type === 'PrivateIdentifier') return `#${key.name as string}`;
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value;
  return undefined;
}

/** Parse a module (ESM or CommonJS JavaScript) and list its functions with the names -f matches. */
export function findFunctions(js: string, sourceType: 'module' | 'script'): FoundFunction[] {
  const ast = parse(js, {
    ecmaVersion: 'latest', sourceType, locations: true, allowHashBang: true,
    allowReturnOutsideFunction: sourceType === 'script', allowAwaitOutsideFunction: sourceType === 'module',
  }) as unknown as Node;
  const found: FoundFunction[] = [];
  const add = (fn: Node, name: string | undefined, anchor: Node, className?: string): void => {
    const own = (fn.id as Node | null)?.name as string | undefined;
    const short = own ?? name;
    if (!short) return;
    found.push({
      name: className ? `${className}.${short}` : short, short,
      start: fn.start, end: fn.end, firstLine: fn.loc.start.line - 1, lastLine: fn.loc.end.line - 1,
      anchorLine: anchor.loc.start.line - 1, block: (fn.body as Node).type === 'BlockStatement',
    });
  };
  const visit = (node: unknown, parent: Node | undefined, statement: Node | undefined, className: string | undefined): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, parent, statement, className);
      return;
    }
    const n = node as Node;
    if (typeof n.type !== 'string') return;
    // The statement a mark sits above: an export wraps a declaration; a declaration starts its own.
    const stmt = /Declaration$|Statement$/.test(n.type) && !(parent && /^Export/.test(parent.type)) ? n : statement;
    let cls = className;
    if (n.type === 'ClassDeclaration' || n.type === 'ClassExpression') cls = ((n.id as Node | null)?.name as string | undefined) ?? (parent?.type === 'VariableDeclarator' ? ((parent.id as Node).name as string) : undefined);
    if (n.type === 'MethodDefinition' || (n.type === 'Property' && (n.method || n.kind === 'get' || n.kind === 'set'))) {
      const value = n.value as Node;
      const name = keyName(n.key as Node, n.computed);
      if (name) {
        found.push({
          name: n.type === 'MethodDefinition' && className ? `${className}.${name}` : name, short: name,
          start: value.start, end: value.end, firstLine: value.loc.start.line - 1, lastLine: value.loc.end.line - 1,
          anchorLine: n.loc.start.line - 1, method: { async: Boolean(value.async), generator: Boolean(value.generator) }, block: true,
        });
      }
      visit((value.body as Node), value, stmt, className);
      visit(value.params, value, stmt, className);
      return;
    }
    if (FUNCTION.has(n.type)) {
      if (n.type === 'FunctionDeclaration') add(n, undefined, stmt ?? n);
      else if (parent?.type === 'VariableDeclarator' && parent.init === n) add(n, (parent.id as Node).name as string | undefined, statement ?? parent);
      else if (parent?.type === 'AssignmentExpression' && parent.right === n) {
        const left = parent.left as Node;
        add(n, left.type === 'Identifier' ? (left.name as string) : left.type === 'MemberExpression' ? keyName(left.property as Node, left.computed) : undefined, statement ?? parent);
      } else if ((parent?.type === 'Property' || parent?.type === 'PropertyDefinition') && parent.value === n) {
        add(n, keyName(parent.key as Node, parent.computed), parent, parent.type === 'PropertyDefinition' ? className : undefined);
      } else if (n.type === 'FunctionExpression' && n.id) add(n, undefined, n);
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'loc' && v && typeof v === 'object') visit(v, n, stmt, cls);
  };
  visit(ast, undefined, undefined, undefined);
  return found;
}

/** A line that holds nothing but a comment, a decorator or whitespace (what may sit between a mark and its function). */
const TRIVIA = /^\s*(\/\/.*|\/\*.*\*\/|@[\w$.]+(\([^)]*\))?)?\s*$/;

/** `// @tsprof-profile` or `/* @tsprof-profile *\/` lines (0-based). */
export function commentMarks(js: string): number[] {
  const out: number[] = [];
  js.split('\n').forEach((l, i) => {
    if (/\/[/*]\s*@tsprof-profile\b/.test(l)) out.push(i);
  });
  return out;
}

/**
 * Remove `@profile` / `@profile()` decorators (kernprof's marker) from TypeScript source, keeping
 * every position (they become spaces): V8 has no decorators and they would only mark the function.
 * Returns the lines they were on (0-based).
 */
export function stripProfileDecorators(ts: string): { source: string; lines: number[] } {
  const lines: number[] = [];
  const re = /(^|[\s;{}])@profile(\s*\(\s*\))?(?=\s)/gm;
  if (!/@profile\b/.test(ts)) return { source: ts, lines };
  const source = ts.replace(re, (m: string, before: string, _args: string | undefined, offset: number) => {
    lines.push(ts.slice(0, offset).split('\n').length - 1 + (before === '\n' ? 1 : 0));
    return before + m.slice(before.length).replace(/[^\n]/g, ' ');
  });
  return { source, lines };
}

/** The functions the marks on `markLines` point at: the first function declared at or below each mark, with only trivia between. */
export function markedFunctions(fns: FoundFunction[], markLines: number[], js: string): FoundFunction[] {
  if (!markLines.length) return [];
  const lines = js.split('\n');
  const byAnchor = [...fns].sort((a, b) => a.anchorLine - b.anchorLine || a.start - b.start);
  const out = new Set<FoundFunction>();
  for (const mark of markLines) {
    const f = byAnchor.find((x) => x.anchorLine >= mark);
    if (!f) continue;
    let ok = true;
    for (let l = mark + 1; l < f.anchorLine; l++) if (!TRIVIA.test(lines[l] ?? '')) ok = false;
    if (ok) out.add(f);
  }
  return [...out];
}
