// trackInstances(Class, { max }): count a class's live instances with a FinalizationRegistry and warn
// when more than `max` are alive. The tracker holds no reference to any instance (the registry holds
// them weakly and its token is a number), so it cannot be a leak of its own.
import { gcFunction } from '../engines/v8/memory.js';
import { emit, type TsprofWarning } from './warnings.js';

export interface TrackOptions {
  /** Warn when more than this many instances are alive. */
  max: number;
  /** Instead of process.emitWarning. */
  onWarning?: (w: TsprofWarning) => void;
  /**
   * Before warning, run a full GC and let finalizers run, so instances that were only garbage not
   * yet collected are not counted (default true; costs a GC each time the count passes `max`).
   */
  confirm?: boolean;
  /** The name in warnings (default: the class's name). */
  name?: string;
}

export interface InstanceCounts {
  /** Instances alive as far as the finalizers have told: created − finalized. */
  readonly live: number;
  readonly created: number;
  readonly finalized: number;
  /** The highest `live` seen. */
  readonly peak: number;
  readonly warnings: number;
  /** Resolves once no check is in progress (a check runs a GC and waits for finalizers before it warns). */
  settled(): Promise<void>;
}

/** A tracked class: the same class (a Proxy: static members, `instanceof` and subclasses work), with its counts. */
export type Tracked<C> = C & { readonly instances: InstanceCounts };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor = abstract new (...args: any[]) => object;

class Counter implements InstanceCounts {
  created = 0;
  finalized = 0;
  peak = 0;
  warnings = 0;
  /** The confirmation running now (a GC and turns of the event loop), if any. */
  private checking: Promise<void> | undefined;
  /** Do not warn again until the count has come back to `max` or below. */
  private over = false;
  readonly registry = new FinalizationRegistry<number>(() => {
    this.finalized++;
    if (this.live <= this.options.max) this.over = false;
  });

  constructor(private readonly name: string, private readonly options: TrackOptions) {}

  get live(): number {
    return this.created - this.finalized;
  }

  born(instance: object): void {
    this.created++;
    // The held value is a number: nothing in the registry keeps the instance alive.
    this.registry.register(instance, this.created);
    this.peak = Math.max(this.peak, this.live);
    if (this.live > this.options.max && !this.over && !this.checking) {
      this.checking = this.check().finally(() => (this.checking = undefined));
    }
  }

  settled(): Promise<void> {
    return this.checking ?? Promise.resolve();
  }

  private async check(): Promise<void> {
    if (this.options.confirm !== false) {
      // Let the code that is creating instances finish its turn (a loop making and dropping them),
      // then collect: finalizers run in a task after the GC that found the instances dead.
      await new Promise((r) => setImmediate(r));
      gcFunction()();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    if (this.live <= this.options.max || this.over) return;
    this.over = true;
    this.warnings++;
    emit({ kind: 'instances', name: this.name, live: this.live, max: this.options.max, created: this.created }, this.options.onWarning);
  }
}

/**
 * Count the live instances of `Class`: construct through the returned class (or decorate the class
 * with `@trackInstances({ max })`). A warning is emitted when more than `max` are alive; the counts
 * are on `.instances`.
 *
 *     const Conn = trackInstances(Connection, { max: 5 })
 *     new Conn(); …; Conn.instances.live
 */
export function trackInstances<C extends Constructor>(Class: C, options: TrackOptions): Tracked<C>;
export function trackInstances(options: TrackOptions): <C extends Constructor>(Class: C, context: ClassDecoratorContext) => Tracked<C>;
export function trackInstances<C extends Constructor>(a: C | TrackOptions, b?: TrackOptions | ClassDecoratorContext): Tracked<C> | (<D extends Constructor>(Class: D, context: ClassDecoratorContext) => Tracked<D>) {
  if (typeof a !== 'function') return (Class, context) => track(Class, { name: String(context.name ?? Class.name), ...a });
  return track(a, b as TrackOptions);
}

function track<C extends Constructor>(Class: C, options: TrackOptions): Tracked<C> {
  if (typeof Class !== 'function') throw new TypeError('trackInstances: expected a class');
  if (!options || !(Number.isInteger(options.max) && options.max >= 0)) throw new RangeError(`trackInstances: max must be an integer ≥ 0, got ${options?.max}`);
  const counter = new Counter(options.name ?? Class.name ?? 'anonymous class', options);
  return new Proxy(Class, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as object;
      counter.born(instance);
      return instance;
    },
    get(target, key, receiver) {
      if (key === 'instances') return counter;
      return Reflect.get(target, key, receiver);
    },
  }) as Tracked<C>;
}
