/**
 * Request-reply over one inbox subscription of our own, as a lean client does it. nats.js'
 * `request()` costs a timer, a Promise.race and, on every success, a NatsError it builds
 * (stack trace and all) only to reject an already-settled promise: a fifth of the load
 * generator's CPU, which shares the cores with the worker. Here a request is one publish,
 * one map entry and one promise; a single sweep times out what waited too long.
 */
import { createInbox, type Msg, type NatsConnection } from 'nats';

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (err: Error) => void;
  deadlineMs: number;
}

/** An error with the `code` nats.js would give (the generator counts errors by code). */
class RequestFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class Requests {
  private readonly prefix = `${createInbox()}.`;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number) {
    nc.subscribe(`${this.prefix}*`, { callback: (_err, msg) => this.settle(msg) });
    this.sweep = setInterval(() => this.expire(), Math.min(1000, timeoutMs)).unref();
  }

  request(subject: string, body: Uint8Array): Promise<Msg> {
    const token = (this.seq++).toString(36);
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadlineMs: Date.now() + this.timeoutMs });
      this.nc.publish(subject, body, { reply: this.prefix + token });
    });
  }

  close(): void {
    clearInterval(this.sweep);
    for (const p of this.pending.values()) p.reject(new RequestFailed('CANCELLED'));
    this.pending.clear();
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    // The server's own "no responders" (an empty 503): nobody serves the subject.
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new RequestFailed('503'));
    else p.resolve(msg);
  }

  private expire(): void {
    const now = Date.now();
    // Insertion order is deadline order: stop at the first that may still wait.
    for (const [token, p] of this.pending) {
      if (p.deadlineMs > now) break;
      this.pending.delete(token);
      p.reject(new RequestFailed('TIMEOUT'));
    }
  }
}
