/**
 * JetStream publishes and their acknowledgements over one inbox subscription of the trail's
 * own. It is what js.publish() puts on the wire (a publish with a reply subject and the
 * Nats-Msg-Id header; the ack is the stream's JSON answer, an empty 503 means "no
 * responders": no stream takes the subject). js.publish() goes through nc.request(): a
 * timer, a Promise.race and, on every success, a NatsError built only to reject a settled
 * promise — about a tenth of a worker's CPU when every read waits for its event.
 *
 * The inbox begins with the connection's inbox prefix (docs/protocol.md §15): NATS users are
 * allowed to subscribe only under their own prefix, and createInbox() alone ignores it.
 */
import { createInbox, ErrorCode, NatsError, type ConnectionOptions, type MsgHdrs, type NatsConnection, type PubAck, type Subscription } from 'nats';

/** One event on its way to the stream. */
export interface Outgoing {
  subject: string;
  data: Uint8Array;
  /** Nats-Msg-Id: a retried event is stored once. */
  id: string;
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  deadlineMs: number;
}

/** How often waits past their deadline are failed (a wait is 2 s; this is its resolution). */
const SWEEP_MS = 100;

export class AckedPublisher {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private seq = 0;

  /** `onError`: the subscription failed (e.g. NATS refused it); every wait then times out (503). */
  constructor(private readonly nc: NatsConnection, onError: (err: Error, subject: string) => void) {
    this.prefix = `${createInbox(inboxPrefixOf(nc))}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      // On an error nats.js passes no message (an empty object) and closes the subscription.
      callback: (err, msg) => (err ? onError(err, `${this.prefix}*`) : this.settle(msg.subject, msg.data, msg.headers?.code ?? 0)),
    });
    this.sweep = setInterval(() => this.expire(), SWEEP_MS);
    this.sweep.unref();
  }

  /** Resolves with the stream's acknowledgement; NatsError code '503' when no stream answers. */
  publish(item: Outgoing, timeoutMs: number): Promise<void> {
    const token = (this.seq++).toString(36);
    const h = msgIdHeader(item.id);
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadlineMs: Date.now() + timeoutMs });
      try {
        this.nc.publish(item.subject, item.data, { reply: this.prefix + token, headers: h });
      } catch (err) {
        this.pending.delete(token);
        reject(err as Error);
      }
    });
  }

  /** Fails what still waits and stops listening (the connection is closing). */
  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(NatsError.errorForCode(ErrorCode.ConnectionClosed));
    this.pending.clear();
  }

  private settle(subject: string, data: Uint8Array, status: number): void {
    const token = subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return; // already timed out
    this.pending.delete(token);
    if (data.length === 0 && status === 503) {
      p.reject(NatsError.errorForCode(ErrorCode.NoResponders));
      return;
    }
    try {
      checkAck(data);
      p.resolve();
    } catch (err) {
      p.reject(err as Error);
    }
  }

  private expire(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadlineMs > now) continue;
      this.pending.delete(token);
      p.reject(NatsError.errorForCode(ErrorCode.Timeout));
    }
  }
}

/** The prefix the connection was opened with (nats.js keeps its options; its NatsConnection type does not show them). */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as Partial<{ options: ConnectionOptions }>).options?.inboxPrefix;
}

/** How every stored event's acknowledgement begins: `{"stream":` (an error begins `{"error":`). */
const STORED = Buffer.from('{"stream":');

/**
 * Throws unless the stream's answer says the event is stored: its API error as nats.js
 * throws it (code = the error's HTTP-like code), or JetStreamInvalidAck. Nothing reads the
 * acknowledgement's fields, so the usual success is recognised by its start unparsed; any
 * other answer is parsed and checked as nats.js does.
 */
function checkAck(data: Uint8Array): void {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length > STORED.length + 2 && bytes.subarray(0, STORED.length).equals(STORED) && bytes[bytes.length - 1] === 0x7d) return;
  const v = JSON.parse(bytes.toString('utf8')) as Partial<PubAck> & { error?: { code: number; err_code?: number; description: string } };
  if (v.error) {
    const err = new NatsError(v.error.description, String(v.error.code));
    err.api_error = { code: v.error.code, err_code: v.error.err_code ?? 0, description: v.error.description };
    throw err;
  }
  if (typeof v.stream !== 'string' || v.stream === '' || typeof v.seq !== 'number') throw NatsError.errorForCode(ErrorCode.JetStreamInvalidAck);
}

/**
 * The one header an event carries, encoded once: nats.js' publish only asks headers for
 * their bytes (encode()), and building a MsgHdrs per event (a map, a validation, a text
 * encoding) cost more than the rest of the publish. The id is ours: letters, digits and '-'.
 */
function msgIdHeader(id: string): MsgHdrs {
  const bytes = Buffer.from(`NATS/1.0\r\nNats-Msg-Id: ${id}\r\n\r\n`, 'latin1');
  return { encode: () => bytes } as unknown as MsgHdrs;
}
