/**
 * The caller's side of `watch` (docs/protocol.md §14): one held request after another, each
 * sending back the last `rev` as `since`, so nothing committed in between is missed; after a
 * lost connection, a 503 or a restarted worker the next request resumes from that `rev`,
 * after a back-off.
 */
import {
  DEFAULT_WATCH_WAIT_MS, SecretSvcError, type ParamsOf, type WatchChange, type WatchReply,
} from '@secret-svc/protocol';

export type { WatchChange } from '@secret-svc/protocol';

/** What a batch reports: changes after the previous batch's `rev`, or (`reset`) that changes were missed. */
export interface WatchBatch {
  rev: number;
  changes: WatchChange[];
  /** The caller missed changes (too old, or the store was emptied): re-read everything it holds. */
  reset: boolean;
}

/** The secrets to watch: those under a prefix (`{}` or `{prefix: ''}`: all it may read), or these keys. */
export type WatchSelector = { prefix?: string } | { keys: string[] };

export interface WatchOptions {
  /** Ends the iterator (it returns; nothing is thrown). */
  signal?: AbortSignal;
  /** The last revision already seen; by default the watch starts from the newest. */
  since?: number;
  /** How long the worker holds each request when nothing changes (default 20000 ms, at most 60000). */
  waitMs?: number;
}

/** How long a held request may take beyond its wait before it counts as lost. */
export const WATCH_REPLY_MARGIN_MS = 5_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5_000;

type WatchCall = (params: ParamsOf<'watch'>, options: { signal?: AbortSignal; timeout?: number; retries: number }) => Promise<WatchReply>;

/** What the cache (cache.ts) follows besides the batches: every reply, and every failed request before its back-off. */
export interface WatchHooks {
  onReply?(reply: WatchReply): void;
  onRetry?(err: unknown): void;
}

export async function* watchBatches(
  call: WatchCall, closed: () => boolean, selector: WatchSelector, options: WatchOptions, hooks: WatchHooks = {},
): AsyncGenerator<WatchBatch, void, undefined> {
  const { signal } = options;
  const waitMs = options.waitMs ?? DEFAULT_WATCH_WAIT_MS;
  const filter = 'keys' in selector ? { keys: selector.keys } : selector.prefix !== undefined ? { prefix: selector.prefix } : {};
  let since = options.since;
  let backoff = BACKOFF_FIRST_MS;
  while (!signal?.aborted) {
    let reply: WatchReply;
    try {
      reply = since === undefined
        ? await call(filter, { signal, retries: 0 })
        : await call({ ...filter, since, wait: waitMs }, { signal, timeout: waitMs + WATCH_REPLY_MARGIN_MS, retries: 0 });
    } catch (err) {
      if (signal?.aborted) return;
      // A refusal (400, 401, 403…) will not change by asking again; nor will a closed connection.
      if ((err instanceof SecretSvcError && err.status !== 503 && err.status !== 500) || closed()) throw err;
      hooks.onRetry?.(err);
      if (!(await pause(backoff, signal))) return;
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      continue;
    }
    backoff = BACKOFF_FIRST_MS;
    hooks.onReply?.(reply);
    const first = since === undefined;
    since = reply.rev;
    // The starting point reports nothing; later replies only when something happened.
    if (!first && (reply.changes.length > 0 || reply.reset)) yield { rev: reply.rev, changes: reply.changes, reset: reply.reset };
  }
}

/** Waits `ms`; false when the signal aborted meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
