/**
 * Folding (docs/protocol.md §11, §15): requests whose events would let a flood fill the trail
 * become one event per second per window key, with a `count`:
 *
 * - refused before their credential verified: per (op, status, code);
 * - refused 401 after it verified (a bad signature or MAC, a revoked credential, ...): per
 *   (op, status, code, keyId), keeping the credential's slug and jti, so a copied credential
 *   text adds at most a few events a second, whatever its rate.
 *
 * Every folded request is counted: the counts of a window's events sum to its requests.
 */
import type { AuditEvent } from './event.js';

interface Folded {
  event: AuditEvent;
  count: number;
}

export class Folder {
  private readonly open = new Map<string, Folded>();

  /** Counts `event` into its window. */
  add(event: AuditEvent): void {
    const id = `${event.op}\0${event.status}\0${event.code ?? ''}\0${event.keyId ?? ''}`;
    const folded = this.open.get(id);
    if (folded) folded.count++;
    else this.open.set(id, { event: shared(event), count: 1 });
  }

  /** The events of the window that ends now, each with its count; starts a new window. */
  take(): AuditEvent[] {
    const events = [...this.open.values()].map(({ event, count }) => ({ ...event, count }));
    this.open.clear();
    return events;
  }

  get size(): number {
    return this.open.size;
  }
}

/** Only what every folded request shares: the first one's time, op, status, code, and the credential's keyId, slug and jti. */
function shared(e: AuditEvent): AuditEvent {
  return {
    v: 1, time: e.time, worker: e.worker, op: e.op, status: e.status,
    ...(e.code ? { code: e.code } : {}),
    ...(e.keyId ? { keyId: e.keyId } : {}),
    ...(e.keyId && e.slug ? { slug: e.slug } : {}),
    ...(e.keyId && e.jti ? { jti: e.jti } : {}),
  };
}
