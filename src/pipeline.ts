/**
 * One request, start to finish:
 *
 *   admit (in-flight bounds) → authenticate → admit the caller (its share and the request's cost)
 *   → run the op (reserving its reply bytes before the store builds them) → encode the reply
 *   → seal it when the request came through a session (docs/protocol.md §12)
 *
 * Never throws: every failure becomes an error reply in the request's encoding. The
 * Outcome says what was answered and to whom (the audit event is made from it).
 */
import {
  encodeBody, InternalError, SecretSvcError, sniffEncoding, TooLargeError,
  type AnyRequest, type Encoding, type Op,
} from '@secret-svc/protocol';
import { Authenticator, type AuthenticatorOptions, type Known } from './auth/authenticate.js';
import type { Caller } from './auth/caller.js';
import type { Config } from './config.js';
import { InFlightLimits, workOf, type Admission } from './limits.js';
import type { Logger } from './log.js';
import type { RunOp } from './ops/context.js';
import { selectorOf, type AuditSelector } from './audit/event.js';
import { largestSealableReply, sealSuccessReply } from './session/reply.js';
import type { TicketBox } from './session/tickets.js';

/** What was asked for, as far as the request object was read (audit: key / keys / prefix). */
export interface Asked {
  key?: string;
  keys?: string[];
  prefix?: string;
  /** revoke / unrevoke: the selector named. */
  selector?: AuditSelector;
  /** update: the version whose value it restores (a rollback). */
  rollbackOf?: number;
}

/** One answered request. */
export interface Outcome {
  op: Op;
  encoding: Encoding;
  /** The reply bytes, in `encoding`. */
  body: Uint8Array;
  /** 200, or the error's status. */
  status: number;
  error: SecretSvcError | undefined;
  /** Set once the credential verified (also when a later step refused the request). */
  caller: Caller | undefined;
  /** Set once the request object was read. */
  asked: Asked | undefined;
  /** Success of read with `key`, create, update: the version read or written. */
  version: number | undefined;
  /** Success of list: how many secrets the page held; of watch: how many changes it reported. */
  count: number | undefined;
  /** When the reply was decided (epoch ms, the worker's clock). */
  decidedAtMs: number;
  /** The request came in a session envelope (a success body is then `{sealed}`). */
  session: boolean;
}

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

  get inFlight(): InFlightLimits['inFlight'] {
    return this.limits.inFlight;
  }

  /** `requestId` only labels log lines (a worker-local sequence number). */
  async handle(op: Op, body: Uint8Array, requestId = 0): Promise<Outcome> {
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
      // A resent session write gets its stored reply sealed afresh here, like any other.
      const encoded = encodeBody(result, encoding);
      const reply = session ? sealSuccessReply(session, encoded, encoding) : encoded;
      // NATS refuses a message over its max_payload; say so instead of leaving the caller to time out.
      if (reply.byteLength > max) throw new TooLargeError(`reply would be ${reply.byteLength} bytes, over the bus limit of ${max}: ask for fewer keys`);
      return { ...this.outcome(op, known, reply, undefined), ...resultFacts(op, request, result) };
    } catch (err) {
      const error = err instanceof SecretSvcError ? err : this.unexpected(requestId, op, err);
      if (error.status >= 500 && err instanceof SecretSvcError) {
        this.deps.log.error({ req: requestId, op, slug: known.caller?.slug, status: error.status, err: error.message }, 'request failed');
      }
      return this.outcome(op, known, encodeBody(error.toBody(), known.encoding), error);
    } finally {
      admission?.release();
    }
  }

  private outcome(op: Op, known: Known, body: Uint8Array, error: SecretSvcError | undefined): Outcome {
    return {
      op, encoding: known.encoding, body, status: error ? error.status : 200, error,
      caller: known.caller, asked: known.request && askedFor(op, known.request), version: undefined, count: undefined,
      decidedAtMs: this.now(), session: known.session === true,
    };
  }

  private unexpected(requestId: number, op: Op, err: unknown): SecretSvcError {
    // Only the error's class and message are logged; the worker never builds a message from a value.
    this.deps.log.error({ req: requestId, op, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'unexpected error');
    return new InternalError('internal error');
  }
}

/** Ops whose request object is a selector (docs/protocol.md §10). */
const SELECTOR_OPS: ReadonlySet<Op> = new Set<Op>(['revoke', 'unrevoke']);

function askedFor(op: Op, request: AnyRequest): Asked {
  const selector = SELECTOR_OPS.has(op) ? selectorOf(request) : undefined;
  return {
    ...(selector ? { selector } : {}),
    ...('key' in request && request.key !== undefined ? { key: request.key } : {}),
    ...('keys' in request && request.keys !== undefined ? { keys: request.keys } : {}),
    ...('prefix' in request && request.prefix !== undefined ? { prefix: request.prefix } : {}),
    ...('rollbackOf' in request && request.rollbackOf !== undefined ? { rollbackOf: request.rollbackOf } : {}),
  };
}

/** The version and count a success reply reports (docs/protocol.md §11). */
function resultFacts(op: Op, request: AnyRequest, result: object): Pick<Outcome, 'version' | 'count'> {
  const single = op === 'create' || op === 'update' || (op === 'read' && 'key' in request && request.key !== undefined);
  return {
    version: single && 'version' in result && typeof result.version === 'number' ? result.version : undefined,
    count: op === 'list' && 'secrets' in result && Array.isArray(result.secrets) ? result.secrets.length
      : op === 'watch' && 'changes' in result && Array.isArray(result.changes) ? result.changes.length : undefined,
  };
}
