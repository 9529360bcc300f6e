/**
 * Bounds the work one worker takes on (docs/protocol.md §5 503 `unavailable`): requests in
 * flight, request and reply bytes in flight, and per caller key the count of its requests,
 * its session handshakes per second and — while another caller key is active on the
 * worker — the cost of its requests: work in flight (records a request may touch; a
 * handshake counts as many) and reply bytes in flight (reserved before Redis builds a
 * reply). A caller alone may use several budgets; once others are there, each gets one, and
 * none can take the worker from the others. Beyond a bound the request is refused at once
 * with a message naming it.
 */
import {
  DEFAULT_LIST_LIMIT, UnavailableError, type AnyRequest, type Op,
} from '@secret-svc/protocol';

export interface InFlightBounds {
  maxInFlight: number;
  maxInFlightBytes: number;
  maxInFlightPerCaller: number;
  /** Reply bytes all callers may have reserved at once on one worker. */
  maxReplyBytes: number;
  /** Work units (see workOf) one caller key may have in flight on one worker while others are active. */
  maxWorkPerCaller: number;
  /** Reply bytes one caller key may have reserved at once on one worker while others are active. */
  maxReplyBytesPerCaller: number;
  /** Session handshakes one caller key may open per second on one worker (a burst of HANDSHAKE_BURST_SECONDS' worth). */
  maxHandshakesPerCaller: number;
}

/**
 * What a session handshake costs in work units: an X25519 key pair and agreement, a ticket
 * sealed and maybe a signature — about what touching a few dozen records costs.
 */
export const HANDSHAKE_WORK = 32;

/** A request's work units, known before it runs: the records it may touch. */
export function workOf(op: Op, request: AnyRequest): number {
  if (op === 'read' && 'keys' in request && request.keys) return request.keys.length;
  if (op === 'list') return ('limit' in request && request.limit) || DEFAULT_LIST_LIMIT;
  if (op === 'session') return HANDSHAKE_WORK;
  return 1;
}

/** The reply bytes a request holds: reserved before the store builds the reply, settled to what it built. */
export interface ReplyBytes {
  /**
   * What `units` items (keys read, entries listed) of a reply of `kind` will likely take for
   * this caller key: at `perUnit` each, or the larger rate its last such reply (or refusal) showed.
   */
  estimate(kind: string, units: number, perUnit: number): number;
  /** Remembers that `units` items of a reply of `kind` took `bytes` (for the caller key's next requests). */
  learn(kind: string, bytes: number, units: number): void;
  /**
   * Reserves up to `max` bytes (what is left of the caller's budget, if less) and returns the
   * grant; throws 503 when less than `min` is left (the caller's first reply always fits).
   */
  reserve(min: number, max: number): number;
  /** Keeps only `bytes` of the reservation (what the reply really holds). */
  settle(bytes: number): void;
}

/** A held place; release() exactly once when the request is answered. */
export interface Admission {
  /**
   * Takes the caller's place too (once it is known), with the request's work units; throws
   * UnavailableError beyond its share (and for a handshake beyond its rate).
   */
  admitCaller(keyId: string, work: number, handshake?: boolean): void;
  /** The caller's reply bytes (after admitCaller). */
  readonly reply: ReplyBytes;
  release(): void;
}

interface CallerLoad {
  requests: number;
  work: number;
  replyBytes: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** A caller key may open this many seconds' worth of handshakes at once (a test run, a restart of many clients). */
export const HANDSHAKE_BURST_SECONDS = 5;

/** Another caller key admitted this recently makes the worker contended: each caller key gets one budget. */
export const CONTENTION_WINDOW_MS = 10_000;
/**
 * A caller key alone on the worker may use this many budgets (a busy service with the worker
 * to itself); a caller arriving then waits behind no more than that.
 */
export const ALONE_BUDGETS = 8;

/** How many caller keys' reply sizes (ReplyBytes.learn) a worker remembers. */
const PER_UNIT_REMEMBERED = 10_000;

/** Above this many remembered buckets, the full ones are forgotten (they hold nothing). */
const BUCKET_PRUNE_AT = 10_000;

export class InFlightLimits {
  private requests = 0;
  private bytes = 0;
  private readonly perCaller = new Map<string, CallerLoad>();
  private replyBytes = 0;
  /** Bytes per item of a caller key's last reply of a kind ("keyId\0kind"), the newest last. */
  private readonly perUnit = new Map<string, number>();
  private readonly handshakes = new Map<string, Bucket>();
  /** The two caller keys admitted last (distinct), newest first, with when. */
  private readonly recent: { keyId: string; atMs: number }[] = [];

