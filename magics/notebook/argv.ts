// IPython-style option parsing: getopt short flags (`-n 10`, `-n10`, `-qo`), long flags
// (`--compare`, `--name=x`), quoted values, `--` to end options. Options stop at the first word
// that is not an option; the rest of the line is returned untouched, as the statement.
import { UsageError, type Magic, type MagicInvocation, type OptionSpec, type ParsedOptions } from './types.js';

interface Token {
  text: string;
  /** Offset just after this token in the source line. */
  end: number;
}

/** Split off one shell-like word starting at `i` (quotes group, backslash escapes). */
function nextToken(line: string, i: number): Token | undefined {
  while (i < line.length && /\s/.test(line[i])) i++;
  if (i >= line.length) return undefined;
  let text = '';
  let quote: string | undefined;
  for (; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) text += line[++i];
      else text += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (/\s/.test(c)) break;
    else if (c === '\\' && i + 1 < line.length) text += line[++i];
    else text += c;
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote in the options`);
  return { text, end: i };
}

export function parseOptions(line: string, specs: OptionSpec[], magic: string): { opts: ParsedOptions; rest: string } {
  const opts: ParsedOptions = {};
  const find = (name: string): OptionSpec | undefined => specs.find((s) => s.name === name);
  const set = (spec: OptionSpec, value: string | true): void => {
    if (spec.repeat) {
      const prev = opts[spec.name];
      opts[spec.name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else opts[spec.name] = value;
  };
  let pos = 0;
  for (;;) {
    const tok = nextToken(line, pos);
    if (!tok || !tok.text.startsWith('-') || tok.text === '-' || /^-\d/.test(tok.text) || /^-[^\w-]/.test(tok.text)) break;
    pos = tok.end;
    if (tok.text === '--') break;
    if (tok.text.startsWith('--')) {
      const [name, inline] = tok.text.slice(2).split(/=(.*)/s, 2);
      const spec = find(name);
      if (!spec || spec.name.length === 1) throw new UsageError(`%${magic}: option --${name} not recognized`);
      if (spec.value) {
        let value = inline;
        if (value === undefined) {
          const v = nextToken(line, pos);
          if (!v) throw new UsageError(`%${magic}: option --${name} requires an argument`);
          value = v.text;
          pos = v.end;
        }
        set(spec, value);
      } else set(spec, true);
      continue;
    }
    // A cluster of short flags: -qo, -n10, -n 10.
    const letters = tok.text.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const spec = find(letters[k]);
      if (!spec || spec.name.length !== 1) throw new UsageError(`%${magic}: option -${letters[k]} not recognized`);
      if (!spec.value) {
        set(spec, true);
        continue;
      }
      let value = letters.slice(k + 1);
      if (!value) {
        const v = nextToken(line, pos);
        if (!v) throw new UsageError(`%${magic}: option -${spec.name} requires an argument`);
        value = v.text;
        pos = v.end;
      }
      set(spec, value);
      break;
    }
  }
  return { opts, rest: line.slice(pos).trim() };
}

/** A numeric option, with a usage error naming the flag when it is not a number in range. */
export function intOption(opts: ParsedOptions, name: string, magic: string, min: number): number | undefined {
  const raw = opts[name];
  if (raw === undefined) return undefined;
  const s = Array.isArray(raw) ? raw.at(-1)! : String(raw);
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new UsageError(`%${magic}: option -${name} needs an integer ≥ ${min}, got ${JSON.stringify(s)}`);
  return n;
}

/** The help text of a magic's options, aligned. */
export function optionsHelp(specs: OptionSpec[]): string {
  const rows = specs.map((s) => {
    const flag = s.name.length === 1 ? `-${s.name}` : `--${s.name}`;
    return [s.value ? `${flag} ${s.metavar ?? 'VALUE'}` : flag, s.help];
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`).join('\n');
}

/**
 * The statement a measuring magic runs: the rest of its line, or in cell mode the cell body (the
 * magic's own line then holds options only). `firstLine` is where it starts in the cell.
 */
export function statementOf(magic: Pick<Magic, 'name' | 'usage'>, call: MagicInvocation, rest: string): { stmt: string; firstLine: number } {
  const cellMode = call.body !== undefined;
  if (cellMode && rest) throw new UsageError(`%%${magic.name}: unexpected text after the options: ${JSON.stringify(rest)} (the statement is the cell body)`);
  const stmt = cellMode ? call.body! : rest;
  if (!stmt.trim()) throw new UsageError(`%${magic.name}: no statement to run\nusage: ${magic.usage.split('\n')[0]}`);
  return { stmt, firstLine: cellMode ? call.line + 1 : call.line };
}

/** The `-f FUNC` options of a magic that needs at least one. */
export function functionOptions(magic: Pick<Magic, 'name' | 'usage'>, opts: ParsedOptions): string[] {
  const exprs = (opts.f as string[] | undefined) ?? [];
  if (!exprs.length) throw new UsageError(`%${magic.name}: give at least one function with -f\nusage: ${magic.usage.split('\n')[0]}`);
  return exprs;
}
