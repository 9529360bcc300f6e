/**
 * Runs the tasks for one key one after another, and tasks for different keys freely.
 * Writes to one secret contend in Redis anyway; queued inside a worker they never make
 * each other's guarded commit stale, so only writers on other workers can. Each key's
 * queue is bounded: beyond it, 503 instead of an ever longer wait.
 */
import { UnavailableError } from '@secret-svc/protocol';

export const MAX_QUEUED_PER_KEY = 256;

export class KeyedQueue {
  private readonly tails = new Map<string, { tail: Promise<unknown>; count: number }>();

  constructor(private readonly maxPerKey = MAX_QUEUED_PER_KEY) {}

  /** Whether nothing is queued or running for the key. */
  isIdle(key: string): boolean {
    return !this.tails.has(key);
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const entry = this.tails.get(key) ?? { tail: Promise.resolve(), count: 0 };
    if (entry.count >= this.maxPerKey) {
      return Promise.reject(new UnavailableError(`too many writes to one secret are waiting in this worker, retry`));
    }
    const result = entry.tail.then(task, task);
    const tail = result.catch(() => undefined);
    entry.tail = tail;
    entry.count++;
    this.tails.set(key, entry);
    void tail.then(() => {
      entry.count--;
      if (entry.count === 0 && this.tails.get(key) === entry) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (bounded by the requests in flight). */
  get size(): number {
    return this.tails.size;
  }
}
