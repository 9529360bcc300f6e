/**
 * The authentication step: turns (op, body, now) into who asks, the request object typed
 * by its op, the reply encoding and the nonce claim — or throws the protocol error, in
 * this order:
 *
 *   size cap → envelope (signed or session, 400)
 *   signed:  credential (cached verify) → caller check (revocation) → precheck (the caller's
 *            limits) → signature over the exact bytes
 *   session: the SessionGate (ticket → credential exp and the same caller check → MAC → payload)
 *   → request object (schema, op = subject) → aud and ts → nonce claim
 *
 * Both branches yield the same caller and nonce namespace (the caller's key); a session
 * request also yields the keys its success reply is sealed with (docs/protocol.md §12).
 */
import { createHash } from 'node:crypto';
import {
  decodePayload, parseRequestEnvelope, signedBytes, TooLargeError, UndecodableBodyError, UnauthenticatedError, verifyBytes,
  WRITE_OPS, type AnyRequest, type Encoding, type Envelope, type Op, type RequestEnvelope, type RequestOf, type SessionEnvelope,
} from '@secret-svc/protocol/internal';
import { SessionGate, type SessionReplyKeys } from '../session/request.js';
import type { TicketBox } from '../session/tickets.js';
import type { Caller, NonceClaim } from './caller.js';
import { CredentialVerifier } from './credentials.js';
import { checkFreshness, checkRequest } from './request-object.js';

/**
 * How long past its claim a nonce stays remembered, on top of twice the skew: workers whose
 * clocks differ by up to this much still never accept a nonce twice (docs/protocol.md §3).
 */
export const NONCE_MARGIN_MS = 10_000;

export interface Authenticated<O extends Op> {
  caller: Caller;
  request: RequestOf<O>;
  encoding: Encoding;
  nonce: NonceClaim;
  /** Set when the request came in a session envelope: its success reply is sealed with these. */
  session: SessionReplyKeys | undefined;
}

/** What a branch learnt: who asks, the decoded request object, the digest of the exact request bytes. */
interface Verified {
  caller: Caller;
  value: unknown;
  /** Computed only for writes (a resend is recognised by it); reads need no hash. */
  digest: () => string;
  session: SessionReplyKeys | undefined;
}

/**
 * What is known about a request so far, kept also when a later step refuses it: the reply
 * encoding, and (for the audit event) who asked once the credential verified and what
 * was asked once the request object was read. Only this step writes it.
 */
export interface Known {
  encoding: Encoding;
  caller?: Caller;
  request?: AnyRequest;
  /** True once the body parsed as a session envelope (the audit event says so). */
  session?: boolean;
}

export interface AuthenticatorOptions {
  issuers: string[];
  audience: string;
  maxClockSkewMs: number;
  maxEnvelopeBytes: number;
  /**
   * Runs once the credential verified (or a session's ticket named it), before anything
   * else; throws to refuse (revocation plugs in here, for signed and session requests alike).
   */
  checkCaller?: (caller: Caller, nowMs: number) => void;
  /**
   * Signed requests, right before the signature is verified (the costly step): throws to
   * refuse at once a caller that has no room left (src/limits.ts), so a flood of excess
   * requests costs no verification each.
   */
  precheck?: (caller: Caller, op: Op) => void;
  /** Opens session tickets (one per worker, built from the keyring). */
  tickets: TicketBox;
}

export class Authenticator {
  private readonly credentials: CredentialVerifier;
  private readonly sessions: SessionGate;

  constructor(private readonly o: AuthenticatorOptions) {
    this.credentials = new CredentialVerifier(o.issuers, o.maxClockSkewMs);
    // The same checkCaller as signed requests: a revoked credential's sessions stop too.
    this.sessions = new SessionGate({ tickets: o.tickets, issuers: new Set(o.issuers), maxClockSkewMs: o.maxClockSkewMs, checkCaller: o.checkCaller });
  }

  authenticate<O extends Op>(op: O, body: Uint8Array, nowMs: number, known: Known): Authenticated<O> {
    const parsed = readEnvelope(body, known, this.o.maxEnvelopeBytes);
    const { caller, value, digest, session } = parsed.kind === 'signed'
      ? this.signed(op, parsed.envelope, nowMs, known)
      : this.session(op, parsed.envelope, nowMs, known);
    const request = checkRequest(op, value);
    known.request = request;
    checkFreshness(request, this.o.audience, this.o.maxClockSkewMs, nowMs);
    return {
      caller,
      request,
      encoding: known.encoding,
      nonce: {
        callerKeyId: caller.keyId,
        nonce: request.nonce,
        // From the claim on, whatever `ts` says: another worker's clock may see it as fresh for that long.
        ttlMs: 2 * this.o.maxClockSkewMs + NONCE_MARGIN_MS,
        // Only writes keep an outcome to compare a resend against.
        digest: WRITE_OPS.has(op) ? digest() : '',
      },
      session,
    };
  }

  /** The signed-request branch: the credential names the caller, its cnf key signed the payload. */
  private signed(op: Op, envelope: Envelope, nowMs: number, known: Known): Verified {
    const cred = this.credentials.verify(envelope.cred, nowMs);
    const { caller } = cred;
    known.caller = caller;
    this.o.checkCaller?.(caller, nowMs);
    this.o.precheck?.(caller, op);
    if (!verifyBytes(cred.publicKey, signedBytes(envelope.cred, envelope.payload), envelope.sig)) {
      throw new UnauthenticatedError('request signature is invalid');
    }
    const value = decodePayload(envelope.payload, known.encoding);
    return { caller, value, digest: () => requestDigest(envelope.sig), session: undefined };
  }

  /** The session branch (docs/protocol.md §12): the ticket names the caller, its MAC key vouches for the payload. */
  private session(op: Op, envelope: SessionEnvelope, nowMs: number, known: Known): Verified {
    known.session = true;
    const checked = this.sessions.check(op, envelope, known.encoding, nowMs, (caller) => { known.caller = caller; });
    return { caller: checked.caller, value: checked.request, digest: () => checked.digest, session: checked.reply };
  }
}

/** The envelope's structure, after the size cap (so an oversized body costs nothing to refuse). */
export function readEnvelope(body: Uint8Array, known: Known, maxBytes: number): RequestEnvelope {
  if (body.byteLength > maxBytes) throw new TooLargeError(`request body is larger than ${maxBytes} bytes`);
  try {
    return parseRequestEnvelope(body, known.encoding);
  } catch (err) {
    if (err instanceof UndecodableBodyError) known.encoding = 'json'; // docs/protocol.md §3: neither encoding → JSON
    throw err;
  }
}

/** Identifies the exact signed bytes: Ed25519 signatures are deterministic and not malleable. */
export function requestDigest(signature: Uint8Array): string {
  return createHash('sha256').update(signature).digest('base64url').slice(0, 22);
}
