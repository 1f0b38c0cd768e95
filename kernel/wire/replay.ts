// Replay protection, as jupyter_client.Session's digest_history: a validly signed message whose
// signature was already seen is a replay (a captured message sent again) and must not run twice.
// Memory is bounded: the oldest signatures are forgotten first.

/** jupyter_client's digest_history_size. */
export const DEFAULT_HISTORY = 1 << 16;

export class SignatureHistory {
  private readonly seen = new Set<string>();
  constructor(private readonly limit = DEFAULT_HISTORY) {}

  /** Record `signature`; false when it was already recorded (a replay). Unsigned messages ('') are not tracked. */
  add(signature: string): boolean {
    if (signature === '') return true;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (this.seen.size > this.limit) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