  constructor(private readonly bounds: InFlightBounds, private readonly now: () => number = Date.now) {}

  /** Admits a request of `bytes` or throws UnavailableError. */
  admit(bytes: number): Admission {
    const { maxInFlight, maxInFlightBytes } = this.bounds;
    if (this.requests >= maxInFlight) throw new UnavailableError(`worker busy: ${maxInFlight} requests in flight, retry`);
    // One request alone is always admitted by size: the envelope cap bounds it.
    if (this.requests > 0 && this.bytes + bytes > maxInFlightBytes) {
      throw new UnavailableError(`worker busy: over ${maxInFlightBytes} request bytes in flight, retry`);
    }
    this.requests++;
    this.bytes += bytes;
    let load: CallerLoad | undefined;
    let caller: string | undefined;
    let work = 0;
    let held = 0;
    let released = false;
    const notAdmitted = (): never => { throw new Error('reply bytes reserved before admitCaller'); };
    const reply: ReplyBytes = {
      estimate: (kind, units, perUnit) => units * Math.max(perUnit, (caller !== undefined && this.perUnit.get(`${caller}\0${kind}`)) || 0),
      learn: (kind, bytes, units) => {
        if (caller === undefined || units <= 0) return;
        const key = `${caller}\0${kind}`;
        this.perUnit.delete(key); // newest last: the oldest go first when full
        if (this.perUnit.size >= PER_UNIT_REMEMBERED) this.perUnit.delete(this.perUnit.keys().next().value!);
        this.perUnit.set(key, Math.ceil(bytes / units));
      },
      reserve: (min, max) => {
        if (!load || caller === undefined) return notAdmitted();
        const budget = this.bounds.maxReplyBytesPerCaller;
        const globalLeft = this.bounds.maxReplyBytes - (this.replyBytes - held);
        if (globalLeft < min) throw new UnavailableError(`worker busy: over ${this.bounds.maxReplyBytes} reply bytes in flight, retry`);
        // Like a request by its size, one reply alone always fits its caller's budget (the bus bounds it).
        const others = load.replyBytes - held;
        const bound = budget * this.share(caller);
        const callerLeft = others > 0 ? bound - others : Infinity;
        if (callerLeft < min) throw new UnavailableError(`too many reply bytes in flight for this credential key (${bound}), retry`);
        const grant = Math.min(max, globalLeft, callerLeft);
        this.replyBytes += grant - held;
        load.replyBytes += grant - held;
        held = grant;
        return grant;
      },
      settle: (bytes) => {
        if (!load) return notAdmitted();
        const keep = Math.min(bytes, held);
        this.replyBytes -= held - keep;
        load.replyBytes -= held - keep;
        held = keep;
      },
    };
    return {
      reply,
      admitCaller: (keyId, cost, handshake = false) => {
        const current = this.perCaller.get(keyId);
        if (current) this.checkShare(keyId, current, cost);
        if (handshake) this.takeHandshake(keyId);
        this.touch(keyId);
        const entry = current ?? { requests: 0, work: 0, replyBytes: 0 };
        entry.requests++;
        entry.work += cost;
        if (!current) this.perCaller.set(keyId, entry);
        load = entry;
        caller = keyId;
        work = cost;
      },
      release: () => {
        if (released) return;
        released = true;
        this.requests--;
        this.bytes -= bytes;
        if (load && caller !== undefined) {
          load.requests--;
          load.work -= work;
          load.replyBytes -= held;
          this.replyBytes -= held;
          if (load.requests === 0) this.perCaller.delete(caller);
        }
      },
    };
  }

