/**
 * A read-through cache of secrets in memory (never on disk), kept fresh by one watch
 * (docs/protocol.md §14). A value is served from memory only while the watch follows the
 * feed; a change drops the value before the `change` event reports it; after a `reset`, or
 * once the watch is back after a gap, what the cache holds is read again. Bounded by bytes
 * (the least recently used values go first).
 *
 * Events: `change` (a WatchChange, after its key was dropped), `reset` ({rev}: changes were
 * missed; held values are read again), `stale` ({key, ageMs, error}: a value served past a
 * failed read, with `staleIfErrorMs`), `error` (the watch ended for good, e.g. a revoked
 * credential; only emitted when someone listens).
 */
import { EventEmitter } from 'node:events';
import { SecretSvcError, type Secret, type WatchChange, type WatchReply } from '@secret-svc/protocol';
import type { WatchHooks, WatchSelector } from './watch.js';

export interface CacheOptions {
  /** The most value and key bytes held (default 16 MiB). */
  maxBytes?: number;
  /** Opt-in: while reads fail with 503 (service unreachable), serve a value read at most this long ago (ms), and emit `stale`. */
  staleIfErrorMs?: number;
  /** The watch's wait per request (ms, default 20000). */
  waitMs?: number;
}

export interface CacheStats {
  /** `get`s answered from memory. */
  hits: number;
  /** `get`s that read through. */
  misses: number;
  /** The revision the watch is informed up to (undefined before its first reply). */
  rev: number | undefined;
  /** Values held, and their bytes. */
  entries: number;
  bytes: number;
}

/** What the cache needs from the client. */
export interface CacheSource {
  read(key: string): Promise<Secret>;
  readMany(keys: string[]): Promise<{ secrets: Secret[] }>;
  watch(selector: WatchSelector, options: { signal: AbortSignal; waitMs?: number }, hooks: WatchHooks): AsyncIterableIterator<unknown>;
}

interface Entry {
  secret: Secret;
  bytes: number;
  readAtMs: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** Accounted per entry beyond its key and value (the object, the map slot). */
const ENTRY_OVERHEAD_BYTES = 256;
const READ_BATCH = 100;

export class SecretCache extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private rev: number | undefined;
  /** True while the watch follows the feed: memory may answer. */
  private live = false;
  /** Bumped by every change and reset: a read started before one must not be kept. */
  private epoch = 0;
  private readonly maxBytes: number;
  private readonly done: Promise<void>;

  constructor(private readonly source: CacheSource, private readonly selector: WatchSelector, private readonly options: CacheOptions = {}) {
    super();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.done = this.follow();
  }

  /** The secret: from memory when the cache is fresh, otherwise read through (and kept when it is under the selector). */
  async get(key: string): Promise<Secret> {
    const held = this.entries.get(key);
    if (held && this.live) {
      this.hits++;
      // Most recently used last: eviction takes the first.
      this.entries.delete(key);
      this.entries.set(key, held);
      return held.secret;
    }
    this.misses++;
    const epoch = this.epoch;
    const live = this.live;
    try {
      const secret = await this.source.read(key);
      if (live && this.live && epoch === this.epoch && this.covers(key)) this.keep(secret);
      return secret;
    } catch (err) {
      const ageMs = held ? Date.now() - held.readAtMs : Infinity;
      const limit = this.options.staleIfErrorMs;
      if (held && limit !== undefined && ageMs <= limit && err instanceof SecretSvcError && err.status === 503) {
        this.emit('stale', { key, ageMs, error: err });
        return held.secret;
      }
      throw err;
    }
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, rev: this.rev, entries: this.entries.size, bytes: this.bytes };
  }

  /** Stops the watch and forgets every value. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
    this.entries.clear();
    this.bytes = 0;
    this.live = false;
  }

  private async follow(): Promise<void> {
    const hooks: WatchHooks = {
      onReply: (reply) => this.onReply(reply),
      onRetry: () => {
        this.live = false;
      },
    };
    try {
      const batches = this.source.watch(this.selector, { signal: this.abort.signal, waitMs: this.options.waitMs }, hooks);
      // The hooks do the work (synchronously, before anyone can read a dropped value); this drains the batches.
      for await (const _ of batches) { /* handled in onReply */ }
    } catch (err) {
      this.live = false;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }

  private onReply(reply: WatchReply): void {
    const gap = !this.live && this.rev !== undefined;
    this.rev = reply.rev;
    this.live = true;
    if (reply.changes.length > 0) this.epoch++;
    for (const change of reply.changes) this.drop(change);
    if (reply.reset || (gap && this.entries.size > 0)) {
      // Changes were missed (reset), or the watch was away (a gap): read everything held again.
      this.epoch++;
      void this.reread();
      if (reply.reset) this.emit('reset', { rev: reply.rev });
    }
  }

  private drop(change: WatchChange): void {
    const held = this.entries.get(change.key);
    if (held) {
      this.entries.delete(change.key);
      this.bytes -= held.bytes;
    }
    this.emit('change', change);
  }

  /** Replaces every held value by a fresh read (a value no longer readable is forgotten). */
  private async reread(): Promise<void> {
    const keys = [...this.entries.keys()];
    this.entries.clear();
    this.bytes = 0;
    const epoch = this.epoch;
    for (let i = 0; i < keys.length; i += READ_BATCH) {
      try {
        const { secrets } = await this.source.readMany(keys.slice(i, i + READ_BATCH));
        if (epoch !== this.epoch || !this.live) return;
        for (const secret of secrets) this.keep(secret);
      } catch {
        return; // the next get reads through
      }
    }
  }

  private keep(secret: Secret): void {
    const bytes = Buffer.byteLength(secret.key) + Buffer.byteLength(secret.value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(secret.key);
    if (old) {
      this.entries.delete(secret.key);
      this.bytes -= old.bytes;
    }
    this.entries.set(secret.key, { secret, bytes, readAtMs: Date.now() });
    this.bytes += bytes;
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  private covers(key: string): boolean {
    if ('keys' in this.selector) return this.selector.keys.includes(key);
    return this.selector.prefix === undefined || key.startsWith(this.selector.prefix);
  }
}
