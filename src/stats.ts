/**
 * Endpoint statistics for $SRV.STATS that count what really happened. nats.js times only
 * the synchronous part of a handler and does not count respondError; our handlers finish
 * asynchronously, so each reply is recorded here when it is sent. Durations are integer
 * nanoseconds, as the micro schema (and the Go nats CLI) require.
 */
import type { SecretSvcError } from '@secret-svc/protocol';

export class EndpointStats {
  num_requests = 0;
  num_errors = 0;
  processing_time = 0;
  average_processing_time = 0;
  last_error = '';
  private statuses: Record<string, number> = {};
  inFlight = 0;

  constructor(readonly name: string, readonly subject: string, readonly queue_group: string) {}

  /** Called by nats.js with the synchronous hand-off time only: ignored, see record(). */
  countLatency(_start: number): void {}

  /** Called by nats.js when a handler throws synchronously (ours never does). */
  countError(err: Error): void {
    this.num_errors++;
    this.last_error = err.message;
  }

  record(durationNs: bigint, error: SecretSvcError | undefined): void {
    this.num_requests++;
    this.processing_time += Number(durationNs);
    this.average_processing_time = Math.round(this.processing_time / this.num_requests);
    const status = String(error ? error.status : 200);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (error) {
      this.num_errors++;
      this.last_error = `${error.status} ${error.code}`;
    }
  }

  reset(): void {
    this.num_requests = this.num_errors = this.processing_time = this.average_processing_time = 0;
    this.last_error = '';
    this.statuses = {};
  }

  stats(): object {
    const { name, subject, queue_group, num_requests, num_errors, processing_time, average_processing_time, last_error } = this;
    return {
      name, subject, queue_group, num_requests, num_errors, processing_time, average_processing_time, last_error,
      data: { replies_by_status: { ...this.statuses }, in_flight: this.inFlight },
    };
  }
}
