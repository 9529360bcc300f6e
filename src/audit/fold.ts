/**
 * Folding (docs/protocol.md §11): requests refused before their credential verified become one
 * event per second per (op, status, code) with a `count`, so a flood without credentials
 * adds at most a few events a second, whatever its rate.
 */
import type { AuditEvent } from './event.js';

interface Folded {
  event: AuditEvent;
  count: number;
}

export class Folder {
  private readonly open = new Map<string, Folded>();

  /** Counts `event` (built without a slug) into its window. */
  add(event: AuditEvent): void {
    const id = `${event.op}\0${event.status}\0${event.code ?? ''}`;
    const folded = this.open.get(id);
    if (folded) folded.count++;
    // Only what every folded request shares: the first one's time, op, status and code.
    else this.open.set(id, { event: { v: 1, time: event.time, worker: event.worker, op: event.op, status: event.status, ...(event.code ? { code: event.code } : {}) }, count: 1 });
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