  /** For the stats: what is held now. */
  get inFlight(): { requests: number; bytes: number; callers: number; replyBytes: number } {
    return { requests: this.requests, bytes: this.bytes, callers: this.perCaller.size, replyBytes: this.replyBytes };
  }

  /**
   * Refuses at once a caller key with no room left for even the cheapest request (or, for a
   * handshake, no handshake left). Only requests that were admitted count, so a request that
   * is not yet verified cannot use it against the caller it names; it takes nothing.
   */
  precheck(keyId: string, handshake: boolean): void {
    const current = this.perCaller.get(keyId);
    if (current) this.checkShare(keyId, current, 1);
    if (handshake && this.refill(keyId).tokens < 1) throw this.tooManyHandshakes();
  }

  private checkShare(keyId: string, current: CallerLoad, cost: number): void {
    const { maxInFlightPerCaller, maxWorkPerCaller } = this.bounds;
    if (current.requests >= maxInFlightPerCaller) {
      throw new UnavailableError(`too many requests in flight for this credential key (${maxInFlightPerCaller}), retry`);
    }
    // A request alone always fits its work budget: the configuration keeps it above the largest.
    const bound = maxWorkPerCaller * this.share(keyId);
    if (current.work + cost > bound) {
      throw new UnavailableError(`too much work in flight for this credential key (${bound} units: a record read or listed is 1, a handshake ${HANDSHAKE_WORK}), retry`);
    }
  }

  /** How many budgets a caller key may use: one while others are active, ALONE_BUDGETS when alone. */
  private share(keyId: string): number {
    return this.contended(keyId) ? 1 : ALONE_BUDGETS;
  }

  /** True when another caller key has requests in flight or was admitted within CONTENTION_WINDOW_MS. */
  private contended(keyId: string): boolean {
    if (this.perCaller.size > (this.perCaller.has(keyId) ? 1 : 0)) return true;
    const since = this.now() - CONTENTION_WINDOW_MS;
    return this.recent.some((r) => r.keyId !== keyId && r.atMs >= since);
  }

  private touch(keyId: string): void {
    const atMs = this.now();
    const [first] = this.recent;
    if (first?.keyId === keyId) first.atMs = atMs;
    else {
      this.recent.unshift({ keyId, atMs });
      this.recent.length = Math.min(this.recent.length, 2);
    }
  }

  /** A token bucket per caller key: `maxHandshakesPerCaller` a second, HANDSHAKE_BURST_SECONDS' worth at once. */
  private takeHandshake(keyId: string): void {
    const bucket = this.refill(keyId);
    if (bucket.tokens < 1) throw this.tooManyHandshakes();
    bucket.tokens -= 1;
    if (!this.handshakes.has(keyId)) {
      if (this.handshakes.size >= BUCKET_PRUNE_AT) this.prune(bucket.atMs);
      this.handshakes.set(keyId, bucket);
    }
  }

  /** The caller key's bucket, refilled to now (a new one is full and not yet remembered). */
  private refill(keyId: string): Bucket {
    const rate = this.bounds.maxHandshakesPerCaller;
    const burst = rate * HANDSHAKE_BURST_SECONDS;
    const nowMs = this.now();
    const bucket = this.handshakes.get(keyId) ?? { tokens: burst, atMs: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.atMs) * rate) / 1000);
    bucket.atMs = nowMs;
    return bucket;
  }

  private tooManyHandshakes(): UnavailableError {
    return new UnavailableError(`too many session handshakes for this credential key (${this.bounds.maxHandshakesPerCaller} per second), retry`);
  }

  private prune(nowMs: number): void {
    const rate = this.bounds.maxHandshakesPerCaller;
    for (const [key, b] of this.handshakes) {
      if (b.tokens + ((nowMs - b.atMs) * rate) / 1000 >= rate * HANDSHAKE_BURST_SECONDS) this.handshakes.delete(key);
    }
  }
}
