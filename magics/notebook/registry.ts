// One registry of magics: lookup, the "did you mean" suggestion, and each magic's help text.
import { optionsHelp } from './argv.js';
import { UsageError, type Magic } from './types.js';

export class MagicRegistry {
  private readonly magics = new Map<string, Magic>();

  register(...magics: Magic[]): this {
    for (const m of magics) this.magics.set(m.name, m);
    return this;
  }

  all(): Magic[] {
    return [...this.magics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The magic for `%name` (line) or `%%name` (cell), or a UsageError suggesting the nearest name. */
  lookup(name: string, kind: 'line' | 'cell'): Magic {
    const m = this.magics.get(name);
    if (m && m.kinds.includes(kind)) return m;
    const sigil = kind === 'line' ? '%' : '%%';
    const what = kind === 'line' ? 'Line' : 'Cell';
    const candidates = this.all().filter((x) => x.kinds.includes(kind)).map((x) => x.name);
    const near = nearest(name, candidates);
    const other = m ? ` (%${m.kinds.includes('line') ? '' : '%'}${name} exists as a ${m.kinds[0]} magic)` : '';
    throw new UsageError(`${what} magic function \`${sigil}${name}\` not found${other}.${near && !m ? ` Did you mean ${sigil}${near}?` : ''}`);
  }

  help(name: string): string {
    const m = this.magics.get(name);
    if (!m) {
      const near = nearest(name, this.all().map((x) => x.name));
      throw new UsageError(`no magic named ${name}${near ? `; did you mean ${near}?` : ''}`);
    }
    return helpText(m);
  }
}

export function helpText(m: Magic): string {
  const parts = [`${m.usage}`, '', m.summary];
  if (m.options.length) parts.push('', 'Options:', optionsHelp(m.options));
  if (m.details) parts.push('', m.details.trim());
  return parts.join('\n');
}

/** Closest name by edit distance, when it is close enough to be a plausible typo. */
export function nearest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(name.toLowerCase(), n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
