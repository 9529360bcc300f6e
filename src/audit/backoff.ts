/**
 * The trail's one retry policy: wait 50 ms after a failed publish, twice as long after each
 * further failure, at most 2 s; a stored event starts it again from the shortest wait. The
 * publish queue waits it between retries; recordAndWait also within its own 2 s deadline.
 */
const MIN_MS = 50;
const MAX_MS = 2000;

export class Backoff {
  private nextMs = MIN_MS;

  /** The wait before the next attempt; each call doubles the one after. */
  next(): number {
    const ms = this.nextMs;
    this.nextMs = Math.min(ms * 2, MAX_MS);
    return ms;
  }

  reset(): void {
    this.nextMs = MIN_MS;
  }
}
