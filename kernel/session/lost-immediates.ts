// Immediates that terminating one of them would lose, handed on before the termination.
//
// Node runs a batch of immediates in one call of processImmediate (node:internal/timers): it takes
// the batch off the immediate queue, and each callback's `finally` hands the rest of the batch over
// (`outstandingQueue.head = immediate._idleNext`) in case the callback throws. A termination skips
// `finally` blocks, so when an interrupt terminates a loop in an immediate's callback:
//
// - if it was the first of its batch, the rest of the batch is in no queue, yet still counted as
//   pending: those immediates never run, and libuv's idle handle keeps the event loop turning
//   without ever blocking (a core at 100 % for good);
// - otherwise the outstanding queue still starts at the interrupted immediate, already marked
//   destroyed, and processImmediate throws on it (`prevImmediate` is undefined) every time it runs:
//   an endless stream of TypeErrors and a kernel that never answers again.
//
// Measured on Node 20.20 with `setImmediate(a); setImmediate(spin); setImmediate(b)`: the second
// case, the kernel hung. So just before terminating, the interrupt point hands the rest of the batch
// on itself: in the first case it puts it back at the head of Node's immediate queue (the counts
// already include it); in the second it turns the interrupted immediate into one that does nothing
// and counts it again, so that processImmediate runs it and goes on with the batch as if it had
// returned. The interrupted immediate is the running async resource; Node's queue and counters are
// read through the inspector from the closure of the setImmediate captured at start. If they are
// not what this expects, the kernel leaves things as they are and says so in its log.
import { executionAsyncResource } from 'node:async_hooks';
import { types } from 'node:util';
import { adopt } from '../../magics/engines/realm.js';
import { slots, SLOTS_NAME } from './user-realm.js';

/** The fields of Node's Immediate and ImmediateList (lib/internal/timers.js) used here. */
interface NodeImmediate {
  _idleNext: NodeImmediate | null;
  _idlePrev: NodeImmediate | null;
  _onImmediate: unknown;
  _argv: unknown;
  _destroyed: boolean;
}
interface ImmediateList {
  head: NodeImmediate | null;
  tail: NodeImmediate | null;
}
/** Node's closure variables of lib/timers.js this needs. */
interface TimersInternals {
  immediateQueue: ImmediateList;
  immediateInfo: Uint32Array;
  kCount: number;
}

/** Synchronous call on the main thread's own inspector session. */
export type InspectSync = (method: string, params: object) => unknown;

interface PropertyDescriptorView {
  name: string;
  value?: { objectId?: string; type?: string; value?: unknown };
}

const GROUP = 'tsprof-immediates';

const hasOwn = Object.prototype.hasOwnProperty;
const own = (o: object, key: string): boolean => Reflect.apply(hasOwn, o, [key]) as boolean;
const doNothing = (): void => undefined;

function isImmediate(value: unknown): value is NodeImmediate {
  return typeof value === 'object' && value !== null && own(value, '_onImmediate') && own(value, '_idleNext') && own(value, '_idlePrev') && own(value, '_destroyed');
}

export class LostImmediates {
  private internals: TimersInternals | undefined;
  // Captured at start: a cell may replace or delete the global one.
  private readonly setImmediate = setImmediate;
  private readonly inspect: InspectSync;

  constructor(inspect: InspectSync, private readonly log: (line: string) => void) {
    // Replies are parsed in the main realm: copied into this one before the kernel reads them.
    this.inspect = (method, params) => adopt(inspect(method, params));
  }

  /** Called on the main thread just before the interrupt point terminates what runs. */
  beforeTermination(): void {
    const running = executionAsyncResource();
    // processImmediate marks the running immediate destroyed before calling it.
    if (!isImmediate(running) || running._destroyed !== true) return;
    const timers = this.timers();
    if (!timers) {
      this.log('interrupt: Node\'s immediate queue not found; immediates queued after the interrupted one may not run');
      return;
    }
    if (running._idlePrev === null) {
      // First of its batch: nothing points at the rest of it. Back to the head of the queue, in order.
      const first = running._idleNext;
      if (!first) return;
      let last = first;
      while (last._idleNext) last = last._idleNext;
      first._idlePrev = null;
      last._idleNext = timers.immediateQueue.head;
      if (timers.immediateQueue.head) timers.immediateQueue.head._idlePrev = last;
      else timers.immediateQueue.tail = last;
      timers.immediateQueue.head = first;
      running._idleNext = null;
    } else {
      // The outstanding queue starts here: run as a no-op immediate, counted again.
      running._onImmediate = doNothing;
      running._argv = undefined;
      running._destroyed = false;
      timers.immediateInfo[timers.kCount]++;
    }
  }

  /** Node's immediateQueue, immediateInfo and kCount: variables of the closure of setImmediate (lib/timers.js). */
  private timers(): TimersInternals | undefined {
    if (this.internals) return this.internals;
    try {
      const fn = this.objectId(this.setImmediate);
      const scopes = this.properties(fn, true).find((p) => p.name === '[[Scopes]]')?.value?.objectId;
      for (const scope of this.properties(scopes)) {
        const vars = this.properties(scope.value?.objectId);
        const queueId = vars.find((p) => p.name === 'immediateQueue')?.value?.objectId;
        const infoId = vars.find((p) => p.name === 'immediateInfo')?.value?.objectId;
        const kCount = vars.find((p) => p.name === 'kCount')?.value?.value;
        if (!queueId || !infoId || typeof kCount !== 'number') continue;
        const immediateQueue = this.value(queueId);
        const immediateInfo = this.value(infoId);
        if (typeof immediateQueue === 'object' && immediateQueue !== null && own(immediateQueue, 'head') && own(immediateQueue, 'tail') && types.isUint32Array(immediateInfo)) {
          this.internals = { immediateQueue: immediateQueue as ImmediateList, immediateInfo: immediateInfo as Uint32Array, kCount };
        }
        break;
      }
    } catch (e) {
      this.log(`interrupt: reading Node's immediate queue failed: ${String(e)}`);
    } finally {
      slots.value = undefined;
      this.inspect('Runtime.releaseObjectGroup', { objectGroup: GROUP });
    }
    return this.internals;
  }

  private objectId(value: unknown): string | undefined {
    slots.value = value;
    const res = this.inspect('Runtime.evaluate', { expression: `${SLOTS_NAME}.value`, objectGroup: GROUP, silent: true }) as { result: { objectId?: string } };
    slots.value = undefined;
    return res.result.objectId;
  }

  private value(objectId: string): unknown {
    this.inspect('Runtime.callFunctionOn', { objectId, functionDeclaration: `function () { 'use strict'; ${SLOTS_NAME}.value = this; }`, silent: true });
    const value = slots.value;
    slots.value = undefined;
    return value;
  }

  private properties(objectId: string | undefined, internal = false): PropertyDescriptorView[] {
    if (!objectId) return [];
    const res = this.inspect('Runtime.getProperties', { objectId, ownProperties: true }) as { result: PropertyDescriptorView[]; internalProperties?: PropertyDescriptorView[] };
    return internal ? res.internalProperties ?? [] : res.result;
  }
}
