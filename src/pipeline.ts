/**
 * One request, start to finish:
 *
 *   admit (in-flight bounds) → authenticate → admit the caller (its share and the request's cost)
 *   → run the op (reserving its reply bytes before the store builds them) → encode the reply
 *   → seal it when the request came through a session (docs/protocol.md §12)
 *
 * Never throws: every failure becomes an error reply in the request's encoding. The
 * Answer carries the reply and the audit facts of it (src/answer.ts). A held watch
 * (docs/protocol.md §14) gives a Later of its Answer instead, built the same way once the
 * watch is answered.
 */
import { encodeBody, InternalError, SecretSvcError, sniffEncoding, TooLargeError, type Op } from '@secret-svc/protocol';
import { answerOf, type Answer } from './answer.js';
import { Authenticator, type AuthenticatorOptions, type Known } from './auth/authenticate.js';
import type { Config } from './config.js';
import { Later } from './later.js';
import { InFlightLimits, workOf, type Admission } from './limits.js';
import type { Logger } from './log.js';
import type { RunOp } from './ops/context.js';
import { largestSealableReply, sealSuccessReply } from './session/reply.js';
import type { SessionReplyKeys } from './session/request.js';
import type { TicketBox } from './session/tickets.js';

export interface PipelineDeps {
  config: Config;
  runOp: RunOp;
  log: Logger;
  /** The largest reply the bus takes (the server's max_payload). */
  maxReplyBytes: () => number;
  /** The worker's TicketBox (shared with the `session` op): opens session requests' tickets. */
  tickets: TicketBox;
  /** The worker's clock (epoch ms); injectable for tests. */
  now?: () => number;
  /** Refuses a verified caller (revocation), before its signature and the resend cache. */
  checkCaller?: AuthenticatorOptions['checkCaller'];
  /** Runs first; throws to refuse the request (the audit trail's full queue: 503). */
  intake?: () => void;
}

export class RequestPipeline {
  private readonly auth: Authenticator;
  private readonly limits: InFlightLimits;
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    const { config } = deps;
    this.now = deps.now ?? Date.now;
    this.limits = new InFlightLimits(config, this.now);
    this.auth = new Authenticator({
      ...config, tickets: deps.tickets, checkCaller: deps.checkCaller,
      precheck: (caller, op) => this.limits.precheck(caller.keyId, op === 'session'),
    });
  }

  /**
   * `requestId` only labels log lines (a worker-local sequence number). A held watch gives a
   * Later, settled with its answer; the request's frames are gone by then (src/later.ts).
   */
  async handle(op: Op, body: Uint8Array, requestId = 0): Promise<Answer | Later<Answer>> {
    const known: Known = { encoding: sniffEncoding(body) };
    let admission: Admission | undefined;
    try {
      this.deps.intake?.();
      admission = this.limits.admit(body.byteLength);
      const nowMs = this.now();
      const { caller, request, encoding, nonce, session } = this.auth.authenticate(op, body, nowMs, known);
      admission.admitCaller(caller.keyId, workOf(op, request), op === 'session');
      const max = this.deps.maxReplyBytes();
      // A session reply grows when sealed: its budget is decided before any value is opened.
      const replyBudgetBytes = session ? largestSealableReply(max, encoding) : max;
      const release = () => admission?.release();
      const result = await this.deps.runOp(op, { caller, nonce, nowMs, replyBudgetBytes, replyLimitBytes: max, release, replyBytes: admission.reply }, request);
      if (result instanceof Later) return this.later(op, known, session, max, requestId, result);
      return this.succeeded(op, known, session, max, result);
    } catch (err) {
      return this.failed(op, known, requestId, err);
    } finally {
      admission?.release();
    }
  }

  private succeeded(op: Op, known: Known, session: SessionReplyKeys | undefined, max: number, result: object): Answer {
    // A resent session write gets its stored reply sealed afresh here, like any other.
    const encoded = encodeBody(result, known.encoding);
    const reply = session ? sealSuccessReply(session, encoded, known.encoding) : encoded;
    // NATS refuses a message over its max_payload; say so instead of leaving the caller to time out.
    if (reply.byteLength > max) throw new TooLargeError(`reply would be ${reply.byteLength} bytes, over the bus limit of ${max}: ask for fewer keys`);
    return answerOf(op, known, { body: reply, error: undefined, decidedAtMs: this.now(), result });
  }

  private failed(op: Op, known: Known, requestId: number, err: unknown): Answer {
    const error = err instanceof SecretSvcError ? err : this.unexpected(requestId, op, err);
    if (error.status >= 500 && err instanceof SecretSvcError) {
      this.deps.log.error({ req: requestId, op, slug: known.caller?.slug, status: error.status, err: error.message }, 'request failed');
    }
    return answerOf(op, known, { body: encodeBody(error.toBody(), known.encoding), error, decidedAtMs: this.now() });
  }

  /** A held watch's answer, built when it settles from what this keeps: not the request's bytes or frames. */
  private later(op: Op, known: Known, request: SessionReplyKeys | undefined, max: number, requestId: number, result: Later<object>): Later<Answer> {
    const answer = new Later<Answer>();
    // A msgpack session request's MAC is a view into the message's bytes (and nats.js' read
    // buffer): a copy, or every held session watch would keep them.
    const session = request && { replyKey: request.replyKey, mac: Uint8Array.from(request.mac) };
    result.whenSettled((outcome) => {
      let settled: Answer;
      try {
        if (outcome instanceof Error) throw outcome;
        settled = this.succeeded(op, known, session, max, outcome);
      } catch (err) {
        settled = this.failed(op, known, requestId, err);
      }
      answer.settle(settled);
    });
    return answer;
  }

  private unexpected(requestId: number, op: Op, err: unknown): SecretSvcError {
    // Only the error's class and message are logged; the worker never builds a message from a value.
    this.deps.log.error({ req: requestId, op, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'unexpected error');
    return new InternalError('internal error');
  }
}
