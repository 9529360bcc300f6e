/** Shared by the watch tests. */
import type { WatchBatch } from '@secret-svc/client';

/** The next batch of a watch, or a failure after `ms`. */
export async function next(it: AsyncIterator<WatchBatch>, ms = 10_000): Promise<WatchBatch> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no batch within ${ms} ms`)), ms); });
  try {
    const r = await Promise.race([it.next(), timeout]);
    if (r.done) throw new Error('watch ended');
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}
