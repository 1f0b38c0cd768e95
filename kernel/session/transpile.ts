// TypeScript cell → JavaScript that Runtime.evaluate's REPL mode runs.
//
// sucrase strips types in-process in well under a millisecond and keeps every line where it was,
// so a V8 line number is the TypeScript line number (see README, "Transpiling"). Static imports
// become awaited dynamic imports resolved from the notebook's directory, `export` is dropped, and
// the cell gets a sourceURL so stack frames name it.
import { transform } from 'sucrase';
import { parse } from 'es-module-lexer';
import { parse as parseScript } from 'acorn';
import { createRequire } from 'node:module';
import { SourceMapConsumer, type RawSourceMap } from 'source-map-js';

type TypeScript = typeof import('typescript');
let typescript: TypeScript | undefined;

/** TypeScript's own transpiler, loaded on first need (it costs ~170 ms and ~100 MB). */
function transpileWithTypeScript(code: string, url: string): { js: string; lineMap: Int32Array } {
  typescript ??= createRequire(import.meta.url)('typescript') as TypeScript;
  const ts = typescript;
  const out = ts.transpileModule(code, {
    fileName: `${url}.ts`,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: true, verbatimModuleSyntax: false, isolatedModules: true, useDefineForClassFields: true },
  });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const pos = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start) : undefined;
    throw new TranspileError(ts.flattenDiagnosticMessageText(error.messageText, '\n'), pos ? pos.line + 1 : undefined, pos ? pos.character + 1 : undefined);
  }
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*$/, '');
  const lines = js.split('\n').length;
  const lineMap = new Int32Array(lines + 2);
  const consumer = new SourceMapConsumer(JSON.parse(out.sourceMapText!) as RawSourceMap);
  consumer.eachMapping((m) => {
    if (m.originalLine && !lineMap[m.generatedLine]) lineMap[m.generatedLine] = m.originalLine;
  });
  // Lines with no mapping of their own take the line above's.
  for (let i = 1; i < lineMap.length; i++) if (!lineMap[i]) lineMap[i] = lineMap[i - 1] || 1;
  return { js, lineMap };
}

export interface TranspiledCell {
  js: string;
  /** The name stack frames carry, e.g. `cell-3`. */
  url: string;
}

/**
 * For the few cells sucrase cannot take (namespaces with values, decorators), TypeScript transpiles
 * and lines move; these maps take a JS line (1-based) back to the TypeScript line. Cells transpiled
 * by sucrase have none: their lines are the same.
 */
export const lineMaps = new Map<string, Int32Array>();

