/**
 * NATS wiring: the `secret-svc` micro service with one endpoint per operation in the queue
 * group. Handlers hand each message to the async pipeline at once (nats.js calls them
 * inline), and stop() drains: no new requests, every accepted one answered.
 */
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import {
  ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, OPS, SERVICE_NAME, subjectFor, type Op,
} from '@secret-svc/protocol';
import type { RequestHandler } from './handler.js';
import { VERSION } from './version.js';
import type { Logger } from './log.js';
import { EndpointStats } from './stats.js';

/** The micro service version is the package's. */
export const SERVICE_VERSION = VERSION;

export interface ServiceOptions {
  subjectPrefix: string;
  queue: string;
}

export class SecretService {
  private readonly inFlight = new Set<Promise<void>>();
  private requestSeq = 0;

  private constructor(private readonly service: Service, readonly stats: Map<Op, EndpointStats>) {}

  static async start(nc: NatsConnection, handler: RequestHandler, o: ServiceOptions, log: Logger): Promise<SecretService> {
    const service = await nc.services.add({
      name: SERVICE_NAME,
      version: SERVICE_VERSION,
      description: 'Secret store: signed requests, sealed values (protocol v1)',
      queue: o.queue,
      metadata: { protocol: 'secret-svc/v1' },
    });
    const stats = new Map<Op, EndpointStats>();
    const svc = new SecretService(service, stats);
    for (const op of OPS) {
      const subject = subjectFor(o.subjectPrefix, op);
      const endpointStats = new EndpointStats(op, subject, o.queue);
      stats.set(op, endpointStats);
      service.addEndpoint(op, {
        subject,
        queue: o.queue,
        metadata: { op },
        handler: (err, msg) => {
          if (err) {
            log.error({ op, err: err.message }, 'endpoint subscription failed');
            return;
          }
          svc.dispatch(op, msg, handler, endpointStats, log);
        },
      });
      installStats(service, op, endpointStats);
    }
    // The server has our subscriptions once this returns: "serving" is then true.
    await nc.flush();
    return svc;
  }

  private dispatch(op: Op, msg: ServiceMsg, handler: RequestHandler, stats: EndpointStats, log: Logger): void {
    const started = process.hrtime.bigint();
    const requestId = ++this.requestSeq;
    stats.inFlight++;
    const work = handler
      .handle(op, msg.data, requestId)
      .then((reply) => {
        const { error } = reply;
        if (error) {
          const h = natsHeaders();
          h.set(ERROR_CODE_HEADER, String(error.status));
          h.set(ERROR_MESSAGE_HEADER, headerSafe(error.message));
          msg.respond(reply.body, { headers: h });
        } else {
          msg.respond(reply.body);
        }
        const durationNs = process.hrtime.bigint() - started;
        stats.record(durationNs, error);
        log.debug({ req: requestId, op, slug: reply.slug, key: reply.key, status: error ? error.status : 200, ms: Number(durationNs) / 1e6 }, 'request');
      })
      .catch((err: unknown) => log.error({ req: requestId, op, err: err instanceof Error ? err.message : String(err) }, 'reply failed'))
      .finally(() => {
        stats.inFlight--;
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  /** Stops taking requests and waits until every accepted one is answered. */
  async stop(): Promise<void> {
    await this.service.stop();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/** A header value must be one line of visible ASCII; messages may quote caller input. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

/** Puts our stats object where nats.js reads endpoint stats from (its `handlers` list). */
function installStats(service: Service, op: Op, stats: EndpointStats): void {
  const handlers = (service as unknown as { handlers?: { name: string; stats: unknown }[] }).handlers;
  const endpoint = handlers?.find((h) => h.name === op);
  if (!endpoint) throw new Error(`nats service internals changed: no endpoint "${op}" to attach stats to`);
  endpoint.stats = stats;
}
