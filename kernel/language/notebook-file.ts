// The virtual TypeScript module the language service sees: the executed cells in order, then the
// cell being edited. Worker-only (loads TypeScript).
//
// Notebook cells may declare the same `let`/`const`/`function`/`interface` again; in one module that
// is a redeclaration error and TypeScript would pick the first declaration's type. So a cell's
// top-level declaration of a name that a later cell (or the current code) declares again is renamed
// to `__tsprof_c<cell>_<name>`: the latest declaration wins, as at runtime, and the earlier cell
// still type-checks. Renamed names are hidden from completions.
//
// The file starts with `export {}` so it is a module: top-level `await` is fine and the notebook's
// names do not collide with globals. It also declares the stand-in for assigned magic values.
import type TS from 'typescript';
import { ts } from './typescript.js';
import { blankMagicLines, MAGIC_VALUE } from './magics.js';

export const HIDDEN_PREFIX = '__tsprof';

/** Names of the notebook file's own making, never offered as completions. */
export function isHiddenName(name: string): boolean {
  return name.startsWith(HIDDEN_PREFIX) || name === MAGIC_VALUE;
}
const HEADER = `export {};\ndeclare const ${MAGIC_VALUE}: any;\n`;
const SEPARATOR = '\n;\n';

// Which declaration spaces a name occupies: a `type Point` and a `const Point` do not clash.
const VALUE = 1;
const TYPE = 2;
const NAMESPACE = 4;
const ANY = VALUE | TYPE | NAMESPACE;

interface Site {
  name: string;
  meaning: number;
  start: number;
  end: number;
  /** `{ a }` must become `{ a: renamed }`, `import { a }` → `import { a as renamed }`. */
  shorthand?: 'property' | 'import';
}

export interface AnalyzedCell {
  /** The code with magic lines blanked. */
  text: string;
  /** False when the cell does not parse as TypeScript (e.g. a `%%bash` body): it is left out. */
  usable: boolean;
  sites: Site[];
}

export function analyzeCell(code: string, keepArgsAt?: number): AnalyzedCell {
  const text = blankMagicLines(code, keepArgsAt);
  const sf = ts.createSourceFile('cell.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return { text, usable: parseDiagnostics(sf).length === 0, sites: topLevelSites(sf) };
}

/** Syntax errors from parsing alone. Not in the public typings, but stable for years. */
export function parseDiagnostics(sf: TS.SourceFile): readonly TS.Diagnostic[] {
  return (sf as unknown as { parseDiagnostics: readonly TS.Diagnostic[] }).parseDiagnostics;
}

export interface NotebookText {
  text: string;
  /** Where the current code starts in `text`. */
  offset: number;
}

export function buildNotebookFile(cells: readonly AnalyzedCell[], current: AnalyzedCell): NotebookText {
  // Walk backwards, remembering what later code declares.
  const later = new Map<string, number>();
  const declare = (sites: Site[]): void => {
    for (const s of sites) later.set(s.name, (later.get(s.name) ?? 0) | s.meaning);
  };
  declare(current.sites);
  const parts: string[] = [];
  for (let i = cells.length - 1; i >= 0; i--) {
    const cell = cells[i];
    if (!cell.usable) continue;
    const shadowed = cell.sites.filter((s) => ((later.get(s.name) ?? 0) & s.meaning) !== 0);
    parts.push(shadowed.length ? rename(cell.text, shadowed, i) : cell.text);
    declare(cell.sites);
  }
  parts.reverse();
  const prefix = HEADER + parts.map((p) => p + SEPARATOR).join('');
  return { text: prefix + current.text, offset: prefix.length };
}

function rename(text: string, sites: Site[], cell: number): string {
  const sorted = [...sites].sort((a, b) => b.start - a.start);
  for (const s of sorted) {
    const to = `${HIDDEN_PREFIX}_c${cell}_${s.name}`;
    const replacement = s.shorthand === 'property' ? `${s.name}: ${to}` : s.shorthand === 'import' ? `${s.name} as ${to}` : to;
    text = text.slice(0, s.start) + replacement + text.slice(s.end);
  }
  return text;
}

function topLevelSites(sf: TS.SourceFile): Site[] {
  const sites: Site[] = [];
  const add = (id: TS.Identifier, meaning: number, shorthand?: Site['shorthand']): void => {
    sites.push({ name: id.text, meaning, start: id.getStart(sf), end: id.end, shorthand });
  };
  const bind = (name: TS.BindingName, meaning: number): void => {
    if (ts.isIdentifier(name)) return add(name, meaning);
    for (const el of name.elements) {
      if (ts.isOmittedExpression(el)) continue;
      if (ts.isIdentifier(el.name)) {
        const shorthand = ts.isObjectBindingPattern(name) && !el.propertyName && !el.dotDotDotToken;
        add(el.name, meaning, shorthand ? 'property' : undefined);
      } else bind(el.name, meaning);
    }
  };
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) bind(d.name, VALUE);
    } else if (ts.isFunctionDeclaration(st)) {
      if (st.name) add(st.name, VALUE);
    } else if (ts.isClassDeclaration(st)) {
      if (st.name) add(st.name, VALUE | TYPE);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      add(st.name, TYPE);
    } else if (ts.isEnumDeclaration(st)) {
      add(st.name, VALUE | TYPE);
    } else if (ts.isModuleDeclaration(st)) {
      if (ts.isIdentifier(st.name) && !(st.flags & ts.NodeFlags.GlobalAugmentation)) add(st.name, VALUE | NAMESPACE);
    } else if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (!clause) continue;
      if (clause.name) add(clause.name, ANY);
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) add(nb.name, ANY);
      else if (nb) for (const el of nb.elements) add(el.name, ANY, el.propertyName ? undefined : 'import');
    } else if (ts.isImportEqualsDeclaration(st)) {
      add(st.name, ANY);
    }
  }
  return sites;
}
