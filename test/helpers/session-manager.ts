/**
 * The client's RequestChannel with `call`: one operation without retries (a timeout or 503
 * is thrown): begin, send, open, reopen once. Only tests drive a session by hand like this;
 * the client goes through `begin` with its own retries.
 */
import { RequestChannel as ClientRequestChannel, type RequestChannelOptions } from '../../client/src/session.js';

export class RequestChannel extends ClientRequestChannel {
  private readonly send: RequestChannelOptions['request'];

  constructor(options: RequestChannelOptions) {
    super(options);
    this.send = options.request;
  }

  async call(op: string, params: object, timeoutMs: number): Promise<unknown> {
    const call = this.begin(op, params);
    for (;;) {
      try {
        return call.open(await this.send(call.subject, await call.body(timeoutMs), timeoutMs));
      } catch (err) {
        if (!call.reopen(err)) throw err;
      }
    }
  }
}
