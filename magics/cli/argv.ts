// Command-line options, getopt-style, over an argv array: short flags (`-n 10`, `-n10`, `-qC`), long
// flags (`--interval 0.1`, `--interval=0.1`), `--` to end options. Options stop at the first word that
// is not an option, so `tsprof prun -s cumtime script.ts -v` leaves `-v` to the script.

/** A wrong flag or argument: printed as one line, exit code 2. */
export class CliUsageError extends Error {
  override name = 'UsageError';
}

export interface CliOption {
  /** `n` for `-n`. */
  short?: string;
  /** `interval` for `--interval`. */
  long?: string;
  /** Takes a value. */
  value?: boolean;
  /** May be given more than once (values collect in order). */
  repeat?: boolean;
  metavar?: string;
  help: string;
}

export type CliValues = Record<string, string | string[] | true>;

/** The key an option's value is stored under: its long name, else its short letter. */
export const keyOf = (o: CliOption): string => o.long ?? o.short!;

export interface Parsed {
  opts: CliValues;
  /** The words after the options (the statement, the script and its arguments, a command). */
  rest: string[];
}

export function parseArgv(argv: readonly string[], specs: readonly CliOption[], tool: string): Parsed {
  const opts: CliValues = {};
  const set = (spec: CliOption, value: string | true): void => {
    const key = keyOf(spec);
    if (spec.repeat) {
      const prev = opts[key];
      opts[key] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else opts[key] = value;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) break;
    if (word.startsWith('--')) {
      const [name, inline] = word.slice(2).split(/=(.*)/s, 2);
      const spec = specs.find((s) => s.long === name);
      if (!spec) throw new CliUsageError(`${tool}: unknown option --${name}${suggest(name, specs)}`);
      if (!spec.value) {
        if (inline !== undefined) throw new CliUsageError(`${tool}: option --${name} takes no value`);
        set(spec, true);
        continue;
      }
      let value = inline;
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new CliUsageError(`${tool}: option --${name} needs a value (${spec.metavar ?? 'VALUE'})`);
        value = argv[++i];
      }
      set(spec, value);
      continue;
    }
    // A cluster of short flags: -qC, -n10, -n 10.
    const letters = word.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const spec = specs.find((s) => s.short === letters[k]);
      if (!spec) throw new CliUsageError(`${tool}: unknown option -${letters[k]}`);
      if (!spec.value) {
        set(spec, true);
        continue;
      }
      let value = letters.slice(k + 1);
      if (!value) {
        if (i + 1 >= argv.length) throw new CliUsageError(`${tool}: option -${spec.short} needs a value (${spec.metavar ?? 'VALUE'})`);
        value = argv[++i];
      }
      set(spec, value);
      break;
    }
  }
  return { opts, rest: argv.slice(i) };
}

function suggest(name: string, specs: readonly CliOption[]): string {
  const close = specs.map((s) => s.long).filter((l): l is string => !!l && (l.startsWith(name) || name.startsWith(l)));
  return close.length === 1 ? ` (did you mean --${close[0]}?)` : '';
}

/** The last value of an option (repeated or not), or undefined. */
export function stringOpt(opts: CliValues, key: string): string | undefined {
  const v = opts[key];
  if (v === undefined || v === true) return undefined;
  return Array.isArray(v) ? v.at(-1) : v;
}

export function listOpt(opts: CliValues, key: string): string[] {
  const v = opts[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** A number option in [min, ∞), integer when asked; the error names the flag. */
export function numberOpt(opts: CliValues, key: string, tool: string, { min = 0, integer = false, flag = key.length === 1 ? `-${key}` : `--${key}` } = {}): number | undefined {
  const s = stringOpt(opts, key);
  if (s === undefined) return undefined;
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)) || s.trim() === '') {
    throw new CliUsageError(`${tool}: ${flag} needs ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** `--help` text: usage, a summary, the options aligned, then details. */
export function helpText(usage: string, summary: string, specs: readonly CliOption[], details?: string): string {
  const rows = specs.map((s) => {
    const names = [s.short && `-${s.short}`, s.long && `--${s.long}`].filter(Boolean).join(', ');
    return [s.value ? `${names} ${s.metavar ?? 'VALUE'}` : names, s.help];
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  const parts = [`usage: ${usage}`, '', summary, '', 'options:', ...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`)];
  if (details) parts.push('', details.trim());
  return parts.join('\n') + '\n';
}

/** Every tool takes -h / --help. */
export const HELP: CliOption = { short: 'h', long: 'help', help: 'show this help and exit' };
