/**
 * The audit trail of one worker (docs/protocol.md §11). Two ways to record an answered request:
 *
 * - `recordAndWait(facts)` for replies that carry a value or confirm a change: resolves once
 *   JetStream acknowledged the event, or throws UnavailableError (→ 503) after 2 s.
 * - `record(facts)` for every other reply: handed to the publish queue (queue.ts), many
 *   acknowledgements in flight, retried until stored (never dropped while the worker runs).
 *   `isFull()` says the queue reached its bound: the pipeline then refuses new requests with 503.
 *   Requests refused before their credential verified (no `slug`) are folded into one event
 *   per second per (op, status, code) with a `count`; those refused 401 after it verified,
 *   per (op, status, code, keyId) (fold.ts).
 *
 * A publish that finds no stream (NATS answers "no responders") creates it again, so a
 * deleted stream or a JetStream outage heals without a restart.
 *
 * Integrity (docs/protocol.md §15): the stream's settings are checked at start and every
 * `checkMs`. While they are weakened (stream.ts, weakness()) nothing is published into it:
 * recordAndWait fails at once (503) and queued events wait; the worker logs the difference
 * and changes nothing; once an operator restores the stream, the queue is stored.
 * An applied write whose event was not stored in time stays queued (same message id, so it
 * is stored once): the trail never holds only the 503 of a write that happened.
 */
import { nuid, type JetStreamManager, type NatsConnection, type NatsError } from 'nats';
import { UnavailableError } from '@secret-svc/protocol';
import type { Logger } from '../log.js';
import { auditSubject, buildEvent, isFolded, type AuditEvent, type AuditFacts } from './event.js';
import { Folder } from './fold.js';
import { AckedPublisher, type Outgoing } from './acks.js';
import { Backoff } from './backoff.js';
import { PublishQueue } from './queue.js';
import type { AuditMode, AuditSettings } from './settings.js';
import {
  AuditStartError, ensureStream, type EnsureResult, isNoJetStream, isStreamNotFound, noJetStreamMessage, replicasFor, streamConfig, weakness,
} from './stream.js';

export interface AuditTrail {
  readonly mode: AuditMode;
  /** Checks JetStream and creates (or adjusts) the stream; throws AuditStartError when it cannot. */
  start(): Promise<void>;
  /** The worker id events carry: the micro service instance id, known once the service started. */
  setWorker(id: string): void;
  /**
   * Resolves once the event is stored; UnavailableError when that does not happen within 2 s
   * (at once while the stream is weakened). `applied`: the event stands for a change already
   * made, so when it is not stored in time it stays queued until it is (docs/protocol.md §15).
   */
  recordAndWait(facts: AuditFacts, applied?: boolean): Promise<void>;
  /** Queues the event (or folds it, without a slug); never throws for a full queue. */
  record(facts: AuditFacts): void;
  /** The queue is at its bound: answer new requests 503 (and record that with `record`, which folds it). */
  isFull(): boolean;
  /** Events recorded but not yet stored (queued, in flight, folded). */
  pending(): number;
  /** Stores what is queued (waiting at most `stopWaitMs`); call before the connection closes. */
  stop(): Promise<void>;
}

export interface AuditTrailOptions {
  subjectPrefix: string;
  log: Logger;
  /** How long recordAndWait waits for the acknowledgement (§11: 2 s). */
  waitMs?: number;
  /** Queued events beyond which isFull() is true. */
  capacity?: number;
  /** Publishes of queued events awaiting their acknowledgement at once. */
  maxInFlight?: number;
  /** Folding window. */
  foldMs?: number;
  /** How long stop() waits for the queue to be stored. */
  stopWaitMs?: number;
  /** How long start() waits for a JetStream that does not answer yet (a cluster electing its leader). */
  startWaitMs?: number;
  /** How often the stream's settings are checked (§15: at least every 30 s). */
  checkMs?: number;
}

export function createAuditTrail(nc: NatsConnection, settings: AuditSettings, options: AuditTrailOptions): AuditTrail {
  return settings.mode === 'off' ? new OffAuditTrail() : new JetStreamAuditTrail(nc, settings, options);
}

/** SECRET_SVC_AUDIT=off: the same interface, recording nothing. */
export class OffAuditTrail implements AuditTrail {
  readonly mode = 'off' as const;
  async start(): Promise<void> {}
  setWorker(): void {}
  async recordAndWait(): Promise<void> {}
  record(): void {}
  isFull(): boolean { return false; }
  pending(): number { return 0; }
  async stop(): Promise<void> {}
}

