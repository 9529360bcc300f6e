/**
 * Reads the audit trail back (for `secret-svc audit`): an ordered ephemeral consumer on the
 * stream, from a start time or the beginning, to the end or (following) until stopped.
 */
import type { NatsConnection } from 'nats';
import type { AuditEvent } from './event.js';
import { isNoJetStream, isStreamNotFound } from './stream.js';

export interface TrailQuery {
  stream: string;
  subjectPrefix: string;
  /** One op is filtered by the server (its subject); several here. */
  ops?: string[];
  since?: Date;
  follow: boolean;
  /** Keeps an event (the other filters: slug, key, status). */
  filter?: (event: AuditEvent) => boolean;
  /** Ends a follow. */
  signal?: AbortSignal;
}

/** The trail cannot be read: no JetStream, no stream. */
export class TrailReadError extends Error {}

/** Calls `onEvent` for each matching event, oldest first; resolves with how many matched. */
export async function readTrail(nc: NatsConnection, q: TrailQuery, onEvent: (event: AuditEvent) => void): Promise<number> {
  const ops = q.ops ?? [];
  const subject = ops.length === 1 ? `${q.subjectPrefix}.audit.${ops[0]}` : `${q.subjectPrefix}.audit.>`;
  let consumer;
  try {
    consumer = await nc.jetstream().consumers.get(q.stream, {
      filterSubjects: subject,
      ...(q.since ? { opt_start_time: q.since.toISOString() } : {}),
    });
  } catch (err) {
    if (isStreamNotFound(err)) throw new TrailReadError(`no audit trail: the stream ${q.stream} does not exist (is a worker with SECRET_SVC_AUDIT=jetstream running on this NATS?)`);
    if (isNoJetStream(err)) throw new TrailReadError(`no audit trail: the NATS server at ${nc.getServer()} has no JetStream`);
    throw err;
  }
  let matched = 0;
  try {
    if (!q.follow && (await consumer.info()).num_pending === 0) return 0;
    const messages = await consumer.consume({ max_messages: 256 });
    const stop = () => messages.stop();
    q.signal?.addEventListener('abort', stop, { once: true });
    if (q.signal?.aborted) stop();
    try {
      for await (const m of messages) {
        const event = parse(m.data);
        const wanted = event !== undefined && (ops.length <= 1 || ops.includes(event.op)) && (!q.filter || q.filter(event));
        if (wanted) {
          matched++;
          onEvent(event);
        }
        if (!q.follow && m.info.pending === 0) break;
      }
    } finally {
      q.signal?.removeEventListener('abort', stop);
      messages.stop();
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return matched;
}

function parse(data: Uint8Array): AuditEvent | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && (v as AuditEvent).v === 1 ? (v as AuditEvent) : undefined;
  } catch {
    return undefined; // not an event (only workers may publish here; see SECURITY.md)
  }
}
