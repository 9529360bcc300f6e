/**
 * NATS wiring: the `secret-svc` micro service with one endpoint per operation in the queue
 * group. Handlers hand each message to the async pipeline at once (nats.js calls them
 * inline), reply with the error headers on errors, and stop() drains: no new requests,
 * every accepted one answered. A reply leaves only through the audit gate (docs/protocol.md §11),
 * and only to an allowed reply subject (§15): any other request is dropped and counted unread.
 */
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import {
  ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, OPS, SERVICE_NAME, subjectFor, type Op,
} from '@secret-svc/protocol';
import type { AuditedReplies } from './audit/reply-gate.js';
import type { Logger } from './log.js';
import type { Answer } from './answer.js';
import { Later } from './later.js';
import type { RequestPipeline } from './pipeline.js';
import { replyAllowed } from './reply-subjects.js';
import { EndpointStats } from './stats.js';
import { VERSION } from './version.js';

export interface ServiceOptions {
  subjectPrefix: string;
  queue: string;
  /** SECRET_SVC_REPLY_PREFIXES (docs/protocol.md §15). */
  replyPrefixes: readonly string[];
}

/** At most one log line per this many ms about dropped requests (a flood must not flood the log). */
const DROP_LOG_MS = 1000;

export class SecretService {
  private readonly inFlight = new Set<Promise<void>>();
  private requestSeq = 0;
  private readonly debug: boolean;
  private dropLoggedAtMs = -Infinity;
  private droppedSinceLog = 0;
  /** Held watches not yet settled (see park). */
  private parked = 0;
  /** Resolved when `parked` reaches 0 (every stop() caller waits on the same one). */
  private unparked: { done: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly service: Service,
    private readonly pipeline: RequestPipeline,
    private readonly audit: AuditedReplies,
    private readonly log: Logger,
    readonly stats: Map<Op, EndpointStats>,
    private readonly replyPrefixes: readonly string[],
  ) {
    this.debug = log.isLevelEnabled('debug');
  }

  static async start(nc: NatsConnection, pipeline: RequestPipeline, audit: AuditedReplies, o: ServiceOptions, log: Logger): Promise<SecretService> {
    const stats = new Map<Op, EndpointStats>(OPS.map((op) => [op, new EndpointStats(op, subjectFor(o.subjectPrefix, op), o.queue)]));
    const bySubject = new Map([...stats.values()].map((s) => [s.subject, s]));
    const service = await nc.services.add({
      name: SERVICE_NAME,
      // The micro service version is the package's.
      version: VERSION,
      description: 'Secret store: signed requests and sessions, sealed values, change feed (protocol v1.2)',
      queue: o.queue,
      metadata: { protocol: 'secret-svc/v1.2' },
      // The public hook for an endpoint's `data`.
      statsHandler: (endpoint) => Promise.resolve(bySubject.get(endpoint.subject)?.data() ?? null),
    });
    reportCounters(service, stats);
    // Before the first endpoint: every event names this instance.
    audit.setWorker(service.info().id);
    const svc = new SecretService(nc, service, pipeline, audit, log, stats, o.replyPrefixes);
    for (const [op, endpointStats] of stats) {
      service.addEndpoint(op, {
        subject: endpointStats.subject,
        queue: o.queue,
        metadata: { op },
        handler: (err, msg) => {
          if (err) {
            log.error({ op, err: err.message }, 'endpoint subscription failed');
            return;
          }
          svc.dispatch(op, msg, endpointStats);
        },
      });
    }
    // The server has our subscriptions once this returns: "serving" is then true.
    await nc.flush();
    return svc;
  }

