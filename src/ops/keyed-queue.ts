/**
 * Runs the tasks for one key one after another, and tasks for different keys freely.
 * Writes to one secret contend in Redis anyway; queued inside a worker they never make
 * each other's guarded commit stale, so only writers on other workers can. Bounded per
 * key and per caller: beyond either, 503 instead of an ever longer wait.
 */
import { UnavailableError } from '@secret-svc/protocol';

export const MAX_QUEUED_PER_KEY = 256;
export const MAX_QUEUED_PER_CALLER = 128;

export class KeyedQueue {
  private readonly tails = new Map<string, { tail: Promise<unknown>; count: number }>();
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly maxPerKey = MAX_QUEUED_PER_KEY, private readonly maxPerCaller = MAX_QUEUED_PER_CALLER) {}

  /** Whether nothing is queued or running for the key. */
  isIdle(key: string): boolean {
    return !this.tails.has(key);
  }

  /** `caller` names who asked (its key id), for the per-caller bound. */
  run<T>(key: string, task: () => Promise<T>, caller = ''): Promise<T> {
    const entry = this.tails.get(key) ?? { tail: Promise.resolve(), count: 0 };
    if (entry.count >= this.maxPerKey) {
      return Promise.reject(new UnavailableError('too many writes to one secret are waiting in this worker, retry'));
    }
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine >= this.maxPerCaller) {
      return Promise.reject(new UnavailableError('too many of your writes are waiting in this worker, retry'));
    }
    this.perCaller.set(caller, mine + 1);
    const result = entry.tail.then(task, task);
    const tail = result.catch(() => undefined);
    entry.tail = tail;
    entry.count++;
    this.tails.set(key, entry);
    void tail.then(() => {
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left === 0) this.perCaller.delete(caller);
      else this.perCaller.set(caller, left);
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
