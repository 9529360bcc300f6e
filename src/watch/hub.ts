/**
 * The `watch` operation's worker side (docs/protocol.md §14): answers a watch at once from
 * the change log when something qualifies, otherwise holds it until a change does, its wait
 * runs out, the worker stops or the credential is revoked.
 *
 * One follower per worker reads the log (once per batch of changes, whatever the number of
 * watches) when a hint arrives on `<prefix>.internal.changes` (its content, a revision
 * number, only says "look"), and every DEFAULT_CHANGE_POLL_MS in case a hint was missed;
 * each entry is then matched against the held watches its readers name (held.ts).
 */
import {
  MAX_WATCH_CHANGES, UnavailableError, type WatchChange, type WatchReply,
} from '@secret-svc/protocol';
import type { Caller, NonceClaim } from '../auth/caller.js';
import { Follower, type FollowLog, type HintBus } from '../follow.js';
import { Later } from '../later.js';
import type { ChangeEntry } from '../store/changes.js';
import type { ChangePage, SecretStore } from '../store/secret-store.js';
import { changeFor, HeldWatches, type HeldWatch, type WatchFilter } from './held.js';

export const DEFAULT_CHANGE_POLL_MS = 250;
/** Entries read per round trip. */
const PAGE = 1000;
/** Recently matched entries kept, so a watch held just after a batch still sees it. */
const RECENT = 4096;

/** `<prefix>.internal.changes`: carries at most a revision number; hearing it grants nothing. */
export function changeHintSubject(prefix: string): string {
  return `${prefix}.internal.changes`;
}

export interface WatchHubOptions {
  store: Pick<SecretStore, 'changes'>;
  bus: HintBus;
  subject: string;
  log: FollowLog & { error(obj: object, msg: string): void };
  maxWatches: number;
  maxWatchesPerCaller: number;
  pollMs?: number;
}

/** One watch request, as the op hands it over. */
export interface WatchAsk {
  caller: Caller;
  nonce: NonceClaim;
  filter: WatchFilter;
  since: number | undefined;
  waitMs: number;
  /** Stops counting the request in flight (called just before it is held). */
  release: () => void;
}

export class WatchHub {
  private readonly held = new HeldWatches();
  private readonly follower: Follower;
  /** Every entry up to here was matched against the watches held at the time. */
  private seen = 0;
  private recent: ChangeEntry[] = [];
  private closing = false;

