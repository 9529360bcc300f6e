/**
 * The watches one worker holds (docs/protocol.md §14), indexed so that a change touches only
 * the watches that may learn of it: a non-administrator's watch is found under its slug,
 * looked up by the slugs in a change's readers (before and after); administrators' watches
 * are in a set of their own. Matching a change costs no I/O.
 */
import type { WatchChange, WatchReply } from '@secret-svc/protocol';
import type { Caller } from '../auth/caller.js';
import { isoTime } from '../iso-time.js';
import type { ChangeEntry } from '../store/changes.js';
import { changeSeenBy } from '../policy.js';

/** Which keys a watch asks about: a prefix, a set of keys, or (neither) everything. */
export interface WatchFilter {
  prefix?: string;
  keys?: ReadonlySet<string>;
}

export interface HeldWatch {
  readonly caller: Caller;
  readonly filter: WatchFilter;
  /** The caller is informed up to here: entries at or below it were already looked at. */
  readonly since: number;
  /** What this watch will report, gathered while one batch of entries is matched. */
  readonly changes: WatchChange[];
  /** Answers the request (once; later calls do nothing). */
  finish(reply: WatchReply | Error): void;
}

/** The change as the watch's caller sees it, or null when it is not reported to it. */
export function changeFor(w: Pick<HeldWatch, 'caller' | 'filter'>, entry: ChangeEntry): WatchChange | null {
  const { prefix, keys } = w.filter;
  if (keys ? !keys.has(entry.key) : prefix !== undefined && !entry.key.startsWith(prefix)) return null;
  const op = changeSeenBy(w.caller, entry);
  if (op === null) return null;
  return { key: entry.key, op, ...(op === 'delete' ? {} : { version: entry.version }), rev: entry.rev, at: isoTime(entry.atMs) };
}

export class HeldWatches {
  private readonly bySlug = new Map<string, Set<HeldWatch>>();
  private readonly admins = new Set<HeldWatch>();
  private readonly perCaller = new Map<string, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  heldBy(keyId: string): number {
    return this.perCaller.get(keyId) ?? 0;
  }

  add(w: HeldWatch): void {
    if (w.caller.admin) this.admins.add(w);
    else {
      let set = this.bySlug.get(w.caller.slug);
      if (!set) this.bySlug.set(w.caller.slug, (set = new Set()));
      set.add(w);
    }
    this.perCaller.set(w.caller.keyId, this.heldBy(w.caller.keyId) + 1);
    this.count++;
  }

  /** Removes a held watch; false when it was not held (already answered). */
  delete(w: HeldWatch): boolean {
    let removed: boolean;
    if (w.caller.admin) removed = this.admins.delete(w);
    else {
      const set = this.bySlug.get(w.caller.slug);
      removed = set?.delete(w) ?? false;
      if (set?.size === 0) this.bySlug.delete(w.caller.slug);
    }
    if (!removed) return false;
    const left = this.heldBy(w.caller.keyId) - 1;
    if (left === 0) this.perCaller.delete(w.caller.keyId);
    else this.perCaller.set(w.caller.keyId, left);
    this.count--;
    return true;
  }

  /** The watches a change may concern: those of its readers (before and after) and the administrators'. */
  *concerned(entry: ChangeEntry): Iterable<HeldWatch> {
    yield* this.admins;
    const slugs = new Set([...(entry.readersBefore ?? []), ...(entry.readersAfter ?? [])]);
    for (const slug of slugs) {
      const set = this.bySlug.get(slug);
      if (set) yield* set;
    }
  }

  /** Every held watch (stop, revocation, a log gap: rare events). */
  *all(): Iterable<HeldWatch> {
    yield* this.admins;
    for (const set of this.bySlug.values()) yield* set;
  }
}
