// This session's inputs (and text outputs), for history_request: tail, range and search.
import type { HistoryReply, HistoryRequest } from '../wire/message.js';

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

/** The history "session" number of the running kernel; IPython uses 0 in requests to mean "current". */
const SESSION = 1;

export class History {
  private readonly entries: Entry[] = [];

  add(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  setOutput(line: number, output: string): void {
    const e = this.entries.findLast((x) => x.line === line);
    if (e) e.output = output;
  }

  query(req: HistoryRequest): HistoryReply['history'] {
    const row = (e: Entry): HistoryReply['history'][number] => [SESSION, e.line, req.output ? [e.input, e.output] : e.input];
    switch (req.hist_access_type) {
      case 'tail': {
        const n = req.n ?? 10;
        return n > 0 ? this.entries.slice(-n).map(row) : [];
      }
      case 'range': {
        if (req.session !== undefined && req.session !== 0 && req.session !== SESSION && req.session !== -1) return [];
        const start = req.start ?? 0;
        const stop = req.stop ?? Number.POSITIVE_INFINITY;
        return this.entries.filter((e) => e.line >= start && (stop <= 0 ? true : e.line < stop)).map(row);
      }
      case 'search': {
        const re = globToRegExp(req.pattern ?? '*');
        let hits = this.entries.filter((e) => re.test(e.input));
        if (req.unique) {
          const seen = new Set<string>();
          hits = hits.reverse().filter((e) => !seen.has(e.input) && Boolean(seen.add(e.input))).reverse();
        }
        const n = req.n;
        return (n !== undefined && n !== null && n > 0 ? hits.slice(-n) : hits).map(row);
      }
      default:
        return [];
    }
  }
}

/** IPython's search pattern is a glob (`*`, `?`) matched against the whole input. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${body}$`);
}
