/** One event on its way to the stream (published by AckedPublisher, acks.ts). */
export interface Outgoing {
  subject: string;
  data: Uint8Array;
  /** Nats-Msg-Id: a retried event is stored once. */
  id: string;
}