  private dispatch(op: Op, msg: ServiceMsg, stats: EndpointStats): void {
    // Before anything is read: nothing authenticated, stored, claimed or audited (§15).
    if (!replyAllowed(this.replyPrefixes, msg.reply)) {
      this.drop(op, msg.reply, stats);
      return;
    }
    stats.inFlight++;
    this.track(this.answer(op, msg, stats, ++this.requestSeq));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** One request: pipeline, audit gate, reply, counters. One async frame instead of a chain of then(). */
  private async answer(op: Op, msg: ServiceMsg, stats: EndpointStats, requestId: number): Promise<void> {
    const started = process.hrtime.bigint();
    let parked = false;
    try {
      const answer = await this.pipeline.handle(op, msg.data, requestId);
      // dispatch() let only messages with a reply subject through.
      if (answer instanceof Later) {
        parked = true;
        this.park(op, msg.reply!, stats, requestId, started, answer);
        return;
      }
      // The gate may answer otherwise (503 when the event cannot be stored).
      this.sent(op, msg.reply!, stats, requestId, started, await this.audit.settle(answer));
    } catch (err) {
      this.replyFailed(op, requestId, err);
    } finally {
      if (!parked) stats.inFlight--;
    }
  }

  /**
   * A held watch: this frame ends, and the reply goes when the Later settles, from the reply
   * subject alone (the message, with the request's bytes, is not kept). Counted until
   * then, so stop() waits for it.
   */
  private park(op: Op, subject: string, stats: EndpointStats, requestId: number, started: bigint, later: Later<Answer>): void {
    this.parked++;
    later.whenSettled((outcome) => {
      this.parked--;
      // The pipeline settles its Later with an Answer, never an Error.
      this.track(this.settled(op, subject, stats, requestId, started, outcome as Answer));
      if (this.parked === 0 && this.unparked) {
        this.unparked.resolve();
        this.unparked = undefined;
      }
    });
  }

  /** A held watch's answer, once it has one: the rest of answer(). */
  private async settled(op: Op, subject: string, stats: EndpointStats, requestId: number, started: bigint, answer: Answer): Promise<void> {
    try {
      this.sent(op, subject, stats, requestId, started, await this.audit.settle(answer));
    } catch (err) {
      this.replyFailed(op, requestId, err);
    } finally {
      stats.inFlight--;
    }
  }

  /** The answer, through the audit gate: sent and counted. */
  private sent(op: Op, subject: string, stats: EndpointStats, requestId: number, started: bigint, answer: Answer): void {
    respond(this.nc, subject, answer);
    const durationNs = process.hrtime.bigint() - started;
    stats.record(durationNs, answer.status, answer.error?.code);
    // Not built at all unless debug is on: it would be one more object per request.
    if (this.debug) {
      this.log.debug({
        req: requestId, op, slug: answer.slug, key: answer.key, status: answer.status, ms: Number(durationNs) / 1e6,
      }, 'request');
    }
  }

  private replyFailed(op: Op, requestId: number, err: unknown): void {
    this.log.error({ req: requestId, op, err: err instanceof Error ? err.message : String(err) }, 'reply failed');
  }

  private drop(op: Op, reply: string | undefined, stats: EndpointStats): void {
    stats.dropped();
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.dropLoggedAtMs < DROP_LOG_MS) return;
    this.dropLoggedAtMs = now;
    // The subject is the caller's text: cut and made one line, like an error header.
    this.log.warn({ op, reply: reply ? headerSafe(reply).slice(0, 120) : null, dropped: this.droppedSinceLog, allowed: this.replyPrefixes },
      'request dropped unanswered: its reply subject is not an allowed inbox (SECRET_SVC_REPLY_PREFIXES)');
    this.droppedSinceLog = 0;
  }

  /** Stops taking requests and waits until every accepted one is answered (held watches too: the hub answers them first). */
  async stop(): Promise<void> {
    await this.service.stop();
    for (;;) {
      if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      else if (this.parked > 0) await (this.unparked ??= waiter()).done;
      else return;
    }
  }
}

function waiter(): { done: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  return { done, resolve };
}

/** What ServiceMsg.respond does, from the reply subject alone. */
function respond(nc: NatsConnection, subject: string, answer: Answer): void {
  const { error } = answer;
  if (!error) {
    nc.publish(subject, answer.body);
    return;
  }
  const h = natsHeaders();
  h.set(ERROR_CODE_HEADER, String(error.status));
  h.set(ERROR_MESSAGE_HEADER, headerSafe(error.message));
  nc.publish(subject, answer.body, { headers: h });
}

/** A header value must be one line of visible ASCII; messages may quote caller input. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

/**
 * $SRV.STATS is built by the service's public stats(); nats.js' own counters there see only
 * the synchronous hand-off, so ours replace them (the rest of the reply stays nats.js').
 */
function reportCounters(service: Service, stats: Map<Op, EndpointStats>): void {
  const byName = new Map<string, EndpointStats>(stats);
  const own = service.stats.bind(service);
  service.stats = async () => {
    const reply = await own();
    return {
      ...reply,
      endpoints: reply.endpoints?.map((e) => ({ ...e, ...(byName.get(e.name)?.counters() ?? {}) })),
    };
  };
}
