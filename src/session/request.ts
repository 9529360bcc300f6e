/**
 * The session branch of authentication (docs/protocol.md §12), after the envelope's shape
 * (parseRequestEnvelope, 400) and in the contract's order:
 *
 *   `session` op inside a session → 400
 *   ticket opens (for this deployment, §15) and has not expired → 401
 *   the credential behind it: its issuer still trusted (§15), expiry (with skew), then the
 *   caller check (revocation) → 401
 *   MAC, in constant time → 401
 *   payload opens and is in the envelope's encoding → 400
 *
 * What follows (op = subject, schema, aud, ts, nonce) is the same as for a signed request.
 */
import {
  BadRequestError, checkSessionMac, openSessionPayload, toBase64url, UnauthenticatedError,
  type Encoding, type SessionEnvelope,
} from '@secret-svc/protocol/internal';
import type { Caller } from '../auth/caller.js';
import type { TicketBox } from './tickets.js';

export interface SessionGateOptions {
  tickets: TicketBox;
  /** SECRET_SVC_ISSUERS: a ticket whose credential's issuer left it no longer works (§15). */
  issuers: ReadonlySet<string>;
  maxClockSkewMs: number;
  /**
   * Runs once the ticket named the caller, before the MAC; throws to refuse. Revocation
   * (docs/protocol.md §10) plugs in here, the same hook as for signed requests.
   */
  checkCaller?: (caller: Caller, nowMs: number) => void;
}

/** A session request that passed every session check. */
export interface CheckedSessionRequest {
  caller: Caller;
  /** The decoded request object, not yet checked against its op's schema. */
  request: unknown;
  /**
   * Identifies ticket + sealed payload bytes (the MAC covers both), for the resend cache:
   * the same sealed bytes resent give the same digest; the same object sealed again does not.
   */
  digest: string;
  /** What sealing the success reply needs (sealSuccessReply). */
  reply: SessionReplyKeys;
}

export interface SessionReplyKeys {
  replyKey: Uint8Array;
  /** The request's MAC: the sealed reply starts with it. */
  mac: Uint8Array;
}

export class SessionGate {
  constructor(private readonly o: SessionGateOptions) {}

  /**
   * Checks a session envelope that arrived on `op`'s subject. Throws the protocol error of the
   * first check that fails; `named` is told the caller as soon as the ticket named it (before
   * the checks that may still refuse it: authentication records who asked for the audit).
   */
  check(op: string, envelope: SessionEnvelope, encoding: Encoding, nowMs: number, named?: (caller: Caller) => void): CheckedSessionRequest {
    if (op === 'session') throw new BadRequestError('a session cannot be opened inside a session: sign the session request');
    const ticket = this.o.tickets.open(envelope.ticket, nowMs);
    const { caller } = ticket;
    // As for a signed request, a credential of an untrusted issuer never names the caller.
    if (!this.o.issuers.has(caller.issuer)) throw new UnauthenticatedError('credential issuer is not trusted');
    named?.(caller);
    if (caller.expiresAtMs !== null && nowMs > caller.expiresAtMs + this.o.maxClockSkewMs) {
      throw new UnauthenticatedError('credential has expired');
    }
    this.o.checkCaller?.(caller, nowMs);
    checkSessionMac(ticket.keys.macKey, envelope);
    const request = openSessionPayload(ticket.keys.requestKey, envelope, encoding);
    return {
      caller,
      request,
      // A getter: only writes need it (reads skip the encoding).
      get digest() { return sessionRequestDigest(envelope.mac); },
      reply: { replyKey: ticket.keys.replyKey, mac: envelope.mac },
    };
  }
}

/**
 * The MAC, a keyed hash of ticket and sealed payload, already identifies the exact bytes;
 * cut to the length of a signed request's digest. (A different key and ticket for the same
 * nonce cannot collide with it: nonces are per caller key, and a MAC is only accepted once checked.)
 */
export function sessionRequestDigest(mac: Uint8Array): string {
  return toBase64url(mac).slice(0, 22);
}
