/**
 * Runs the tasks for one key one after another, and tasks for different keys freely.
 * Writes to one secret contend in Redis anyway; queued inside a worker they never make
 * each other's guarded commit stale, so only writers on other workers can.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (bounded by the requests in flight). */
  get size(): number {
    return this.tails.size;
  }
}
