// The TypeScript LanguageService over the notebook file: completions and quick info. Worker-only.
//
// One virtual file (notebook-file.ts) in the notebook's directory, so relative and package imports
// resolve as they do at runtime; everything else (lib files, node_modules, @types) is read from disk
// and stays cached in the document registry between requests, so a warm request only re-parses the
// notebook file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type TS from 'typescript';
import { ts } from './typescript.js';
import { identifierSpanAt } from './cursor.js';
import { analyzeCell, buildNotebookFile, isHiddenName, type AnalyzedCell } from './notebook-file.js';
import type { TsCompletion, TsEntry, TsQuickInfo } from './protocol.js';

const NOTEBOOK_FILE = '__tsprof_notebook__.ts';
// Asking TypeScript for each entry's signature costs ~0.1–1 ms; only the first matches get one.
const MAX_SIGNATURES = 25;
const SIGNATURE_BUDGET_MS = 40;
const FUNCTION_KINDS = new Set<string>(['function', 'method', 'local function', 'constructor', 'construct']);

export class NotebookLanguage {
  private readonly cells: AnalyzedCell[] = [];
  private service?: TS.LanguageService;
  private cwd = '';
  private fileName = '';
  private text = '';
  private version = 0;
  private readonly disk = new DiskFiles();

  addCell(code: string): void {
    this.cells.push(analyzeCell(code));
  }

  complete(code: string, pos: number): TsCompletion | null {
    const { service, offset } = this.update(code, pos);
    const info = service.getCompletionsAtPosition(this.fileName, offset + pos, {
      includeCompletionsWithInsertText: false,
      includeCompletionsForModuleExports: false,
      includeAutomaticOptionalChainCompletions: false,
      triggerKind: ts.CompletionTriggerKind.Invoked,
    });
    if (!info) return null;
    const entries = info.entries.filter((e) => !isHiddenName(e.name) && e.kind !== ts.ScriptElementKind.warning);
    // String completions (module paths, string literal types) replace the string's text, not an identifier.
    const span = entries.find((e) => e.replacementSpan)?.replacementSpan;
    const stringSpan = span && { start: span.start - offset, end: span.start + span.length - offset };
    const start = stringSpan ? stringSpan.start : identifierSpanAt(code, pos).start;
    const prefix = code.slice(start, pos);
    const matching = entries.filter((e) => startsWithIgnoreCase(e.name, prefix));
    matching.sort((a, b) => compareEntries(a, b, prefix));
    const out: TsEntry[] = matching.map((e) => ({ name: e.name, kind: e.kind, sortText: e.sortText }));
    const deadline = performance.now() + SIGNATURE_BUDGET_MS;
    let asked = 0;
    for (let i = 0; i < matching.length && asked < MAX_SIGNATURES && performance.now() < deadline; i++) {
      if (!FUNCTION_KINDS.has(matching[i].kind)) continue;
      asked++;
      const e = matching[i];
      const details = service.getCompletionEntryDetails(this.fileName, offset + pos, e.name, undefined, e.source, undefined, e.data);
      if (details) out[i].signature = signatureOf(details.displayParts, e.name);
    }
    return { known: entries.length > 0, isMember: info.isMemberCompletion, stringSpan, entries: out };
  }

  inspect(code: string, pos: number, detailLevel: 0 | 1): TsQuickInfo | null {
    const { service, offset } = this.update(code, pos);
    const at = offset + pos;
    const info = service.getQuickInfoAtPosition(this.fileName, at);
    const resolved = this.resolve(service, at);
    // An undeclared name gets quick info `any`; that is TypeScript knowing nothing.
    if (!info || resolved === 'unresolved') return null;
    const result: TsQuickInfo = {
      kind: info.kind,
      signature: ts.displayPartsToString(info.displayParts),
      documentation: ts.displayPartsToString(info.documentation),
      tags: (info.tags ?? []).map((t) => ({ name: t.name, text: ts.displayPartsToString(t.text) })),
      isAny: resolved === 'any',
    };
    if (detailLevel === 1) {
      const def = service.getDefinitionAtPosition(this.fileName, at)?.find((d) => d.fileName === this.fileName);
      const span = def?.contextSpan ?? def?.textSpan;
      if (span) result.source = this.text.slice(span.start, span.start + span.length);
    }
    return result;
  }

  /** Whether the identifier at `at` names a declared symbol, and whether its type is `any`. */
  private resolve(service: TS.LanguageService, at: number): 'unresolved' | 'any' | 'typed' {
    const program = service.getProgram();
    const sf = program?.getSourceFile(this.fileName);
    const node = sf && identifierAt(sf, at);
    if (!program || !node) return 'typed';
    const checker = program.getTypeChecker();
    if (!checker.getSymbolAtLocation(node)) return 'unresolved';
    return checker.getTypeAtLocation(node).flags & ts.TypeFlags.Any ? 'any' : 'typed';
  }

  /** Point the service at the notebook plus `code`; returns where `code` starts in the file. */
  private update(code: string, pos: number): { service: TS.LanguageService; offset: number } {
    const { text, offset } = buildNotebookFile(this.cells, analyzeCell(code, pos));
    if (text !== this.text) {
      this.text = text;
      this.version++;
    }
    this.disk.nextRequest();
    const cwd = process.cwd();
    if (!this.service || cwd !== this.cwd) {
      this.service?.dispose();
      this.cwd = cwd;
      this.fileName = join(cwd, NOTEBOOK_FILE).replace(/\\/g, '/');
      this.service = createService(this, this.disk);
    }
    return { service: this.service, offset };
  }

