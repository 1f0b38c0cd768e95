// profile(fn) and lineProfile(fn, { functions }): %prun and %lprun for a plain function, returning
// the ProfileResult / LineProfileResult the magics return with -r. @profile on a method records every
// call for the whole process (calls, or lines with `{ lines: true }`) and prints at exit, as
// kernprof's @profile does.
import { EngineUsageError } from '../engines/host.js';
import { assertMethod, isDecoratorContext, methodLabel, type AnyFunction, type MethodContext } from './decorate.js';
import { DEFAULT_INTERVAL_US, DecoratorSession, lineProfileRun, profileRun, type LineProfileResult, type ProfileResult } from './adapter.js';

export interface ProfileOptions {
  /** Sampling interval in μs (default 500; V8's floor is about 80). */
  interval?: number;
  /** Exact call counts (ncalls): the function runs a second time under V8's precise call counting. */
  calls?: boolean;
  /** pstats sort key(s): time (default), cumulative, calls, name, file, line, stdname, nfl. */
  sort?: string | string[];
  /** pstats restriction(s): a row count, a fraction (0.25), or a regex on filename:lineno(function). */
  limit?: number | string | Array<number | string>;
}

export interface LineProfileOptions {
  /** The functions to profile line by line (defined in your files or in packages). */
  functions: Function[];
  /** Sampling interval for the Time column, μs (default 500). */
  interval?: number;
  /** Unit of the Time columns in seconds (default 1e-9). */
  unit?: number;
}

export interface ProfileDecoratorOptions {
  /** Line by line (hits and time per line of the method), instead of the calls it makes. */
  lines?: boolean;
  /** Print the report when the process is about to exit (default true). */
  print?: boolean;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

let session: DecoratorSession | undefined;
let printAtExit = false;

function checkIdle(what: string): void {
  if (session?.active) throw new EngineUsageError(`${what}: @profile is recording this process; call \`await profile.report()\` first (one CPU profiler at a time)`);
}

async function profileNow(fn: () => unknown, options: ProfileOptions = {}): Promise<ProfileResult> {
  if (typeof fn !== 'function') throw new EngineUsageError(`profile: expected a function to run, got ${fn === null ? 'null' : typeof fn}`);
  checkIdle('profile()');
  return profileRun(fn, {
    intervalUs: options.interval ?? DEFAULT_INTERVAL_US,
    exactCalls: Boolean(options.calls),
    sort: list(options.sort).length ? list(options.sort) : ['time'],
    limit: list(options.limit).map(String),
  });
}

/**
 * Line-by-line profile of `options.functions` while `fn` runs: exact hits per line (V8 block coverage
 * of each function, recompiled in place for the run) and sampled time per line, in line_profiler's
 * layout.
 */
export async function lineProfile(fn: () => unknown, options: LineProfileOptions): Promise<LineProfileResult> {
  if (typeof fn !== 'function') throw new EngineUsageError(`lineProfile: expected a function to run, got ${fn === null ? 'null' : typeof fn}`);
  const targets = options?.functions ?? [];
  if (!targets.length) throw new EngineUsageError('lineProfile: give the functions to profile: lineProfile(() => main(), { functions: [primes] })');
  for (const t of targets) if (typeof t !== 'function') throw new EngineUsageError(`lineProfile: functions must be functions, got ${t === null ? 'null' : typeof t}`);
  checkIdle('lineProfile()');
  const unit = options.unit ?? 1e-9;
  if (!(unit > 0)) throw new EngineUsageError(`lineProfile: unit must be a positive number of seconds, got ${unit}`);
  return lineProfileRun(fn, targets, { intervalUs: options.interval ?? DEFAULT_INTERVAL_US, unit });
}

function decorator(options: ProfileDecoratorOptions, label?: (self: unknown) => string) {
  return <F extends AnyFunction>(value: F, context: MethodContext): F => {
    assertMethod(context, 'profile');
    session ??= new DecoratorSession(DEFAULT_INTERVAL_US);
    const target = { fn: value, name: String(context.name), lines: Boolean(options.lines), calls: 0 };
    const s = session;
    s.add(target);
    if (options.print !== false && !printAtExit) {
      printAtExit = true;
      process.once('beforeExit', () => {
        if (s.active) void profile.report().then((text) => process.stdout.write(`${text}\n`));
      });
    }
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      if (target.calls++ === 0) target.name = label ? label(this) : methodLabel(this, context.name);
      s.start(target.lines);
      return s.call(() => value.apply(this, args));
    };
    Object.defineProperty(wrapped, 'name', { value: value.name });
    return wrapped as F;
  };
}

/**
 * - `await profile(() => work(), { calls: true })`: %prun of a function, now (a ProfileResult);
 * - `@profile` / `@profile({ lines: true })` on methods: every call recorded until the report,
 *   printed when the process is about to exit, or `await profile.report()`;
 * - `profile.wrap(fn, { lines: true })` for a plain function.
 */
export function profile(fn: () => unknown, options?: ProfileOptions): Promise<ProfileResult>;
export function profile(options: ProfileDecoratorOptions): <F extends AnyFunction>(value: F, context: MethodContext) => F;
export function profile<F extends AnyFunction>(value: F, context: MethodContext): F;
export function profile(a: unknown, b?: unknown): unknown {
  if (typeof a === 'function' && isDecoratorContext(b)) return decorator({})(a as AnyFunction, b as MethodContext);
  if (typeof a === 'function') return profileNow(a as () => unknown, b as ProfileOptions | undefined);
  if (typeof a === 'object' && a !== null) return decorator(a as ProfileDecoratorOptions);
  throw new TypeError('profile: give a function to profile, or use it as a decorator');
}

/** The same recording for a plain function: every call of the returned function is profiled until the report. */
profile.wrap = <F extends AnyFunction>(fn: F, options: ProfileDecoratorOptions = {}): F => {
  const context = { kind: 'method', name: fn.name || 'anonymous', static: false, private: false, addInitializer: () => undefined, access: { has: () => false, get: () => fn }, metadata: {} } as unknown as MethodContext;
  return decorator(options, () => fn.name || 'anonymous')(fn, context);
};

/** Stop @profile's recording and return its results (a ProfileResult for calls, a LineProfileResult for lines). */
profile.results = async (): Promise<{ calls?: ProfileResult; lines?: LineProfileResult }> => (session ? session.finish() : {});

/** Stop @profile's recording and return its report as text (what is printed at exit). */
profile.report = async (): Promise<string> => {
  const { calls, lines } = await profile.results();
  return [calls?.text, lines?.text].filter(Boolean).join('\n\n') || '@profile: nothing recorded';
};
