/**
 * A store call within the caller's reply bytes (src/limits.ts): the bytes are reserved
 * before the script runs and the script builds nothing beyond them. The first grant is
 * an estimate; a reply that needs more is asked for once more within exactly what it
 * needs (a script over its budget claims nothing), or refused: 413 when it can never
 * fit the bus, 503 when the caller has too much in flight for it now.
 */
import { TooLargeError, UnavailableError } from '@secret-svc/protocol';
import { ReplyOverBudget } from '../store/secret-store.js';
import type { RequestContext } from './context.js';

/** The smallest first grant worth a round trip: one record's metadata fits it. */
const MIN_GRANT = 1024;
/** Asks again at most this often when the stored sizes grew between two asks. */
const ASKS = 3;

export async function withinReplyBudget<T extends { bytes: number }>(
  ctx: RequestContext,
  estimate: number,
  run: (budgetBytes: number) => Promise<T>,
  tooLarge: (bytes: number) => TooLargeError,
): Promise<T> {
  const bus = ctx.replyBudgetBytes;
  let grant = ctx.replyBytes.reserve(Math.min(MIN_GRANT, bus), Math.min(estimate, bus));
  for (let ask = 1; ; ask++) {
    try {
      const result = await run(grant);
      ctx.replyBytes.settle(result.bytes);
      return result;
    } catch (err) {
      if (!(err instanceof ReplyOverBudget)) throw err;
      if (err.bytes > bus) throw tooLarge(err.bytes);
      if (ask >= ASKS) throw new UnavailableError('the stored values kept growing while they were read, retry');
      grant = ctx.replyBytes.reserve(err.bytes, err.bytes);
    }
  }
}
