/**
 * `keys rewrap`: moves every stored value and the canary to the ring's first key while
 * workers keep serving (docs/protocol.md §13). One pass walks the index of keys in batches; each
 * record is moved by a compare-and-set (SecretStore.rewrap), so a write made meanwhile is
 * never lost or reverted, only skipped as "changed" and tried again on the next pass.
 * Resuming after Ctrl-C or a crash is running it again: records already under the first key
 * are read and skipped (idempotent); nothing is half-moved, each record moves in one script.
 * Done only when `countByKeyId` finds nothing under another key.
 */
import type { RewrapTally } from '../../../store/keyring-maintenance.js';
import type { SecretStore } from '../../../store/secret-store.js';
import type { Progress } from '../../lib/progress-bar.js';

export const DEFAULT_BATCH = 100;
/** Passes over the keys written meanwhile, after the first full pass. */
export const MAX_PASSES = 5;

export interface RewrapSummary {
  /** Records (each secret with its kept versions, and the canary) by final outcome. */
  moved: number;
  current: number;
  changed: number;
  failed: number;
  gone: number;
  /** Records skipped once because of a concurrent write, then tried again. */
  retried: number;
  passes: number;
  failures: { key: string; message: string }[];
  /** Values left under a key other than the first, by key id (empty when done). */
  left: Map<string, number>;
  interrupted: boolean;
}

export interface RewrapOptions {
  batch?: number;
  progress: (total: number) => Progress;
  /** Checked between batches: Ctrl-C stops after the batch in flight. */
  stopped?: () => boolean;
}

export async function rewrapAll(store: SecretStore, o: RewrapOptions): Promise<RewrapSummary> {
  const batch = o.batch ?? DEFAULT_BATCH;
  const s: RewrapSummary = { moved: 0, current: 0, changed: 0, failed: 0, gone: 0, retried: 0, passes: 1, failures: [], left: new Map(), interrupted: false };
  const add = (t: RewrapTally, final: boolean) => {
    s.moved += t.moved;
    s.current += t.current;
    s.failed += t.failed;
    s.gone += t.gone;
    if (final) s.changed += t.changed;
    s.failures.push(...t.failures);
  };

  // Pass 1: every key, in index order, and the canary with the first batch.
  const bar = o.progress((await store.keyring.secretCount()) + 1);
  let retry: string[] = [];
  let retryCanary = false;
  try {
    let after: string | undefined;
    let first = true;
    for (;;) {
      if (o.stopped?.()) return { ...s, interrupted: true };
      const keys = await store.keyring.keysAfter(after, batch);
      if (keys.length === 0 && !first) break;
      const t = await store.keyring.rewrap(keys, { canary: first });
      add(t, false);
      retry.push(...t.changedKeys);
      retryCanary ||= t.canaryChanged;
      for (let i = 0; i < keys.length + (first ? 1 : 0); i++) bar.tick();
      first = false;
      if (keys.length < batch) break;
      after = keys[keys.length - 1];
    }
  } finally {
    bar.stop();
  }
  s.retried = retry.length + (retryCanary ? 1 : 0);

  // Later passes: only what a concurrent write changed under us.
  while ((retry.length > 0 || retryCanary) && s.passes < MAX_PASSES + 1) {
    if (o.stopped?.()) return { ...s, interrupted: true };
    s.passes++;
    const last = s.passes === MAX_PASSES + 1;
    const next: string[] = [];
    let nextCanary = false;
    for (let i = 0; i < retry.length || (i === 0 && retryCanary); i += batch) {
      const t = await store.keyring.rewrap(retry.slice(i, i + batch), { canary: i === 0 && retryCanary });
      add(t, last);
      next.push(...t.changedKeys);
      nextCanary ||= t.canaryChanged;
    }
    retry = next;
    retryCanary = nextCanary;
  }

  const first = store.keyIds[0]!;
  for (const [id, n] of await store.keyring.countByKeyId()) if (id !== first && n > 0) s.left.set(id, n);
  return s;
}

/** The summary line. */
export function summaryLine(s: RewrapSummary, firstKeyId: string): string {
  const records = s.moved + s.current + s.changed + s.failed;
  const extra = [
    `${s.passes} pass${s.passes === 1 ? '' : 'es'}`,
    ...(s.retried > 0 ? [`${s.retried} retried after a concurrent write`] : []),
    ...(s.gone > 0 ? [`${s.gone} deleted meanwhile`] : []),
  ];
  return `rewrap to key ${firstKeyId}: ${records} records (secrets with their kept versions, and the canary): ` +
    `${s.moved} moved, ${s.current} already current, ${s.changed} skipped because they changed, ${s.failed} failed (${extra.join(', ')})`;
}
