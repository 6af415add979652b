/**
 * A concurrency gate: at most `maxActive` jobs run at once, at most `maxQueued` wait; beyond that
 * `tryAcquire` refuses at once (the HTTP layer answers 429) instead of letting a queue grow without bound.
 */
export class Gate {
  private active = 0;
  private waiting: Array<() => void> = [];

  constructor(
    readonly maxActive = 1,
    readonly maxQueued = 4,
  ) {}

  /** Jobs running now. */
  get running(): number {
    return this.active;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * A promise of a release function once a slot is free, or null when both the slots and the queue are
   * full. Call the release function exactly once when the job ends.
   */
  tryAcquire(): Promise<() => void> | null {
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) return null;
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active++;
        resolve(this.releaser());
      });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      const next = this.waiting.shift();
      if (next) next();
    };
  }
}
