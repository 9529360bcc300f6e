/**
 * Keeps a worker's RevocationSet equal to the store's. The store is the only authority: a NATS
 * hint (published after a local revoke/unrevoke) only makes workers look at the store's
 * revision now, and a periodic look at that cheap counter covers a missed hint within ~1 s.
 */
import { Follower, type FollowLog, type HintBus } from '../follow.js';
import { RevocationSet } from './set.js';
import type { RevocationEntry } from './selector.js';

export type { HintBus } from '../follow.js';
export type WatcherLog = FollowLog;

/** How the watcher reads the store (wired to Redis elsewhere). */
export interface RevocationSource {
  /** Every entry, in the order made, with the revision they were read at (one consistent read). */
  loadAll(): Promise<{ entries: RevocationEntry[]; revision: number }>;
  /** The current revision: any change to the entries changes it. */
  revision(): Promise<number>;
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
  /** Called after the set was replaced by a newer one (held watches are checked again then). */
  onChange?: () => void;
}

export const DEFAULT_REVOCATION_POLL_MS = 300;

/** `<prefix>.internal.revocations`: not an op subject, and hearing it grants nothing. */
export function revocationHintSubject(prefix: string): string {
  return `${prefix}.internal.revocations`;
}

export class RevocationWatcher {
  readonly set: RevocationSet;
  private readonly follower: Follower;

  constructor(private readonly o: RevocationWatcherOptions) {
    this.set = o.set ?? new RevocationSet();
    this.follower = new Follower({
      bus: o.bus, subject: o.subject, log: o.log, pollMs: o.pollMs ?? DEFAULT_REVOCATION_POLL_MS,
      look: () => this.reloadIfMoved(),
      messages: { failing: 'cannot read revocations; keeping the last set and retrying', recovered: 'revocations readable again' },
    });
  }

  /** Loads the set once (rejects if the store cannot be read), then follows hints and the revision. */
  start(): Promise<void> {
    return this.follower.start(() => this.load());
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** Tells every worker (this one too) to look at the store now; call after a revoke/unrevoke. */
  notify(): void {
    this.follower.notify();
  }

  /** Reads the whole set now, after any read in progress; rejects if the store cannot be read. */
  async refresh(): Promise<void> {
    await this.follower.serial(() => this.load());
    this.follower.synced();
  }

  /** Epoch ms of the last successful look at the store (0 before the first). */
  get syncedAt(): number {
    return this.follower.syncedAt;
  }

  /** Reloads only when the revision moved; concurrent callers share one queued check. */
  check(): Promise<void> {
    return this.follower.look();
  }

  private async reloadIfMoved(): Promise<void> {
    if ((await this.o.source.revision()) !== this.set.revision) await this.load();
  }

  private async load(): Promise<void> {
    const { entries, revision } = await this.o.source.loadAll();
    const moved = revision !== this.set.revision;
    this.set.replace(entries, revision);
    if (moved) this.o.onChange?.();
  }
}
