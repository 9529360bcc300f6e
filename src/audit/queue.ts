/**
 * The trail's durable publish queue (docs/protocol.md §11): events are published with up to
 * `maxInFlight` acknowledgements awaited at once, and a failed one is retried (first, before
 * the rest of the queue) after the trail's backoff, until the stream stores it — never dropped
 * while the worker runs. The trail (trail.ts) decides what goes in and when it may be sent.
 */
import type { AckedPublisher, Outgoing } from './acks.js';
import { Backoff } from './backoff.js';

export interface PublishQueueOptions {
  maxInFlight: number;
  /** How long one publish waits for its acknowledgement. */
  waitMs: number;
  /** The publisher, once the trail has one. */
  publisher: () => AckedPublisher | undefined;
  /** True while nothing may be sent (the stream is weakened). */
  paused: () => boolean;
  /** An event was stored. */
  stored: () => void;
  /** A publish failed; the event will be retried. */
  failed: (err: unknown) => void;
}

export class PublishQueue {
  /** Retried events first (taken from the end), then the queue from `head`. */
  private readonly retries: Outgoing[] = [];
  private queue: Outgoing[] = [];
  private head = 0;
  private inFlight = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(private readonly o: PublishQueueOptions) {}

  /** Queues `item` and sends what may be sent; false once closed (the caller says so in the log). */
  push(item: Outgoing): boolean {
    if (this.closed) return false;
    this.queue.push(item);
    this.pump();
    return true;
  }

  /** Events queued or awaiting their acknowledgement. */
  get size(): number {
    return this.queued() + this.inFlight;
  }

  /** Sends at once what waits for its retry (the trail works again); and what may be sent. */
  retryNow(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.pump();
  }

  /** An event was stored: the next failure waits the shortest time again. */
  resetBackoff(): void {
    this.backoff.reset();
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise<void>((r) => this.idle.push(r));
  }

  /** Stops sending; returns what was not stored. */
  close(): { unstored: Outgoing[]; inFlight: number } {
    this.closed = true;
    clearTimeout(this.retryTimer);
    return { unstored: [...this.retries, ...this.queue.slice(this.head)], inFlight: this.inFlight };
  }

  pump(): void {
    const acks = this.o.publisher();
    // Nothing goes into a weakened stream: the events wait for it to be restored.
    if (!acks || this.closed || this.retryTimer || this.o.paused()) return;
    while (this.inFlight < this.o.maxInFlight) {
      const item = this.next();
      if (!item) break;
      this.inFlight++;
      acks.publish(item, this.o.waitMs).then(
        () => {
          this.inFlight--;
          this.o.stored();
          this.pump();
          this.notifyIdle();
        },
        (err: unknown) => {
          this.inFlight--;
          this.retries.push(item);
          this.o.failed(err);
          this.scheduleRetry();
        },
      );
    }
  }

  private queued(): number {
    return this.retries.length + this.queue.length - this.head;
  }

  private next(): Outgoing | undefined {
    if (this.retries.length > 0) return this.retries.pop();
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head++];
    // Compact now and then instead of shift() (O(n) per call on a long queue).
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.backoff.next());
  }

  private notifyIdle(): void {
    if (this.idle.length === 0 || this.size > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