  constructor(private readonly o: WatchHubOptions) {
    this.follower = new Follower({
      bus: o.bus, subject: o.subject, log: o.log, pollMs: o.pollMs ?? DEFAULT_CHANGE_POLL_MS,
      look: () => this.follow(),
      messages: { failing: 'cannot read the change log; held watches wait and it is read again', recovered: 'change log readable again' },
    });
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Starts from the newest revision (rejects when the store cannot be read). */
  start(): Promise<void> {
    return this.follower.start(async () => {
      this.seen = (await this.o.store.changes(Number.MAX_SAFE_INTEGER, 0)).newest;
    });
  }

  /** Answers every held watch as if its wait ran out; later watches are answered at once. Then stops following. */
  async stop(): Promise<void> {
    this.closing = true;
    for (const w of [...this.held.all()]) w.finish(this.timedOut(w));
    await this.follower.stop();
  }

  /** After a local write: every worker (this one too) looks at the log now. */
  changed(rev: number): void {
    try {
      this.follower.notify(String(rev));
    } catch {
      // A connection closing: the write stands, and the other workers' poll finds it.
    }
  }

  /** Answers held watches of credentials `refuse` throws for (revocation) with its error. */
  refuse(refuse: (caller: Caller) => void): void {
    for (const w of [...this.held.all()]) {
      try {
        refuse(w.caller);
      } catch (err) {
        w.finish(err as Error);
      }
    }
  }

  /** The reply to one watch request: at once, or a Later settled when the held watch is answered. */
  async answer(ask: WatchAsk): Promise<WatchReply | Later<WatchReply>> {
    const { store } = this.o;
    if (ask.since === undefined) {
      // The starting point: the nonce claimed and the newest revision read in one step.
      return { rev: (await store.changes(Number.MAX_SAFE_INTEGER, 0, ask.nonce)).newest, changes: [], reset: false };
    }
    let nonce: NonceClaim | undefined = ask.nonce;
    let since = ask.since;
    for (;;) {
      const reply = await this.collect(since, ask, nonce);
      nonce = undefined;
      if (reply.changes.length > 0 || reply.reset || ask.waitMs === 0 || this.closing) return reply;
      const held = this.hold(ask, reply.rev);
      if (held) return held;
      // Entries were matched meanwhile that this worker no longer keeps: read them again.
      since = reply.rev;
    }
  }

  /** The qualifying changes after `since`, paged through the log (at most MAX_WATCH_CHANGES). */
  private async collect(since: number, ask: WatchAsk, nonce: NonceClaim | undefined): Promise<WatchReply> {
    const changes: WatchChange[] = [];
    let from = since;
    for (;;) {
      const page = await this.o.store.changes(from, PAGE, nonce);
      nonce = undefined;
      if (isGap(page, from)) return { rev: page.newest, changes: [], reset: true };
      this.dropped(page);
      for (const entry of page.entries) {
        const change = changeFor(ask, entry);
        if (!change) continue;
        changes.push(change);
        if (changes.length === MAX_WATCH_CHANGES) return { rev: entry.rev, changes, reset: false };
      }
      if (page.last >= page.newest || page.entries.length + page.dropped < PAGE) {
        return { rev: Math.max(page.newest, from), changes, reset: false };
      }
      from = page.last;
    }
  }

  /**
   * Holds a watch informed up to `since`: its reply comes when a change qualifies, the wait
   * runs out, the worker stops or the credential is revoked. Undefined when entries after
   * `since` were already matched and are no longer kept here (the caller reads them again).
   */
  private hold(ask: WatchAsk, since: number): Later<WatchReply> | undefined {
    const { maxWatches, maxWatchesPerCaller } = this.o;
    if (this.held.size >= maxWatches) {
      throw new UnavailableError(`this worker holds its limit of ${maxWatches} watches (SECRET_SVC_MAX_WATCHES), retry`);
    }
    if (this.held.heldBy(ask.caller.keyId) >= maxWatchesPerCaller) {
      throw new UnavailableError(`this credential key has ${maxWatchesPerCaller} watches held on this worker (SECRET_SVC_MAX_WATCHES_PER_CALLER), retry later`);
    }
    const missed = this.seen > since ? this.recentAfter(since) : [];
    if (!missed) return undefined;
    const later = new Later<WatchReply>();
    const w = this.parked(ask.caller, ask.filter, since, ask.waitMs, later);
    ask.release();
    this.held.add(w);
    for (const entry of missed) this.match(w, entry);
    if (w.changes.length > 0) w.finish({ rev: this.seen, changes: w.changes, reset: false });
    return later;
  }

  /** The held watch: its own closure keeps only these, not the ask (nonce, release) or the request's frames. */
  private parked(caller: Caller, filter: WatchFilter, since: number, waitMs: number, later: Later<WatchReply>): HeldWatch {
    const w: HeldWatch = {
      caller, filter, since, changes: [],
      finish: (reply) => {
        if (!this.held.delete(w)) return;
        clearTimeout(timer);
        later.settle(reply);
      },
    };
    const timer = setTimeout(() => w.finish(this.timedOut(w)), waitMs);
    return w;
  }

  /** Entries after `since` this worker matched already, or undefined when it no longer keeps them all. */
  private recentAfter(since: number): ChangeEntry[] | undefined {
    const first = this.recent[0];
    if (!first || first.rev > since + 1) return undefined;
    return this.recent.filter((e) => e.rev > since);
  }

  /** One look at the log: every entry after `seen`, matched against the held watches. */
  private async follow(): Promise<void> {
    for (;;) {
      const page = await this.o.store.changes(this.seen, PAGE);
      if (isGap(page, this.seen)) {
        // Entries went (history exceeded, store emptied) before this worker matched them.
        for (const w of [...this.held.all()]) w.finish({ rev: page.newest, changes: [], reset: true });
        this.seen = page.newest;
        this.recent = [];
        return;
      }
      this.dropped(page);
      const touched = new Set<HeldWatch>();
      for (const entry of page.entries) {
        for (const w of this.held.concerned(entry)) {
          if (this.match(w, entry)) touched.add(w);
        }
        this.remember(entry);
      }
      const done = page.last >= page.newest || page.entries.length + page.dropped < PAGE;
      this.seen = done ? Math.max(page.newest, this.seen) : page.last;
      for (const w of touched) w.finish({ rev: this.seen, changes: w.changes, reset: false });
      if (done) return;
    }
  }

  /** Adds the entry to what `w` reports; answers it at once at MAX_WATCH_CHANGES. True when it was added. */
  private match(w: HeldWatch, entry: ChangeEntry): boolean {
    // A full watch was answered at MAX_WATCH_CHANGES: its reply is that array, and the rest is for its next request.
    if (entry.rev <= w.since || w.changes.length >= MAX_WATCH_CHANGES) return false;
    const change = changeFor(w, entry);
    if (!change) return false;
    w.changes.push(change);
    if (w.changes.length === MAX_WATCH_CHANGES) w.finish({ rev: entry.rev, changes: w.changes, reset: false });
    return true;
  }

  private remember(entry: ChangeEntry): void {
    this.recent.push(entry);
    if (this.recent.length > 2 * RECENT) this.recent = this.recent.slice(-RECENT);
  }

  private timedOut(w: HeldWatch): WatchReply {
    return { rev: Math.max(w.since, this.seen), changes: [], reset: false };
  }

  private dropped(page: ChangePage): void {
    if (page.dropped > 0) {
      this.o.log.error({ dropped: page.dropped, after: page.last }, 'change entries failed their integrity check (altered in Redis): dropped, never reported');
    }
  }
}

/**
 * A change after `since` is no longer kept (or no longer checkable: its key left the ring),
 * or `since` is past the newest revision (an emptied store).
 */
function isGap(page: ChangePage, since: number): boolean {
  if (since > page.newest || page.retired > 0) return true;
  if (since === page.newest) return false;
  return page.oldest === 0 || page.oldest > since + 1;
}
