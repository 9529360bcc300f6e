/**
 * The reply step's audit gate (docs/protocol.md §11): every answered request becomes one event,
 * made from its Answer (which is its audit facts; the trail's buildEvent keeps only those).
 *
 * - A success that carries a value (read) or confirms a change (create, update, delete,
 *   revoke, unrevoke) is released only once JetStream acknowledged its event; when that
 *   fails the caller gets 503 `unavailable` instead (recorded too). The op already ran and
 *   its store kept the decided reply with the nonce, so a resend of that write gets the
 *   decided reply, audited again — never this 503. A change's own event (200) is still
 *   stored once the stream takes it (§15): the trail never holds only the 503.
 * - Every other reply is recorded without waiting; while the trail's queue is full, new
 *   requests are refused 503 at intake (`intake`, run first by the pipeline).
 */
import { encodeBody, UnavailableError, type Op } from '@secret-svc/protocol';
import type { Logger } from '../log.js';
import type { Answer } from '../answer.js';
import type { AuditTrail } from './trail.js';

/** Ops whose success reply confirms a change: applied before the gate, whatever the reply becomes. */
const CHANGE_OPS: ReadonlySet<Op> = new Set<Op>(['create', 'update', 'delete', 'revoke', 'unrevoke']);
/** Ops whose success reply carries a value or confirms a change. */
const WAITED_OPS: ReadonlySet<Op> = new Set<Op>(['read', ...CHANGE_OPS]);

/** This reply may leave only once its event is stored. */
export function mustWait(answer: Pick<Answer, 'op' | 'status'>): boolean {
  return answer.status === 200 && WAITED_OPS.has(answer.op);
}

export class AuditedReplies {
  constructor(private readonly trail: AuditTrail, private readonly log: Logger, private readonly now: () => number = Date.now) {}

  /** The worker id events carry (the micro service instance id). */
  setWorker(id: string): void {
    this.trail.setWorker(id);
  }

  /** Refuses a new request (503) while the trail's queue is full; the pipeline calls it first (its `intake`). */
  readonly intake = (): void => {
    if (this.trail.isFull()) throw new UnavailableError('audit trail is behind: too many events wait to be stored, retry');
  };

  /** The answer to send: `answer` once its event is stored or queued, or a 503 when it must wait and cannot be stored. */
  async settle(answer: Answer): Promise<Answer> {
    if (!mustWait(answer)) {
      this.trail.record(answer);
      return answer;
    }
    try {
      // A change's event stays queued when it cannot wait (docs/protocol.md §15): the trail
      // then holds both the applied write (200) and the 503 its caller got.
      await this.trail.recordAndWait(answer, CHANGE_OPS.has(answer.op));
      return answer;
    } catch (err) {
      const message = err instanceof UnavailableError ? err.message : 'audit trail unavailable';
      // The trail warns once per outage; one line per withheld reply only at debug.
      this.log.debug({ op: answer.op, slug: answer.slug, key: answer.key, err: (err as Error).message }, 'reply withheld: its audit event was not stored');
      const refused = this.unavailable(answer, `${message}; retry`);
      this.trail.record(refused);
      return refused;
    }
  }

  /** A 503 reply that keeps who asked and what for (never the withheld body, version or count). */
  private unavailable(from: Answer, message: string): Answer {
    const error = new UnavailableError(message);
    const { version: _version, count: _count, ...asked } = from;
    return { ...asked, body: encodeBody(error.toBody(), from.encoding), status: error.status, code: error.code, error, time: new Date(this.now()) };
  }
}
