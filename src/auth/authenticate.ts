/**
 * The authentication step: turns (op, body, now) into who asks, the request object typed
 * by its op, the reply encoding and the nonce claim — or throws the protocol error, in
 * this order:
 *
 *   size cap → envelope → credential (cached verify) → caller check (revocation)
 *   → signature over the exact bytes → request object (schema, op = subject)
 *   → aud and ts → nonce claim
 *
 * A session envelope (PROTOCOL.md §12) is meant to be a second branch beside `signed()`,
 * yielding the same { caller, payload, digest } from its ticket and MAC.
 */
import { createHash } from 'node:crypto';
import {
  parseEnvelope, signedBytes, TooLargeError, UndecodableBodyError, UnauthenticatedError, verifyBytes, WRITE_OPS,
  type AnyRequest, type Encoding, type Envelope, type Op, type RequestOf,
} from '@secret-svc/protocol';
import type { Caller, NonceClaim } from './caller.js';
import { CredentialVerifier } from './credentials.js';
import { checkFreshness, readRequest } from './request-object.js';

/**
 * How long past its claim a nonce stays remembered, on top of twice the skew: workers whose
 * clocks differ by up to this much still never accept a nonce twice (PROTOCOL.md §3).
 */
export const NONCE_MARGIN_MS = 10_000;

export interface Authenticated<O extends Op> {
  caller: Caller;
  request: RequestOf<O>;
  encoding: Encoding;
  nonce: NonceClaim;
}

/**
 * What is known about a request so far, kept also when a later step refuses it: the reply
 * encoding, and (for the audit event) who asked once the credential verified and what
 * was asked once the request object was read.
 */
export interface Known {
  encoding: Encoding;
  caller?: Caller;
  request?: AnyRequest;
}

export interface AuthenticatorOptions {
  issuers: string[];
  audience: string;
  maxClockSkewMs: number;
  maxEnvelopeBytes: number;
  /** Runs once the credential verified, before anything else; throws to refuse (the worker's revocation check). */
  checkCaller?: (caller: Caller, nowMs: number) => void;
}

export class Authenticator {
  private readonly credentials: CredentialVerifier;

  constructor(private readonly o: AuthenticatorOptions) {
    this.credentials = new CredentialVerifier(o.issuers, o.maxClockSkewMs);
  }

  authenticate<O extends Op>(op: O, body: Uint8Array, nowMs: number, known: Known): Authenticated<O> {
    const envelope = readEnvelope(body, known, this.o.maxEnvelopeBytes);
    const { caller, payload, digest } = this.signed(envelope, nowMs, known);
    const request = readRequest(op, payload, known.encoding);
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
        digest: WRITE_OPS.has(op) ? digest : '',
      },
    };
  }

  /** The signed-request branch: the credential names the caller, its cnf key signed the payload. */
  private signed(envelope: Envelope, nowMs: number, known: Known): { caller: Caller; payload: Uint8Array; digest: string } {
    const cred = this.credentials.verify(envelope.cred, nowMs);
    const { publicKey: _key, notBeforeMs: _nbf, ...caller } = cred;
    known.caller = caller;
    this.o.checkCaller?.(caller, nowMs);
    if (!verifyBytes(cred.publicKey, signedBytes(envelope.cred, envelope.payload), envelope.sig)) {
      throw new UnauthenticatedError('request signature is invalid');
    }
    return { caller, payload: envelope.payload, digest: requestDigest(envelope.sig) };
  }
}

/** The envelope's structure, after the size cap (so an oversized body costs nothing to refuse). */
export function readEnvelope(body: Uint8Array, known: Known, maxBytes: number): Envelope {
  if (body.byteLength > maxBytes) throw new TooLargeError(`request body is larger than ${maxBytes} bytes`);
  try {
    return parseEnvelope(body, known.encoding);
  } catch (err) {
    if (err instanceof UndecodableBodyError) known.encoding = 'json'; // PROTOCOL.md §3: neither encoding → JSON
    throw err;
  }
}

/** Identifies the exact signed bytes: Ed25519 signatures are deterministic and not malleable. */
export function requestDigest(signature: Uint8Array): string {
  return createHash('sha256').update(signature).digest('base64url').slice(0, 22);
}
