/**
 * Follows something the store keeps under a revision (the revocations, the change log):
 * a NATS hint under `<prefix>.internal.` makes the follower look at the store now, and a
 * periodic look covers a missed hint. The store is the only authority: a hint only says
 * "look"; its content (at most a revision number) grants nothing. Looks run one at a
 * time; concurrent triggers share one queued look; while the store stays unreadable, one
 * warning per interval instead of one per look.
 */

/** The part of a NatsConnection a follower uses. */
export interface HintBus {
  subscribe(subject: string, opts: { callback: (err: Error | null, msg: unknown) => void }): { unsubscribe(): void };
  publish(subject: string, data?: string): void;
}

export interface FollowLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FollowerOptions {
  bus: HintBus;
  /** The hint's subject (under `<prefix>.internal.`). */
  subject: string;
  log: FollowLog;
  /** How often the store is looked at without a hint. */
  pollMs: number;
  /** One look at the store; rejects when it cannot be read. */
  look: () => Promise<void>;
  /** Log lines: while the store cannot be read, and when it can again. */
  messages: { failing: string; recovered: string };
}

// While the store stays unreadable, one warning per this interval, not one per poll.
const FAILURE_LOG_INTERVAL_MS = 10_000;

export class Follower {
  private chain: Promise<unknown> = Promise.resolve();
  private queuedLook: Promise<void> | null = null;
  private sub: { unsubscribe(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failingSince: number | null = null;
  private lastFailureLog = 0;
  private syncedAtMs = 0;

  constructor(private readonly o: FollowerOptions) {
    if (!(o.pollMs > 0)) throw new RangeError('pollMs must be positive');
  }

  /** Runs `first` (rejects if the store cannot be read), then follows hints and polls. */
  async start(first: () => Promise<void>): Promise<void> {
    if (this.running) return;
    // Subscribe first, so a hint sent while loading is not lost.
    this.sub = this.o.bus.subscribe(this.o.subject, {
      // An error (NATS refused the subscription) comes without a message; the poll still sees every change.
      callback: (err) => (err ? this.o.log.warn({ subject: this.o.subject, err: err.message }, 'hints: subscription failed; changes are seen by the poll') : this.onHint()),
    });
    try {
      await this.serial(first);
      this.synced();
    } catch (err) {
      this.sub.unsubscribe();
      this.sub = null;
      throw err;
    }
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    await this.chain;
  }

  /** Tells every worker (this one too) to look now; `data` is at most a revision number. */
  notify(data?: string): void {
    this.o.bus.publish(this.o.subject, data);
  }

  /** Runs `fn` after any look in progress (one at a time); rejects as `fn` does. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Looks now, after any look in progress; concurrent callers share one queued look. */
  look(): Promise<void> {
    if (this.queuedLook) return this.queuedLook;
    const queued = this.serial(async () => {
      this.queuedLook = null;
      await this.o.look();
      this.synced();
    });
    this.queuedLook = queued;
    return queued;
  }

  /** Epoch ms of the last successful look (0 before the first). */
  get syncedAt(): number {
    return this.syncedAtMs;
  }

  /** Records a successful read of the store made outside look(). */
  synced(): void {
    this.syncedAtMs = Date.now();
    if (this.failingSince !== null) {
      this.o.log.info({ failedForMs: this.syncedAtMs - this.failingSince }, this.o.messages.recovered);
      this.failingSince = null;
    }
  }

  private onHint(): void {
    // The message's content is ignored on purpose: only the store says what changed.
    this.look().catch((err: unknown) => this.failed(err));
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.look().catch((err: unknown) => this.failed(err)).finally(() => this.schedule());
    }, this.o.pollMs);
    this.timer.unref();
  }

  private failed(err: unknown): void {
    const now = Date.now();
    if (this.failingSince === null) this.failingSince = now;
    else if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLog = now;
    this.o.log.warn({ err: (err as Error)?.message ?? String(err), staleForMs: now - this.syncedAtMs }, this.o.messages.failing);
  }
}
