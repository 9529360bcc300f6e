/**
 * Keeps a worker's RevocationSet equal to the store's. The store is the only authority: a NATS
 * hint (published after a local revoke/unrevoke) only makes workers look at the store's
 * revision now, and a periodic look at that cheap counter covers a missed hint within ~1 s.
 */
import { RevocationSet } from './set.js';
import type { RevocationEntry } from './selector.js';

/** How the watcher reads the store (wired to Redis elsewhere). */
export interface RevocationSource {
  /** Every entry, in the order made, with the revision they were read at (one consistent read). */
  loadAll(): Promise<{ entries: RevocationEntry[]; revision: number }>;
  /** The current revision: any change to the entries changes it. */
  revision(): Promise<number>;
}

/** The part of a NatsConnection the watcher uses. */
export interface HintBus {
  subscribe(subject: string, opts: { callback: (err: Error | null, msg: unknown) => void }): { unsubscribe(): void };
  publish(subject: string): void;
}

export interface WatcherLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RevocationWatcherOptions {
  source: RevocationSource;
  bus: HintBus;
  /** Subject of the hint, see revocationHintSubject(). */
  subject: string;
  log: WatcherLog;
  /** How often the revision is compared (default 300 ms). */
  pollMs?: number;
  /** Shared with the authenticate step; a new one by default. */
  set?: RevocationSet;
}

export const DEFAULT_REVOCATION_POLL_MS = 300;
// While the store stays unreadable, one warning per this interval, not one per poll.
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** `<prefix>.internal.revocations`: not an op subject, and hearing it grants nothing. */
export function revocationHintSubject(prefix: string): string {
  return `${prefix}.internal.revocations`;
}

export class RevocationWatcher {
  readonly set: RevocationSet;
  private readonly pollMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private queuedCheck: Promise<void> | null = null;
  private sub: { unsubscribe(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failingSince: number | null = null;
  private lastFailureLog = 0;
  private syncedAtMs = 0;

  constructor(private readonly o: RevocationWatcherOptions) {
    this.set = o.set ?? new RevocationSet();
    this.pollMs = o.pollMs ?? DEFAULT_REVOCATION_POLL_MS;
    if (!(this.pollMs > 0)) throw new RangeError('pollMs must be positive');
  }

  /** Loads the set once (rejects if the store cannot be read), then follows hints and the revision. */
  async start(): Promise<void> {
    if (this.running) return;
    // Subscribe first, so a hint sent while loading is not lost.
    this.sub = this.o.bus.subscribe(this.o.subject, {
      // An error (NATS refused the subscription) comes without a message; the poll still sees every change.
      callback: (err) => (err ? this.o.log.warn({ subject: this.o.subject, err: err.message }, 'revocation hints: subscription failed; changes are seen by the poll') : this.onHint()),
    });
    try {
      await this.refresh();
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

  /** Tells every worker (this one too) to look at the store now; call after a revoke/unrevoke. */
  notify(): void {
    this.o.bus.publish(this.o.subject);
  }

  /** Reads the whole set now, after any read in progress; rejects if the store cannot be read. */
  refresh(): Promise<void> {
    return this.serial(async () => {
      const { entries, revision } = await this.o.source.loadAll();
      this.set.replace(entries, revision);
      this.synced();
    });
  }

  /** Epoch ms of the last successful look at the store (0 before the first). */
  get syncedAt(): number {
    return this.syncedAtMs;
  }

  /** Reloads only when the revision moved; concurrent callers share one queued check. */
  check(): Promise<void> {
    if (this.queuedCheck) return this.queuedCheck;
    const queued = this.serial(async () => {
      this.queuedCheck = null;
      const revision = await this.o.source.revision();
      if (revision !== this.set.revision) {
        const loaded = await this.o.source.loadAll();
        this.set.replace(loaded.entries, loaded.revision);
      }
      this.synced();
    });
    this.queuedCheck = queued;
    return queued;
  }

  private onHint(): void {
    // The message's content is ignored on purpose: only the store says what is revoked.
    this.check().catch((err: unknown) => this.failed(err));
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.check().catch((err: unknown) => this.failed(err)).finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private synced(): void {
    this.syncedAtMs = Date.now();
    if (this.failingSince !== null) {
      this.o.log.info({ failedForMs: this.syncedAtMs - this.failingSince }, 'revocations readable again');
      this.failingSince = null;
    }
  }

  private failed(err: unknown): void {
    const now = Date.now();
    if (this.failingSince === null) this.failingSince = now;
    else if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLog = now;
    this.o.log.warn({ err: (err as Error)?.message ?? String(err), staleForMs: now - this.syncedAtMs }, 'cannot read revocations; keeping the last set and retrying');
  }
}
