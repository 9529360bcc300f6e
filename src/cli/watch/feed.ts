/**
 * What the long-running commands (`watch`, `run --watch`, `export --watch`) share: where a
 * watch starts, which changes concern a set of secrets, and stopping on Ctrl-C.
 */
import type { SecretClient, WatchBatch, WatchSelector } from '@secret-svc/client';
import { MAX_WATCH_KEYS } from '@secret-svc/protocol';
import { errorLine } from '../lib/exit-codes.js';

/**
 * The newest revision (docs/protocol.md §14: a watch without `since`). Secrets read after it
 * are at least this fresh, so a watch from it misses nothing that happened after the read.
 */
export async function newestRevision(client: SecretClient): Promise<number> {
  return (await client.call('watch', {})).rev;
}

export interface WatchScope {
  selector: WatchSelector;
  /** Whether a batch touches the secrets: a reset always does (changes were missed). */
  concerns(batch: WatchBatch): boolean;
}

/**
 * The secrets under `prefix` and/or these `keys`. One watch asks for them; when both are given
 * (with keys outside the prefix), or more keys than one watch takes, it asks for everything the
 * caller may read and the changes are filtered here.
 */
export function watchScope(prefix: string | undefined, keys: readonly string[]): WatchScope {
  const named = new Set(keys);
  const outside = keys.filter((k) => prefix === undefined || !k.startsWith(prefix));
  const matches = (key: string) => (prefix !== undefined && key.startsWith(prefix)) || named.has(key);
  let selector: WatchSelector;
  if (outside.length === 0) selector = { prefix: prefix ?? '' };
  else if (prefix === undefined && named.size <= MAX_WATCH_KEYS) selector = { keys: [...named] };
  else selector = { prefix: '' };
  return { selector, concerns: (batch) => batch.reset || batch.changes.some((c) => matches(c.key)) };
}

/**
 * Aborts the returned controller on SIGINT or SIGTERM (Ctrl-C); a second one is not caught
 * (it ends the process, should stopping hang). `release()` stops listening.
 */
export function stopOnInterrupt(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const release = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  const stop = () => {
    controller.abort();
    release();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { signal: controller.signal, release };
}

/** An error for a warning line (`…: 404 not_found: …`), without the `error: ` of a failing command. */
export function problem(err: unknown): string {
  return errorLine(err).replace(/^error: /, '');
}
