/**
 * Reads that arrive together share one script call (read.lua): the requests a worker takes
 * in one turn of the event loop queue here, and go to Redis in batches of FLUSH_AT, the last
 * once the turn is over (setImmediate runs after the I/O callbacks that delivered them).
 * Each request still gets its own result or error; what they share is the round trip, the
 * script call and the parse of one reply, which a read otherwise pays alone. The batch is
 * written at once: ioredis' auto-pipelining, which would hold it to the next tick, is
 * turned off for this script (src/store/redis.ts).
 */
import { toStoreError } from './redis.js';

/** What one request asks of read.lua (its header lists the fields in this order). */
export interface ReadCall {
  nonceKey: string;
  recordKeys: string[];
  ttlMs: number;
  slug: string;
  admin: boolean;
  budgetBytes: number;
  /** '' for the current version. */
  version: string;
}

/** One request's result as read.lua returns it (see its header). */
export type ReadReply = 0 | [2, number] | [3, Buffer] | [1, (Buffer | null)[], Buffer | null, number];

type RunScript = (keys: string[], args: (string | number)[]) => Promise<unknown>;

interface Queued {
  call: ReadCall;
  resolve: (reply: ReadReply) => void;
  reject: (err: Error) => void;
}

/**
 * Bounds on one script call: Redis runs a script alone, so a batch stays about as short as
 * one large read. A request over them alone is still sent, by itself.
 */
const MAX_REQUESTS_PER_CALL = 128;
const MAX_KEYS_PER_CALL = 512;
/**
 * A batch leaves as soon as this many requests wait, the rest at the end of the turn: Redis
 * then works on the first ones while the worker still authenticates the others, instead of
 * every stage waiting for the whole turn (bench/README.md: +12–15% session reads/s at 64 in
 * flight against batching only at the end of the turn; 8 and 32 did less well).
 */
const FLUSH_AT = 16;

export class ReadBatcher {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly run: RunScript) {}

  read(call: ReadCall): Promise<ReadReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      if (this.queue.length >= FLUSH_AT) {
        this.flush();
        return;
      }
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(this.onImmediate);
    });
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let keys = 0;
      while (end < queue.length && end - start < MAX_REQUESTS_PER_CALL
        && (end === start || keys + 1 + queue[end]!.call.recordKeys.length <= MAX_KEYS_PER_CALL)) {
        keys += 1 + queue[end]!.call.recordKeys.length;
        end++;
      }
      this.send(queue.slice(start, end));
      start = end;
    }
  }

  private send(batch: Queued[]): void {
    const keys: string[] = [];
    const args: (string | number)[] = [batch.length];
    for (const { call } of batch) {
      keys.push(call.nonceKey);
      for (const k of call.recordKeys) keys.push(k);
      args.push(call.recordKeys.length, call.ttlMs, call.slug, call.admin ? '1' : '', call.budgetBytes, call.version);
    }
    const fail = (err: unknown) => {
      const error = toStoreError(err) as Error;
      for (const q of batch) q.reject(error);
    };
    let sent: Promise<unknown>;
    try {
      sent = this.run(keys, args);
    } catch (err) {
      fail(err);
      return;
    }
    sent.then(
      (replies) => {
        // Every request settles, whatever came back.
        if (!Array.isArray(replies) || replies.length !== batch.length) {
          fail(new Error(`read script answered ${Array.isArray(replies) ? `${replies.length} results` : 'no list'} for ${batch.length} requests`));
          return;
        }
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(replies[i] as ReadReply);
      },
      fail,
    );
  }
}
