// complete_request: TypeScript's completions merged with what the runtime knows. Main thread.
//
// Identifiers: TypeScript's names in scope, the runtime's top-level `let`/`const`/`class` names and
// globalThis's properties. Members (`a.b.`): TypeScript's members of the type; when TypeScript has
// none (an `any`, an undeclared runtime value), the live value's own and inherited properties via a
// side-effect-free peek. Ranking: names that match the typed case, then the user's own names, then
// runtime-only names, then globals and keywords.
import type { CompleteReply } from '../wire/message.js';
import { codePointToUtf16, utf16ToCodePoint } from './code-points.js';
import { identifierSpanAt, inLiteral, memberReceiver, type Span } from './cursor.js';
import { MAGIC_VALUE } from './magics.js';
import type { RuntimeIntrospection } from './index.js';
import type { TsCompletion } from './protocol.js';
import { memberNames, scopeNames } from './runtime-names.js';
import { scanCode } from './scan.js';

export type TsComplete = (code: string, pos: number) => Promise<TsCompletion | null | undefined>;

// The kernel's runtime object and the notebook file's renamed declarations; the magic-value stand-in.
const HIDDEN = new RegExp(`^(__tsprof|${MAGIC_VALUE}$)`);

// Lower ranks first.
const USER = 0;
const RUNTIME_ONLY = 1;
const GLOBAL = 2;

interface Candidate {
  name: string;
  type: string;
  signature?: string;
  rank: number;
  /** Tie-breaker inside a rank (TypeScript's sortText, or prototype depth). */
  order: string;
}

export async function complete(tsComplete: TsComplete, runtime: RuntimeIntrospection, code: string, cursorPos: number): Promise<CompleteReply> {
  const pos = codePointToUtf16(code, cursorPos);
  const scan = scanCode(code);
  const inString = inLiteral(scan, pos);
  const ident = identifierSpanAt(code, pos);
  const receiver = inString ? undefined : memberReceiver(code, scan, ident.start);

  const tsPromise = tsComplete(code, pos);
  // Started alongside the worker request; only needed for identifiers.
  const scopePromise = inString || receiver !== undefined ? undefined : scopeNames(runtime);
  const tsResult = (await tsPromise) ?? undefined;

  if (tsResult?.stringSpan) {
    // Inside a string: module paths or string literal types, nothing from the runtime.
    const span = tsResult.stringSpan;
    return reply(code, span, tsResult.entries.map((e) => ({ name: e.name, type: jupyterType(e.kind), rank: USER, order: e.sortText })), code.slice(span.start, pos));
  }
  if (inString) return reply(code, { start: pos, end: pos }, [], '');

  const candidates: Candidate[] = [];
  for (const e of tsResult?.entries ?? []) {
    const rank = receiver !== undefined || tsResult?.isMember || e.sortText < '15' ? USER : GLOBAL;
    candidates.push({ name: e.name, type: jupyterType(e.kind), signature: e.signature, rank, order: e.sortText });
  }
  if (receiver !== undefined) {
    if (!tsResult?.known) {
      const peeked = await runtime.peek(receiver).catch(() => ({ ok: false as const }));
      if (peeked.ok) {
        for (const m of memberNames(peeked.value)) {
          candidates.push({ name: m.name, type: m.type, signature: m.signature, rank: RUNTIME_ONLY, order: String(m.depth).padStart(3, '0') });
        }
      }
    }
  } else if (scopePromise) {
    const { lexical, globals } = await scopePromise;
    for (const name of lexical) candidates.push({ name, type: 'instance', rank: USER, order: '' });
    for (const g of globals) candidates.push({ name: g.name, type: g.type, signature: g.signature, rank: RUNTIME_ONLY, order: '' });
  }
  return reply(code, ident, candidates, code.slice(ident.start, pos));
}

function reply(code: string, span: Span, candidates: Candidate[], prefix: string): CompleteReply {
  const lower = prefix.toLowerCase();
  // One candidate per name, keeping TypeScript's type and signature when it had the name.
  const byName = new Map<string, Candidate>();
  for (const c of candidates) {
    if (HIDDEN.test(c.name) || !c.name.toLowerCase().startsWith(lower)) continue;
    const seen = byName.get(c.name);
    if (!seen) byName.set(c.name, c);
    // A runtime lexical name marks TypeScript's entry as the user's own; runtime globals never promote.
    else if (c.rank === USER && seen.rank !== USER) byName.set(c.name, { ...seen, rank: USER });
  }
  const sorted = [...byName.values()].sort((a, b) => {
    const ea = a.name.startsWith(prefix) ? 0 : 1;
    const eb = b.name.startsWith(prefix) ? 0 : 1;
    return ea - eb || a.rank - b.rank || cmp(a.order, b.order) || cmp(a.name.toLowerCase(), b.name.toLowerCase()) || cmp(a.name, b.name);
  });
  const start = utf16ToCodePoint(code, span.start);
  const end = utf16ToCodePoint(code, span.end);
  return {
    status: 'ok',
    matches: sorted.map((c) => c.name),
    cursor_start: start,
    cursor_end: end,
    metadata: {
      _jupyter_types_experimental: sorted.map((c) => ({
        start,
        end,
        text: c.name,
        type: c.type,
        ...(c.signature ? { signature: c.signature } : {}),
      })),
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** TypeScript's ScriptElementKind in IPython's completion-type vocabulary. */
export function jupyterType(kind: string): string {
  switch (kind) {
    case 'function':
    case 'local function':
    case 'method':
    case 'constructor':
    case 'construct':
    case 'call':
      return 'function';
    case 'class':
    case 'local class':
    case 'interface':
    case 'type':
    case 'enum':
    case 'type parameter':
    case 'primitive type':
      return 'class';
    case 'module':
    case 'external module name':
      return 'module';
    case 'property':
    case 'getter':
    case 'setter':
    case 'accessor':
    case 'enum member':
    case 'index':
      return 'property';
    case 'parameter':
      return 'param';
    case 'keyword':
      return 'keyword';
    case 'directory':
    case 'script':
      return 'path';
    default:
      return 'instance'; // var, let, const, local var, alias, …
  }
}