  /** For the service host. */
  snapshot(): { fileName: string; text: string; version: number; cwd: string } {
    return { fileName: this.fileName, text: this.text, version: this.version, cwd: this.cwd };
  }
}

function createService(lang: NotebookLanguage, disk: DiskFiles): TS.LanguageService {
  const { cwd } = lang.snapshot();
  const options = compilerOptions(cwd);
  const host: TS.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [lang.snapshot().fileName],
    getScriptVersion: (f) => (f === lang.snapshot().fileName ? String(lang.snapshot().version) : disk.version(f)),
    getScriptSnapshot: (f) => {
      const s = lang.snapshot();
      return f === s.fileName ? ts.ScriptSnapshot.fromString(s.text) : disk.snapshot(f);
    },
    getCurrentDirectory: () => cwd,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => f === lang.snapshot().fileName || ts.sys.fileExists(f),
    readFile: (f) => (f === lang.snapshot().fileName ? lang.snapshot().text : ts.sys.readFile(f)),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
    realpath: ts.sys.realpath,
    useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
  };
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

/**
 * Files on disk (lib files, @types, packages) for the service host. The service asks for every
 * file's snapshot each time it rebuilds the program, i.e. on every request; re-reading ~170 files
 * cost ~7 ms a request. Snapshots are kept and re-read only when the file's mtime changes (a
 * package upgraded mid-session), with one stat per file per request.
 */
class DiskFiles {
  private readonly snapshots = new Map<string, { mtime: number; snapshot: TS.IScriptSnapshot }>();
  private readonly mtimes = new Map<string, number>();

  /** Forget this request's stats. */
  nextRequest(): void {
    this.mtimes.clear();
  }

  version(f: string): string {
    return String(this.mtime(f));
  }

  snapshot(f: string): TS.IScriptSnapshot | undefined {
    const mtime = this.mtime(f);
    if (mtime < 0) return undefined;
    const cached = this.snapshots.get(f);
    if (cached?.mtime === mtime) return cached.snapshot;
    const text = ts.sys.readFile(f);
    if (text === undefined) return undefined;
    const snapshot = ts.ScriptSnapshot.fromString(text);
    this.snapshots.set(f, { mtime, snapshot });
    return snapshot;
  }

  private mtime(f: string): number {
    let m = this.mtimes.get(f);
    if (m === undefined) {
      m = statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1;
      this.mtimes.set(f, m);
    }
    return m;
  }
}

function compilerOptions(cwd: string): TS.CompilerOptions {
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const lib = [nodeMajor >= 22 ? 'lib.esnext.d.ts' : 'lib.es2023.d.ts'];
  const typeRoots = typeRootsFrom(cwd);
  let types: string[] | undefined; // undefined: every package in typeRoots, as tsc does
  // Node's globals come from @types/node: the notebook's own if it has one, else the kernel's.
  if (!typeRoots.some((r) => existsSync(join(r, 'node')))) {
    types = typeRoots.flatMap((r) => readdirSync(r).filter((d) => !d.startsWith('.')));
    const own = kernelTypesNode();
    if (own) {
      typeRoots.push(dirname(own));
      types.push('node');
    } else {
      lib.push('lib.dom.d.ts'); // at least console, fetch and timers
    }
  }
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib,
    typeRoots,
    types,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    allowJs: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    resolveJsonModule: true,
    allowImportingTsExtensions: true,
  };
}

function typeRootsFrom(dir: string): string[] {
  const roots: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const r = join(d, 'node_modules', '@types');
    if (existsSync(r)) roots.push(r);
    if (dirname(d) === d) return roots;
  }
}

function kernelTypesNode(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@types/node/package.json'));
  } catch {
    return undefined;
  }
}

function startsWithIgnoreCase(name: string, prefix: string): boolean {
  return prefix === '' || name.toLowerCase().startsWith(prefix.toLowerCase());
}

function compareEntries(a: TS.CompletionEntry, b: TS.CompletionEntry, prefix: string): number {
  const ea = a.name.startsWith(prefix) ? 0 : 1;
  const eb = b.name.startsWith(prefix) ? 0 : 1;
  if (ea !== eb) return ea - eb;
  if (a.sortText !== b.sortText) return a.sortText < b.sortText ? -1 : 1;
  return a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** `(method) Math.floor(x: number): number` → `(x: number): number`. */
function signatureOf(parts: readonly TS.SymbolDisplayPart[] | undefined, name: string): string | undefined {
  if (!parts) return undefined;
  let i = parts.findIndex((p) => p.text === name && p.kind !== 'keyword' && p.kind !== 'punctuation');
  if (i < 0) return undefined;
  i++;
  const rest = ts.displayPartsToString(parts.slice(i));
  return rest.startsWith('(') || rest.startsWith('<') ? rest : undefined;
}

function identifierAt(sf: TS.SourceFile, pos: number): TS.Node | undefined {
  let found: TS.Node | undefined;
  const visit = (node: TS.Node): void => {
    if (pos < node.getStart(sf) || pos >= node.end) return;
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) found = node;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}
