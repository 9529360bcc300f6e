/**
 * Endpoint statistics for $SRV.STATS that count what really happened. nats.js times only
 * the synchronous hand-off to a handler and counts no error reply; ours finish
 * asynchronously, so each reply is recorded here when it is sent. Durations are integer
 * nanoseconds, as the micro schema (and the Go nats CLI) require.
 */
import type { NamedEndpointStats } from 'nats';

/** The micro counters nats.js cannot know for asynchronous handlers. */
export type Counters = Pick<NamedEndpointStats, 'num_requests' | 'num_errors' | 'processing_time' | 'average_processing_time' | 'last_error'>;

export class EndpointStats {
  private num_requests = 0;
  private num_errors = 0;
  private processing_time = 0;
  private last_error = '';
  private statuses: Record<string, number> = {};
  private droppedReplySubject = 0;
  inFlight = 0;

  constructor(readonly name: string, readonly subject: string, readonly queue_group: string) {}

  /** One reply sent: its status (200 or the error's) and how long the request took. */
  record(durationNs: bigint, status: number, code: string | undefined): void {
    this.num_requests++;
    this.processing_time += Number(durationNs);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (status !== 200) {
      this.num_errors++;
      this.last_error = `${status} ${code}`;
    }
  }

  /** A request dropped unanswered for its reply subject (docs/protocol.md §15): an error, with no reply. */
  dropped(): void {
    this.num_requests++;
    this.num_errors++;
    this.droppedReplySubject++;
    this.last_error = 'dropped: reply subject not allowed';
  }

  counters(): Counters {
    const { num_requests, num_errors, processing_time, last_error } = this;
    const average_processing_time = num_requests === 0 ? 0 : Math.round(processing_time / num_requests);
    return { num_requests, num_errors, processing_time, average_processing_time, last_error };
  }

  /** The endpoint's `data` in $SRV.STATS. */
  data(): { replies_by_status: Record<string, number>; in_flight: number; dropped_reply_subject: number } {
    return { replies_by_status: { ...this.statuses }, in_flight: this.inFlight, dropped_reply_subject: this.droppedReplySubject };
  }

  stats(): Counters & { name: string; subject: string; queue_group: string; data: ReturnType<EndpointStats['data']> } {
    const { name, subject, queue_group } = this;
    return { name, subject, queue_group, ...this.counters(), data: this.data() };
  }
}
