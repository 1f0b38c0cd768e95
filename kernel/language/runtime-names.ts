// What the live values say, for names and members TypeScript cannot type (untyped imports, `any`,
// values made at runtime). Main thread. Reading must not run user code: properties are read
// through descriptors (no getters), proxies are never opened, and util.inspect skips custom
// inspectors.
import { inspect, types } from 'node:util';
import { isIdentifierName } from './cursor.js';
import type { RuntimeIntrospection } from './index.js';

export interface RuntimeName {
  name: string;
  /** IPython's completion type: `function`, `class`, `instance`, `property`. */
  type: string;
  signature?: string;
  /** 0 for own properties, 1 for the prototype's, and so on. */
  depth: number;
}

/** Top-level names the runtime knows: `let`/`const`/`class` of executed cells and globalThis's own properties. */
export async function scopeNames(runtime: RuntimeIntrospection): Promise<{ lexical: string[]; globals: RuntimeName[] }> {
  const [lexical, global] = await Promise.all([
    runtime.lexicalNames().catch(() => [] as string[]),
    runtime.peek('globalThis').catch(() => ({ ok: false as const })),
  ]);
  const globals = global.ok ? memberNames(global.value, 1) : [];
  return { lexical: lexical.filter(isIdentifierName), globals };
}

/** Own and inherited property names usable after a `.`, nearest first. */
export function memberNames(value: unknown, maxDepth = 64): RuntimeName[] {
  if (value === null || value === undefined) return [];
  const primitive = typeof value !== 'object' && typeof value !== 'function';
  // A primitive's members are its prototype's (a string's own index keys are not names).
  let obj: object | null = primitive ? (Object.getPrototypeOf(Object(value)) as object) : (value as object);
  const seen = new Set<string>();
  const out: RuntimeName[] = [];
  for (let depth = 0; obj && depth < maxDepth; depth++) {
    if (types.isProxy(obj)) break;
    for (const name of ownNames(obj)) {
      if (seen.has(name) || !isIdentifierName(name)) continue;
      seen.add(name);
      const desc = Object.getOwnPropertyDescriptor(obj, name);
      const v: unknown = desc && 'value' in desc ? desc.value : undefined;
      out.push({ name, depth, type: desc && 'value' in desc ? kindOf(v) : 'property', signature: typeof v === 'function' ? functionSignature(v) : undefined });
    }
    obj = Object.getPrototypeOf(obj) as object | null;
  }
  return out;
}

/**
 * Own property names, without listing every index of a large array or typed array (a million
 * index strings for nothing). Extra named properties on such an array are not listed.
 */
function ownNames(obj: object): string[] {
  if (Array.isArray(obj) && obj.length > 1000) return ['length'];
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView) && (obj as unknown as { length: number }).length > 1000) return [];
  return Object.getOwnPropertyNames(obj);
}

function kindOf(v: unknown): string {
  if (typeof v !== 'function') return 'instance';
  return sourceOf(v).startsWith('class') ? 'class' : 'function';
}

function sourceOf(fn: Function): string {
  try {
    return Function.prototype.toString.call(fn);
  } catch {
    return '';
  }
}

/** `(a, b = 1)` from a function's source; undefined for native code, whose parameters are unknown. */
export function functionSignature(fn: Function): string | undefined {
  const src = sourceOf(fn);
  if (!src || src.includes('[native code]')) return undefined;
  const arrow = /^(?:async\s*)?([\p{ID_Start}$_][\p{ID_Continue}$]*)\s*=>/u.exec(src);
  if (arrow) return `(${arrow[1]})`;
  const ctor = src.startsWith('class') ? /\bconstructor\s*\(/.exec(src) : undefined;
  if (ctor === null) return '()';
  const open = ctor ? ctor.index + ctor[0].length - 1 : src.indexOf('(');
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < src.length && i < open + 2000; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) return src.slice(open, i + 1).replace(/\s+/g, ' ');
  }
  return undefined;
}

/** A short account of a value for inspect_request, IPython style. */
export function describeValue(name: string, value: unknown, detailLevel: 0 | 1): { plain: string; markdown: string } {
  const rows: Array<[string, string]> = [];
  const type = value === null ? 'null' : typeof value;
  rows.push(['Type', type]);
  const ctor = constructorName(value);
  if (ctor && (typeof value === 'object' || typeof value === 'function')) rows.push(['Class', ctor]);
  let source: string | undefined;
  if (typeof value === 'function') {
    const src = sourceOf(value);
    const sig = functionSignature(value);
    if (sig) rows.push(['Signature', `${name}${sig}`]);
    if (src) {
      const lines = src.split('\n');
      if (detailLevel === 1) source = lines.slice(0, 200).join('\n') + (lines.length > 200 ? '\n…' : '');
      else rows.push(['Definition', lines[0].length > 200 ? lines[0].slice(0, 200) + '…' : lines[0]]);
    }
  }
  let shown = inspect(value, {
    depth: detailLevel === 1 ? 2 : 0,
    maxArrayLength: detailLevel === 1 ? 100 : 10,
    maxStringLength: detailLevel === 1 ? 10_000 : 200,
    breakLength: 100,
    getters: false,
    customInspect: false,
    showProxy: true,
  });
  const limit = detailLevel === 1 ? 20_000 : 2_000;
  if (shown.length > limit) shown = shown.slice(0, limit) + '…';
  rows.push(['Value', shown]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const plain = rows.map(([k, v]) => `${(k + ':').padEnd(width)}${v.replace(/\n/g, '\n' + ' '.repeat(width))}`).join('\n') + (source ? `\nSource:\n${source}` : '');
  const markdown =
    rows.map(([k, v]) => (v.includes('\n') || v.includes('`') ? `**${k}:**\n\n\`\`\`\n${v}\n\`\`\`` : `**${k}:** \`${v}\``)).join('\n\n') +
    (source ? `\n\n**Source:**\n\n\`\`\`js\n${source}\n\`\`\`` : '');
  return { plain, markdown };
}

function constructorName(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const obj: object = typeof value === 'object' || typeof value === 'function' ? (value as object) : Object(value);
  if (types.isProxy(obj)) return 'Proxy';
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (!proto) return 'Object (null prototype)';
  if (types.isProxy(proto)) return undefined;
  const desc = Object.getOwnPropertyDescriptor(proto, 'constructor');
  const ctor: unknown = desc && 'value' in desc ? desc.value : undefined;
  if (typeof ctor !== 'function') return undefined;
  const nameDesc = Object.getOwnPropertyDescriptor(ctor, 'name');
  return nameDesc && typeof nameDesc.value === 'string' && nameDesc.value ? nameDesc.value : undefined;
}
