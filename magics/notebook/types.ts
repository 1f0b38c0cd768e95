// The shapes every magic shares: its declaration, the context it runs in, usage errors.
import type { DisplayFunction } from '../../kernel/session/display.js';
import type { CellContext } from '../../kernel/session/context.js';
import type { CellSource } from '../../kernel/session/session.js';
import type { EngineHost } from '../engines/host.js';

/** A wrong flag, a missing argument, an unknown magic: shown to the user as `UsageError: …`. */
export { EngineUsageError as UsageError } from '../engines/host.js';

/** One option a magic accepts. Short flags are single letters; long ones are words (`--compare`). */
export interface OptionSpec {
  /** `n` for `-n`, `compare` for `--compare`. */
  name: string;
  /** Takes a value (`-n 100`). */
  value?: boolean;
  /** May be given more than once (values collect into an array). */
  repeat?: boolean;
  /** One line for the help text. */
  help: string;
  /** Placeholder in the help text, e.g. `N`. */
  metavar?: string;
}

export type ParsedOptions = Record<string, string | string[] | true>;

/** What a magic runs with: the engines' host (compile, run, interrupt) plus the cell's display and reply. */
export interface MagicContext extends EngineHost {
  readonly cell: CellContext;
  readonly display: DisplayFunction;
  /** The scripts compiled from cells, by URL (`cell-3`, `cell-3.1`): TypeScript and JavaScript, same lines. */
  readonly sources: ReadonlyMap<string, CellSource>;
  /** Compile now, run later (and as often as needed): keeps the transpiler out of a measurement. */
  prepareCode(code: string, firstLine?: number): () => Promise<unknown>;
  /** Add a payload to the execute_reply (e.g. a pager page for help). */
  addPayload(payload: Record<string, unknown>): void;
}

export interface MagicInvocation {
  /** The text after the magic's name on its line. */
  args: string;
  /** For `%%name`: the cell body after the first line; undefined for a line magic. */
  body?: string;
  /** Line in the cell where the magic starts (1-based), so errors can point at it. */
  line: number;
}

export interface Magic {
  name: string;
  /** Line magic (`%x`), cell magic (`%%x`), or both. */
  kinds: ReadonlyArray<'line' | 'cell'>;
  /** One line. */
  summary: string;
  /** Usage line(s), e.g. `%timeit [-n N] [-r R] statement`. */
  usage: string;
  options: OptionSpec[];
  /** Free text after the options section of the help. */
  details?: string;
  run(ctx: MagicContext, call: MagicInvocation): Promise<unknown>;
}
