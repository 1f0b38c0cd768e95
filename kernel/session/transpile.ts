// TypeScript cell → JavaScript that Runtime.evaluate's REPL mode runs.
//
// sucrase strips types in-process in well under a millisecond and keeps every line where it was,
// so a V8 line number is the TypeScript line number (see README, "Transpiling"). Static imports
// become awaited dynamic imports resolved from the notebook's directory, `export` is dropped, and
// the cell gets a sourceURL so stack frames name it.
import { transform } from 'sucrase';
import { parse } from 'es-module-lexer';

export interface TranspiledCell {
  js: string;
  /** The name stack frames carry, e.g. `cell-3`. */
  url: string;
}

export class TranspileError extends Error {
  override name = 'SyntaxError';
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

/** The hidden runtime object transpiled code calls into (see runtime.ts). */
export const RUNTIME = '__tsprof';

export function transpileCell(code: string, url: string): TranspiledCell {
  let js: string;
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
  js = rewriteModuleSyntax(js);
  return { js: `${js}\n//# sourceURL=${url}`, url };
}

/** Imports and exports are module syntax; a REPL script needs them as expressions. Line count is preserved. */
export function rewriteModuleSyntax(js: string): string {
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
