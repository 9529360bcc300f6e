/**
 * A store call within the caller's reply bytes (src/limits.ts): the bytes are reserved
 * before the script runs and the script builds nothing beyond them. The first grant is an
 * estimate (what the caller's last such reply took per item, else a typical size); a reply
 * that needs more is asked for once more within exactly what it needs (a script over its
 * budget claims nothing), or refused: 413 when it can never fit the bus, 503 when the
 * caller has too much in flight for it now.
 */
import { TooLargeError, UnavailableError } from '@secret-svc/protocol';
import { ReplyOverBudget } from '../store/secret-store.js';
import type { RequestContext } from './context.js';

export interface ReplyShape {
  /** Names the estimate: replies of one kind share a size per item. */
  kind: 'read' | 'list';
  /** Items asked for (keys read, the page's limit). */
  units: number;
  /** Typical bytes per item, before the caller's own replies say otherwise. */
  perUnit: number;
  /** The most bytes this kind of reply may take, below the bus limit. */
  cap: number;
  /**
   * True when a smaller grant still gives a useful reply (a shorter list page): the first
   * grant is then what is left, else the whole estimate or nothing.
   */
  partial: boolean;
}

/** Asks again at most this often when the stored sizes grew between two asks. */
const ASKS = 3;
/** The smallest partial grant worth a round trip: one record's metadata fits it. */
const MIN_PARTIAL_GRANT = 1024;

export async function withinReplyBudget<T extends { bytes: number; units: number }>(
  ctx: RequestContext,
  shape: ReplyShape,
  run: (budgetBytes: number) => Promise<T>,
  tooLarge: (bytes: number) => TooLargeError,
): Promise<T> {
  const { replyBytes } = ctx;
  const bus = ctx.replyBudgetBytes;
  const estimate = Math.max(1, Math.min(bus, shape.cap, replyBytes.estimate(shape.kind, shape.units, shape.perUnit)));
  let grant = replyBytes.reserve(shape.partial ? Math.min(MIN_PARTIAL_GRANT, estimate) : estimate, estimate);
  for (let ask = 1; ; ask++) {
    try {
      const result = await run(grant);
      replyBytes.settle(result.bytes);
      if (!shape.partial || result.units > 0) replyBytes.learn(shape.kind, result.bytes, shape.partial ? result.units : shape.units);
      return result;
    } catch (err) {
      if (!(err instanceof ReplyOverBudget)) throw err;
      if (!shape.partial) replyBytes.learn(shape.kind, err.bytes, shape.units);
      if (err.bytes > bus) throw tooLarge(err.bytes);
      if (ask >= ASKS) throw new UnavailableError('the stored values kept growing while they were read, retry');
      grant = replyBytes.reserve(err.bytes, err.bytes);
    }
  }
}
