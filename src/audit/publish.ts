/** One attempt to store one event: a JetStream publish whose acknowledgement means "stored". */
import type { JetStreamClient, PubAck } from 'nats';

export interface Outgoing {
  subject: string;
  data: Uint8Array;
  /** Nats-Msg-Id: a retried event is stored once. */
  id: string;
}

export function publishOnce(js: JetStreamClient, item: Outgoing, timeoutMs: number): Promise<PubAck> {
  return js.publish(item.subject, item.data, { msgID: item.id, timeout: Math.max(1, Math.round(timeoutMs)) });
}
