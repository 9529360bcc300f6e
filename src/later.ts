/**
 * An outcome that comes later: a held watch's reply (docs/protocol.md §14). Each stage a
 * request passes through (op, pipeline, service) hands the Later on with its own next step
 * registered, and returns; nothing waits on it. A held watch then keeps only what each
 * step needs to answer it, not the request's bytes, suspended async frames and promise
 * chains, which a wait of minutes would keep alive for every watch held.
 *
 * Not a thenable on purpose: `await` and Promise resolution pass it on as a plain value.
 */
export class Later<T> {
  private next: ((outcome: T | Error) => void) | undefined;
  private outcome: T | Error | undefined;
  private settled = false;
  private taken = false;

  /** The first call decides; later ones do nothing. Runs the next step at once when one is registered. */
  settle(outcome: T | Error): void {
    if (this.settled) return;
    this.settled = true;
    const next = this.next;
    if (next) {
      this.next = undefined;
      next(outcome);
    } else {
      this.outcome = outcome;
    }
  }

  /** Registers the one next step, run at once when already settled. It must not throw. */
  whenSettled(next: (outcome: T | Error) => void): void {
    if (this.taken) throw new Error('a Later takes one next step');
    this.taken = true;
    if (!this.settled) {
      this.next = next;
      return;
    }
    const outcome = this.outcome as T | Error;
    this.outcome = undefined;
    next(outcome);
  }
}