/** TypeScript syntax sucrase drops or passes through unchanged, which V8 would then reject. */
const NEEDS_TYPESCRIPT = /^\s*(export\s+)?(namespace|module)\s+[\w$.]+\s*\{|^\s*@[\w$]/m;

export class TranspileError extends Error {
  override name = 'SyntaxError';
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

/** The hidden runtime object transpiled code calls into (see runtime.ts). */
export const RUNTIME = '__tsprof';

/** Re-run cells (and benchmarks' repeated executes) skip the transpiler: JS by TypeScript source. */
const cache = new Map<string, string>();
const CACHE_LIMIT = 256;

export function transpileCell(code: string, url: string): TranspiledCell {
  let js: string;
  lineMaps.delete(url);
  const cached = cache.get(code);
  if (cached !== undefined) return { js: `${cached}\n//# sourceURL=${url}`, url };
  if (NEEDS_TYPESCRIPT.test(code)) {
    const out = transpileWithTypeScript(code, url);
    lineMaps.set(url, out.lineMap);
    js = guardTopLevelAwaits(rewriteModuleSyntax(out.js));
    return { js: `${js}\n//# sourceURL=${url}`, url };
  }
  try {
    js = transform(code, {
      transforms: ['typescript'],
      disableESTransforms: true,
      keepUnusedImports: true,
      filePath: `${url}.ts`,
    }).code;
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    const message = err.message.replace(/^Error transforming [^:]*: /, '').replace(/\s*\(\d+:\d+\)$/, '');
    throw new TranspileError(message, err.loc?.line, err.loc?.column);
  }
  js = guardTopLevelAwaits(rewriteModuleSyntax(js));
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(code, js);
  return { js: `${js}\n//# sourceURL=${url}`, url };
}

/** Imports and exports are module syntax; a REPL script needs them as expressions. Line count is preserved. */
export function rewriteModuleSyntax(js: string): string {
  // Every form the lexer finds spells one of these words. Without them the lexer is not needed, nor
  // loaded: it is WebAssembly, and compiling it keeps ~5 MiB of RSS (code, compiler, memory) that
  // a kernel whose cells never import would otherwise carry (it compiles itself on first parse()).
  if (!js.includes('import') && !js.includes('export')) return js;
  let imports: ReturnType<typeof parse>[0];
  let exports: ReturnType<typeof parse>[1];
  try {
    [imports, exports] = parse(js);
  } catch {
    // Let V8 report the syntax error with its own message and position.
    return js;
  }
  type Edit = { start: number; end: number; text: string };
  const edits: Edit[] = [];
  for (const im of imports) {
    const spec = js.slice(im.start, im.end);
    if (im.type === 'dynamic') {
      // `import(` → `__tsprof.import(` so the specifier resolves from the notebook's directory.
      const dyn = (im as unknown as { dynamicStart: number }).dynamicStart;
      edits.push({ start: im.importStart, end: dyn, text: `${RUNTIME}.import` });
      continue;
    }
    if (im.type !== 'static') continue;
    const stmt = js.slice(im.importStart, im.importEnd);
    const replaced = staticImportToAwait(stmt, spec);
    if (replaced !== undefined) edits.push({ start: im.importStart, end: im.importEnd, text: keepNewlines(stmt, replaced) });
  }
  for (const ex of exports) {
    const start = (ex as unknown as { exportStart?: number }).exportStart;
    if (start === undefined || start < 0) continue;
    const m = /^export\s+(default\s+)?/.exec(js.slice(start));
    if (m && !edits.some((e) => e.start === start)) edits.push({ start, end: start + m[0].length, text: '' });
  }
  edits.sort((a, b) => b.start - a.start);
  for (const e of edits) js = js.slice(0, e.start) + e.text + js.slice(e.end);
  return js;
}

/**
 * `import a, { b as c } from 'm'` → `const { default: a, b: c } = await __tsprof.import("m");`
 * `import * as ns from 'm'` → `const ns = await __tsprof.import("m");`, `import 'm'` → `await __tsprof.import("m");`
 */
function staticImportToAwait(stmt: string, spec: string): string | undefined {
  const load = `await ${RUNTIME}.import(${JSON.stringify(spec)})`;
  const m = /^import\s*([\s\S]*?)\s*from\s*['"]/.exec(stmt);
  if (!m) return /^import\s*['"]/.test(stmt) ? `${load};` : undefined;
  const clause = m[1].trim();
  const parts: string[] = [];
  let ns: string | undefined;
  const named = /\{([\s\S]*)\}/.exec(clause);
  const beforeBrace = clause.replace(/\{[\s\S]*\}/, '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of beforeBrace) {
    const star = /^\*\s*as\s+([\w$]+)$/.exec(p);
    if (star) ns = star[1];
    else parts.push(`default: ${p}`);
  }
  if (named) {
    for (const raw of named[1].split(',')) {
      const s = raw.trim().replace(/^type\s+/, '');
      if (!s || raw.trim().startsWith('type ')) continue;
      const as = /^([\w$]+|"[^"]*"|'[^']*')\s+as\s+([\w$]+)$/.exec(s);
      parts.push(as ? `${as[1]}: ${as[2]}` : s);
    }
  }
  if (ns && parts.length === 0) return `const ${ns} = ${load};`;
  if (ns) return `const ${ns} = ${load}, { ${parts.join(', ')} } = ${ns};`;
  return `const { ${parts.join(', ')} } = ${load};`;
}

function keepNewlines(original: string, replacement: string): string {
  const lines = original.split('\n').length - 1;
  return replacement + '\n'.repeat(lines);
}

interface AstNode {
  type: string;
  start: number;
  end: number;
  argument?: AstNode;
  [key: string]: unknown;
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/**
 * `await x` at the top level of a cell → `await __tsprof.guard(x)`: on interrupt the guard rejects,
 * so the rest of the cell never runs after the awaited value arrives. Awaits inside functions are
 * left alone (they belong to whatever calls those functions later). Lines and columns before each
 * await are unchanged.
 */
export function guardTopLevelAwaits(js: string): string {
  if (!/\bawait\b/.test(js)) return js;
  let ast: AstNode;
  try {
    ast = parseScript(js, { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true, allowHashBang: true }) as unknown as AstNode;
  } catch {
    return js; // V8 will report the syntax error with its own position
  }
  const spots: AstNode[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const n = node as AstNode;
    if (typeof n.type !== 'string' || FUNCTIONS.has(n.type)) return;
    if (n.type === 'AwaitExpression' && n.argument) spots.push(n.argument);
    for (const [k, v] of Object.entries(n)) if (k !== 'type' && v && typeof v === 'object') visit(v);
  };
  visit(ast);
  spots.sort((a, b) => b.start - a.start);
  for (const a of spots) js = `${js.slice(0, a.start)}${RUNTIME}.guard(${js.slice(a.start, a.end)})${js.slice(a.end)}`;
  return js;
}