const DEFAULT_CHECK_MS = 10_000;
/** At most this many unstored events are written to the log at stop (the count always). */
const LOGGED_AT_STOP = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export class JetStreamAuditTrail implements AuditTrail {
  readonly mode = 'jetstream' as const;
  private readonly waitMs: number;
  private readonly capacity: number;
  private readonly foldMs: number;
  private readonly stopWaitMs: number;
  private readonly startWaitMs: number;
  private readonly checkMs: number;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  /** What weakens the stream, while it is weakened. */
  private weakened: string[] | undefined;
  private config: ReturnType<typeof streamConfig>;
  private readonly log: Logger;
  private readonly subjectPrefix: string;
  private jsm: JetStreamManager | undefined;
  private acks: AckedPublisher | undefined;
  private worker = nuid.next();
  private readonly idPrefix = nuid.next();
  private seq = 0;
  private readonly queue: PublishQueue;
  private ensuring: Promise<void> | undefined;
  private readonly folder = new Folder();
  private foldTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private closed = false;
  private failing = false;

  constructor(private readonly nc: NatsConnection, private readonly settings: AuditSettings, o: AuditTrailOptions) {
    this.subjectPrefix = o.subjectPrefix;
    this.log = o.log;
    this.waitMs = o.waitMs ?? 2000;
    this.capacity = o.capacity ?? 10_000;
    this.foldMs = o.foldMs ?? 1000;
    this.stopWaitMs = o.stopWaitMs ?? 5000;
    this.startWaitMs = o.startWaitMs ?? 30_000;
    this.checkMs = o.checkMs ?? DEFAULT_CHECK_MS;
    this.config = streamConfig(settings, o.subjectPrefix);
    this.queue = new PublishQueue({
      maxInFlight: o.maxInFlight ?? 512,
      waitMs: this.waitMs,
      publisher: () => this.acks,
      paused: () => this.weakened !== undefined,
      stored: () => this.stored(),
      failed: (err) => {
        this.failed(err);
        if (isNoJetStream(err)) this.ensure().catch(() => {});
      },
    });
  }

  async start(): Promise<void> {
    // A JetStream cluster answers only once it has elected its leader (seconds after it
    // starts): retry what looks like that; "no responders" means no JetStream at all.
    const deadline = Date.now() + this.startWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.setUp();
        break;
      } catch (err) {
        if (err instanceof AuditStartError || Date.now() > deadline) throw err instanceof AuditStartError ? err : this.startError(err);
        if (attempt === 0) this.log.info({ err: (err as Error).message }, 'audit trail: waiting for JetStream');
        await sleep(250);
      }
    }
    this.foldTimer = setInterval(() => this.flushFolds(), this.foldMs);
    this.foldTimer.unref();
    await this.checkIntegrity();
    this.checkTimer = setInterval(() => void this.checkIntegrity(), this.checkMs);
    this.checkTimer.unref();
    this.queue.pump(); // anything recorded before start
  }

  /** Throws AuditStartError for what waiting does not cure, anything else for what it may. */
  private async setUp(): Promise<void> {
    let jsm: JetStreamManager;
    try {
      jsm = await this.nc.jetstreamManager({ timeout: this.waitMs });
    } catch (err) {
      const e = err as NatsError;
      if (isNoJetStream(e) || e.api_error?.err_code === 10039) throw new AuditStartError(noJetStreamMessage(this.nc.getServer()));
      if (e.isPermissionError?.()) throw this.startError(e);
      throw e;
    }
    this.config = streamConfig(this.settings, this.subjectPrefix, replicasFor(this.nc.info));
    let setup;
    try {
      setup = await ensureStream(jsm, this.config, true);
    } catch (err) {
      const e = err as NatsError;
      // A JetStream API error (subjects overlap another stream, settings it refuses, ...) stays.
      if (e.api_error && e.api_error.err_code !== 10008) throw this.startError(e);
      throw e;
    }
    this.jsm = jsm;
    this.acks ??= new AckedPublisher(this.nc, (err, subject) => {
      // Nothing can be acknowledged any more: every audited reply gets 503 and says why here.
      this.log.error({ subject, err: err.message },
        'audit trail: NATS refused the subscription for JetStream acknowledgements; check that this NATS user may subscribe under its inbox prefix (NATS_INBOX_PREFIX, SECURITY.md)');
    });
    const replicas = this.warnIfOneReplica(setup) ? 1 : this.config.num_replicas;
    this.log.info({ stream: this.settings.stream, subjects: this.config.subjects, maxAgeSeconds: this.settings.maxAgeSeconds, maxBytes: this.settings.maxBytes, replicas, setup }, 'audit trail ready');
  }

  private startError(err: unknown): AuditStartError {
    return new AuditStartError(`audit trail: cannot set up the stream ${this.settings.stream} (SECRET_SVC_AUDIT_STREAM) for ${this.config.subjects![0]}: ${(err as Error).message}`);
  }

  setWorker(id: string): void {
    this.worker = id;
  }

  async recordAndWait(facts: AuditFacts, applied = false): Promise<void> {
    const item = this.outgoing(buildEvent(facts, this.worker));
    if (this.weakened) {
      if (applied) this.requeue(item);
      throw new UnavailableError('audit trail unavailable: its stream\'s settings were weakened; an operator must restore them');
    }
    const deadline = Date.now() + this.waitMs;
    const backoff = new Backoff();
    let lastErr: unknown;
    while (this.acks && Date.now() < deadline) {
      try {
        await this.acks.publish(item, Math.max(1, deadline - Date.now()));
        this.stored();
        return;
      } catch (err) {
        lastErr = err;
        if (isNoJetStream(err)) await Promise.race([this.ensure().catch((e: unknown) => { lastErr = e; }), sleep(deadline - Date.now())]);
      }
      await sleep(Math.min(backoff.next(), deadline - Date.now()));
    }
    this.failed(lastErr);
    // It may have been stored late: the same message id makes a second store a duplicate JetStream drops.
    if (applied) this.requeue(item);
    throw new UnavailableError(`audit trail unavailable: the event could not be stored within ${this.waitMs / 1000} s`);
  }

  record(facts: AuditFacts): void {
    const event = buildEvent(facts, this.worker);
    if (isFolded(facts)) this.folder.add(event);
    else this.enqueue(event);
  }

  isFull(): boolean {
    return this.queue.size >= this.capacity;
  }

  pending(): number {
    return this.queue.size + this.folder.size;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.foldTimer);
    clearInterval(this.checkTimer);
    this.flushFolds();
    this.queue.retryNow();
    if (this.queue.size > 0) await Promise.race([this.queue.drained(), sleep(this.stopWaitMs)]);
    this.closed = true;
    const { unstored, inFlight } = this.queue.close();
    if (unstored.length > 0 || inFlight > 0) {
      // Events hold no secret (see event.ts): the log keeps what the trail could not.
      this.log.error({
        unstored: unstored.length, inFlight,
        events: unstored.slice(0, LOGGED_AT_STOP).map((o) => JSON.parse(Buffer.from(o.data).toString('utf8')) as AuditEvent),
      }, 'audit trail: events not stored before stop');
    }
  }

  private outgoing(event: AuditEvent): Outgoing {
    return { subject: auditSubject(this.subjectPrefix, event.op), data: Buffer.from(JSON.stringify(event)), id: `${this.idPrefix}-${++this.seq}` };
  }

  private enqueue(event: AuditEvent): void {
    this.requeue(this.outgoing(event));
  }

  private requeue(item: Outgoing): void {
    if (this.queue.push(item)) return;
    this.log.error({ event: JSON.parse(Buffer.from(item.data).toString('utf8')) as AuditEvent }, 'audit trail: event recorded after stop');
  }

  private flushFolds(): void {
    for (const event of this.folder.take()) this.enqueue(event);
  }

  /** A stored event: the trail works; resume queued events at once if they were waiting to retry. */
  private stored(): void {
    this.queue.resetBackoff();
    if (this.failing) {
      this.failing = false;
      this.log.info({ stream: this.settings.stream }, 'audit trail: storing events again');
      this.queue.retryNow();
    }
  }

  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log.warn({ stream: this.settings.stream, err: (err as Error | undefined)?.message },
      'audit trail: JetStream is not storing events; replies that carry a value or confirm a change get 503 until it does');
  }

  /** Reads the stream's settings and enters or leaves the weakened state (§15); one check at a time. */
  private checkIntegrity(): Promise<void> {
    this.checking ??= this.readIntegrity().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private async readIntegrity(): Promise<void> {
    const jsm = this.jsm;
    if (!jsm || this.closed) return;
    let existing;
    try {
      existing = (await jsm.streams.info(this.config.name)).config;
    } catch (err) {
      // A missing stream is created again (a new one is not weakened); an outage is the publishes' to report.
      if (!isStreamNotFound(err)) return;
      try {
        await this.ensure();
        existing = (await jsm.streams.info(this.config.name)).config;
      } catch {
        return;
      }
    }
    const problems = weakness(existing, this.config);
    if (problems.length === 0) {
      if (!this.weakened) return;
      this.weakened = undefined;
      this.log.info({ stream: this.settings.stream }, 'audit trail: the stream\'s settings are restored; storing events again');
      this.queue.retryNow();
      return;
    }
    const changed = this.weakened?.join('\n') !== problems.join('\n');
    this.weakened = problems;
    if (changed) {
      this.log.error({ stream: this.settings.stream, problems },
        `audit trail: the stream ${this.settings.stream} is weakened (${problems.join('; ')}); replies that carry a value or confirm a change `
        + 'get 503 and events wait until an operator restores it (the worker does not change it): file storage, limits retention, '
        + 'discard old, deny_delete and deny_purge, limits no tighter than SECRET_SVC_AUDIT_MAX_BYTES / _MAX_AGE and none other');
    }
  }

  /** Says so when the stream got one replica where more were asked for; true then. */
  private warnIfOneReplica(setup: EnsureResult): boolean {
    if (setup !== 'created with one replica') return false;
    this.log.warn({ stream: this.settings.stream, wanted: this.config.num_replicas },
      'audit trail created with one replica: JetStream could not place more; raise it with `nats stream edit` once the cluster is whole');
    return true;
  }

  /** Creates the stream when it is missing; one attempt at a time. */
  private ensure(): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) return Promise.resolve();
    this.ensuring ??= ensureStream(jsm, this.config, false)
      .then((result) => {
        if (result === 'created' || result === 'created with one replica') this.log.warn({ stream: this.settings.stream }, 'audit trail: the stream was missing; created it again');
        this.warnIfOneReplica(result);
      })
      .finally(() => { this.ensuring = undefined; });
    return this.ensuring;
  }
}
